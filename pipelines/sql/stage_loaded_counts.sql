-- This load's events by stream and file, as its flushes sent them to the lake (pipelines/stage.py
-- _count_and_record: rows loaded; stage_flush_events.sql counted them).
-- Grain: one row per stream × file loaded.
select stream, file_sha256, sum(count_rows)::bigint as count_rows from temp.main.load_loaded_counts group by all
