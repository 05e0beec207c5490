-- Files under the data path that the catalog does not know (written by a refresh killed before
-- its commit), deleted. Run under the refresh lock only: no writer is adding files meanwhile.
-- Grain: one row per file deleted.
select path from ducklake_delete_orphaned_files($lake, cleanup_all => true)
