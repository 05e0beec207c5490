-- Built whole on the first load (or when the timezone or tracked hashtags change, $full);
-- an incremental load folds its own events in (pipelines/refresh.py _merge_mart):
-- merge: add(count_events, sum_watch_time_ms)
-- Grain: one row per campaign-timezone day × province × age_band × language × event_type
-- × surface × partner_id × is_campaign (the video carries a tracked hashtag).
-- Distinct users (reach) are counted from engagement_events: they do not add up across rows.
select
    timezone($tz, event_at)::date as day,
    province,
    age_band,
    language,
    event_type,
    surface,
    partner_id,
    is_campaign,
    count(*) as count_events,
    sum(watch_time_ms) as sum_watch_time_ms
from engagement_events
where $full or (event_at >= $from_utc and event_at < $to_utc and list_contains($days, timezone($tz, event_at)::date))
group by all
