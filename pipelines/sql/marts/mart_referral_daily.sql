-- Rebuilt at each publish for every day in $days, all of them inside [$from_utc, $to_utc)
-- (or for all days when $full). count_users is a distinct count: it does not add up, so this
-- mart is rebuilt for the days a load touched rather than merged (fold rebuild_days,
-- pipelines/marts.py).
-- Grain: one row per campaign-timezone day × province × age_band × language × partner_id
-- × entry_point × channel × stage.
select
    campaign_day(event_at, $tz, $utc_offset_us) as day,
    province,
    age_band,
    language,
    partner_id,
    entry_point,
    channel,
    stage,
    count(*) as count_events,
    count(distinct user_key) as count_users
from referral_events
where $full or (event_at >= $from_utc and event_at < $to_utc and list_contains($days, campaign_day(event_at, $tz, $utc_offset_us)))
group by all
