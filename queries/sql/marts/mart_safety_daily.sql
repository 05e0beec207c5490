-- Rebuilt at each publish for every day in $days, all of them inside [$from_utc, $to_utc)
-- (or for all days when $full).
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
