-- Files scheduled for deletion (by expiry or a merge) before $older_than, deleted from disk.
-- $older_than must be a UTC midnight less a microsecond: on a SQLite catalog DuckLake 1.5.5
-- compares the schedule times as text, which holds for whole days only (every file of the
-- cutoff's own day would go).
-- Grain: one row per file deleted.
select path from ducklake_cleanup_old_files($lake, older_than => $older_than)
