-- Rebuilt at each publish for every day in $days (or for all days when $full), from the daily
-- marts of the three streams, which are built before it (its declared depends_on,
-- pipelines/marts.py).
-- Grain: one row per campaign-timezone day × province × age_band × language: the Overview's
-- counted figures (campaign views and posts, Hub visits, helpline clicks, reports), so its
-- tiles and daily trend read a few thousand rows instead of three marts.
with engagement as (
    select day, province, age_band, language,
           sum(count_events) filter (where is_campaign and event_type = 'view') as count_views,
           sum(count_events) filter (where is_campaign and event_type = 'post') as count_campaign_posts,
           sum(count_events) filter (where event_type = 'hub_visit') as count_hub_visits
    from mart_engagement_daily
    where $full or list_contains($days, day)
    group by all
),
referral as (
    select day, province, age_band, language,
           sum(count_events) filter (where stage = 'clicked') as count_helpline_clicks
    from mart_referral_daily
    where $full or list_contains($days, day)
    group by all
),
safety as (
    select day, province, age_band, language,
           sum(count_events) filter (where action = 'report') as count_reports
    from mart_safety_daily
    where $full or list_contains($days, day)
    group by all
)
select
    day,
    province,
    age_band,
    language,
    coalesce(e.count_views, 0)::bigint as count_views,
    coalesce(e.count_campaign_posts, 0)::bigint as count_campaign_posts,
    coalesce(e.count_hub_visits, 0)::bigint as count_hub_visits,
    coalesce(r.count_helpline_clicks, 0)::bigint as count_helpline_clicks,
    coalesce(s.count_reports, 0)::bigint as count_reports
from engagement as e
full join referral as r using (day, province, age_band, language)
full join safety as s using (day, province, age_band, language)
order by day
