-- Rebuilt at each publish for every day in $days, all of them inside [$from_utc, $to_utc)
-- (or for all days when $full): a distinct count does not add up (fold rebuild_days,
-- pipelines/marts.py).
-- Grain: one row per campaign-timezone day × province × age_band × language × creator_id:
-- who posted a campaign video, so the distinct creators of a period read a few thousand rows,
-- not every event. No page lists a creator.
select
    timezone($tz, event_at)::date as day,
    province,
    age_band,
    language,
    creator_id
from engagement_events
where event_type = 'post' and is_campaign
  and ($full or (event_at >= $from_utc and event_at < $to_utc and list_contains($days, timezone($tz, event_at)::date)))
group by all
