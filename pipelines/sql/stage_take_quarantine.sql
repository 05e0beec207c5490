-- One part of a file's rejected rows a stage worker staged (pipelines/stage.py _Pending.take;
-- a Parquet file shaped like pending_quarantine_rows, written by pipelines/stage_file.py Parts)
-- into this load's pending quarantine.
-- Grain: one row per rejected landing row.
insert into temp.main.pending_quarantine_rows by name
from read_parquet($part)
