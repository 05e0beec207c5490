-- This load's rejected rows counted by stream and reason code (pipelines/stage.py
-- _count_and_record: the per-reason counts of `pulse refresh --json`, keyed by core.reasons'
-- summary of each code), as its flushes sent them to the lake (stage_flush_quarantine.sql).
-- Grain: one row per stream × code.
select stream, code, sum(count_rows)::bigint as count_rows from temp.main.load_reason_counts group by all
