-- For a snapshot published before mart_hub_daily existed (a lake last refreshed by an older
-- version; the next refresh that loads a file builds it whole): the same rows, made from
-- mart_engagement_daily, as a temp view on this connection, so the Hub page shows the same
-- figures, only slower (queries/pages.py defines it when the mart is missing).
-- Grain: one row per campaign-timezone day × province × age_band × language × Hub event type
-- × partner_id.
create or replace temp view mart_hub_daily as
select
    day,
    province,
    age_band,
    language,
    event_type,
    partner_id,
    sum(count_events)::bigint as count_events,
    coalesce(sum(sum_watch_time_ms), 0)::double as sum_watch_time_ms
from mart_engagement_daily
where event_type in ('hub_visit', 'guide_view', 'tip_video_view', 'screen_time_limit_set')
group by all
