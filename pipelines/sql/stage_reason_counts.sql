-- This load's rejected rows counted by reason code (pipelines/stage.py _count_and_record: the
-- per-reason counts of `pulse refresh --json`, keyed by core.reasons' summary of each code).
-- Every row of this load has its codes (older rows may not; they are not counted here).
-- Grain: one row per stream × code.
select stream, code, count(*) as count_rows
from (select stream, unnest(codes) as code from quarantine_rows where load_id = $load_id)
group by all
