-- This load's events of one stream by file (pipelines/stage.py _count_and_record: rows loaded).
-- {stream} is one of core.reference.STREAMS.
-- Grain: one row per file loaded into the stream.
select file_sha256, count(*) as count_rows from {stream}_events where load_id = $load_id group by all
