-- Built whole on the first load (or when the timezone or tracked hashtags change, $full);
-- an incremental load folds its own events in (pipelines/refresh.py _merge_mart):
-- merge: add(count_events, count_zero_view, count_known_views)
-- Grain: one row per campaign-timezone day × province × age_band × language × action
-- × target_type × policy × detection.
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
where $full or (event_at >= $from_utc and event_at < $to_utc and list_contains($days, timezone($tz, event_at)::date))
group by all
