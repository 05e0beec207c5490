-- The Overview's counted figures (campaign views and posts, Hub visits, helpline clicks,
-- reports), so its tiles and daily trend read a few thousand rows instead of three marts.
-- Counts add up: a load folds in its own rows (new_<stream>_events; fold merge in
-- pipelines/marts.py). A row exists for every day and segment with an event of any stream,
-- counted or not (as the three daily marts have them).
-- Grain: one row per campaign-timezone day × province × age_band × language.
with counted as (
    select campaign_day(event_at, $tz, $utc_offset_us) as day, province, age_band, language,
           count(*) filter (where is_campaign and event_type = 'view') as count_views,
           count(*) filter (where is_campaign and event_type = 'post') as count_campaign_posts,
           count(*) filter (where event_type = 'hub_visit') as count_hub_visits,
           0 as count_helpline_clicks,
           0 as count_reports
    from new_engagement_events
    group by all
    union all
    select campaign_day(event_at, $tz, $utc_offset_us), province, age_band, language, 0, 0, 0,
           count(*) filter (where stage = 'clicked'), 0
    from new_referral_events
    group by all
    union all
    select campaign_day(event_at, $tz, $utc_offset_us), province, age_band, language, 0, 0, 0, 0,
           count(*) filter (where action = 'report')
    from new_safety_events
    group by all
)
select
    day,
    province,
    age_band,
    language,
    sum(count_views)::bigint as count_views,
    sum(count_campaign_posts)::bigint as count_campaign_posts,
    sum(count_hub_visits)::bigint as count_hub_visits,
    sum(count_helpline_clicks)::bigint as count_helpline_clicks,
    sum(count_reports)::bigint as count_reports
from counted
group by all
order by day
