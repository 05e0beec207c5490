-- One row: the Overview's headline figures for the filtered period.
-- Distinct people are exact and read no row per person: mart_people_returns counts each person
-- once, on their first day in the period, per segment; the few people seen in several segments
-- (mart_people_movers) are counted once instead with a bitmap over their own days (dense user
-- numbers; $max_user_number bounds the bitmap). Counts come from mart_totals_daily, distinct
-- creators from mart_campaign_creators. No row of a single user leaves this query.
with returns as (
    select
        sum(count_people) filter (where measure = 'reach') as reach,
        sum(count_people) filter (where measure = 'engaged') as engaged,
        sum(count_people) filter (where measure = 'hub') as hub
    from mart_people_returns
    where day between $start and $end and (prev_day < $start or prev_day is null)
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
),
movers as (  -- counted above once per segment they were seen in: the surplus to take off
    select
        people_surplus(user_number, province, age_band, language, has_campaign_view, $max_user_number) as reach,
        people_surplus(user_number, province, age_band, language, has_campaign_engagement, $max_user_number) as engaged,
        people_surplus(user_number, province, age_band, language, has_hub_visit, $max_user_number) as hub
    from mart_engagement_people_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
      and user_number in (select user_number from mart_people_movers)
),
totals as (
    select
        sum(count_views) as views,
        sum(count_campaign_posts) as posts,
        sum(count_helpline_clicks) as clicks,
        sum(count_reports) as reports
    from mart_totals_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
),
creators as (
    select count(distinct creator_id) as creators
    from mart_campaign_creators
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
)
select
    (coalesce(r.reach, 0) - coalesce(m.reach, 0))::bigint as count_unique_reach,
    coalesce(t.views, 0)::bigint as count_views,
    (coalesce(r.engaged, 0) - coalesce(m.engaged, 0))::bigint as count_engaged_users,
    coalesce(t.posts, 0)::bigint as count_campaign_posts,
    c.creators as count_creators,
    (coalesce(r.hub, 0) - coalesce(m.hub, 0))::bigint as count_hub_visitors,
    coalesce(t.clicks, 0)::bigint as count_helpline_clicks,
    coalesce(t.reports, 0)::bigint as count_reports
from returns as r, movers as m, totals as t, creators as c
