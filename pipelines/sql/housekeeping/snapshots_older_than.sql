-- The snapshots committed before $older_than, never the latest. Compared here, on DuckLake's
-- TIMESTAMPTZ, because ducklake_expire_snapshots(older_than => …) on a SQLite catalog
-- (DuckLake 1.5.5) compares the times as text and expires every snapshot of the cutoff's day.
-- Grain: one row per snapshot to expire.
select snapshot_id
from ducklake_snapshots($lake)
where snapshot_time < $older_than
  and snapshot_id < (select max(snapshot_id) from ducklake_snapshots($lake))
order by snapshot_id
