-- Grain: one row per campaign-timezone day × province × age_band × language × partner_id
-- × entry_point × channel × stage.
create or replace table mart_referral_daily as
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
group by all
