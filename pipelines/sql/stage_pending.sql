-- This load's rows on their way to the lake (pipelines/stage.py _Pending): temp tables shaped
-- like the lake's, emptied at the start of a load.
-- Grain: one row per event (pending_<stream>_events) or rejected row (pending_quarantine_rows).
create or replace temp table pending_engagement_events as from engagement_events limit 0;
create or replace temp table pending_referral_events as from referral_events limit 0;
create or replace temp table pending_safety_events as from safety_events limit 0;
create or replace temp table pending_quarantine_rows as from quarantine_rows limit 0;
