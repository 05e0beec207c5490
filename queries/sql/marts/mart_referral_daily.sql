-- Rebuilt for every day in $days (or all days when $full) at each publish.
-- Grain: one row per campaign-timezone day × province × age_band × language × partner_id
-- × entry_point × channel × stage.
select
    timezone($tz, event_at)::date as day,
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
where $full or list_contains($days, timezone($tz, event_at)::date)
group by all
