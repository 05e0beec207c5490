-- One file's rows of this load out of one table again, pending or already flushed (pipelines/stage.py
-- _Pending.unload). The table (in braces) is <stream>_events or quarantine_rows, or its
-- temp.main.pending_ table, the stream one of core.reference.STREAMS.
-- Grain: one row per event or rejected row of the file in this load.
delete from {table} where load_id = $load_id and file_sha256 = $sha
