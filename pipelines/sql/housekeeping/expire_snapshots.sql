-- The snapshots $versions (from snapshots_older_than.sql, never empty), expired: time travel to
-- them ends, and the files only they referenced are scheduled for deletion.
-- Grain: one row per expired snapshot.
select snapshot_id from ducklake_expire_snapshots($lake, versions => $versions::ubigint[])
