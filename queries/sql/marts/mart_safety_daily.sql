-- Grain: one row per campaign-timezone day × province × age_band × language × action
-- × target_type × policy × detection.
create or replace table mart_safety_daily as
select
    timezone($tz, event_at)::date as day,
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
from safety_events
group by all
