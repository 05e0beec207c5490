-- This load's rows on their way to the lake (pipelines/stage.py _Pending): temp tables shaped
-- like the lake's, emptied at the start of a load, and the counts of what each flush sent to
-- the lake (stage_flush_*.sql), so the load's counts need not be read back from the lake.
-- Grain: one row per event (pending_<stream>_events) or rejected row (pending_quarantine_rows);
-- load_loaded_counts: one row per flush × stream × file; load_reason_counts: one row per
-- flush × stream × file × reason code.
create or replace temp table pending_engagement_events as from engagement_events limit 0;
create or replace temp table pending_referral_events as from referral_events limit 0;
create or replace temp table pending_safety_events as from safety_events limit 0;
create or replace temp table pending_quarantine_rows as from quarantine_rows limit 0;
create or replace temp table load_loaded_counts (stream varchar, file_sha256 varchar, count_rows bigint);
create or replace temp table load_reason_counts (stream varchar, file_sha256 varchar, code varchar, count_rows bigint);
