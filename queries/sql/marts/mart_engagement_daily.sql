-- Rebuilt for every day in $days (or all days when $full) at each publish.
-- Grain: one row per campaign-timezone day × province × age_band × language × event_type
-- × surface × partner_id × is_campaign (the video carries a tracked hashtag).
-- count_users is distinct within the row only; use engagement_events for distinct reach.
select
    timezone($tz, event_at)::date as day,
    province,
    age_band,
    language,
    event_type,
    surface,
    partner_id,
    coalesce(list_has_any(hashtags, $tracked), false) as is_campaign,
    count(*) as count_events,
    count(distinct user_key) as count_users,
    sum(watch_time_ms) as sum_watch_time_ms
from engagement_events
where $full or list_contains($days, timezone($tz, event_at)::date)
group by all
