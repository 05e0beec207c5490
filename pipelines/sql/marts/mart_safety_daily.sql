-- Reads new_<stream>_events: every event on a full build, the load's own events on an
-- incremental one, whose rows pipelines/marts.py folds into the mart by its grain (counts add up).
-- Grain: one row per campaign-timezone day × province × age_band × language × action
-- × target_type × policy × detection.
select
    campaign_day(event_at, $tz, $utc_offset_us) as day,
    province,
    age_band,
    language,
    action,
    target_type,
    policy,
    detection,
    count(*) as count_events,
    count(*) filter (where views_at_action = 0) as count_zero_view,
    count(views_at_action) as count_known_views
from new_safety_events
group by all
