-- One row: Digital Wellness Hub figures for the filtered period. Visitors are distinct
-- people, exact, as on the Overview (queries/sql/pages/kpis.sql): mart_people_returns, less
-- the surplus of the people seen in several segments (mart_people_movers); the rest are
-- counts from mart_hub_daily (a row per day, segment, Hub event type and partner), and the
-- watch time of tip-video views (views without one add nothing to it).
with returns as (
    select sum(count_people) as visitors
    from mart_people_returns
    where measure = 'hub' and day between $start and $end and (prev_day < $start or prev_day is null)
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
),
movers as (  -- counted above once per segment they were seen in: the surplus to take off
    select
        people_surplus(user_number, province, age_band, language, true, $max_user_number) as visitors
    from mart_engagement_people_daily
    where day between $start and $end and has_hub_visit
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
      and user_number in (select user_number from mart_people_movers)
),
hub as (
    select
        sum(count_events) filter (where event_type = 'hub_visit') as visits,
        sum(count_events) filter (where event_type = 'guide_view') as guide_views,
        sum(count_events) filter (where event_type = 'tip_video_view') as tip_video_views,
        sum(sum_watch_time_ms) filter (where event_type = 'tip_video_view') as tip_video_watch_time_ms,
        sum(count_events) filter (where event_type = 'screen_time_limit_set') as screen_time_limits
    from mart_hub_daily
    where day between $start and $end
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
)
select
    (coalesce(r.visitors, 0) - coalesce(m.visitors, 0))::bigint as count_hub_visitors,
    coalesce(h.visits, 0)::bigint as count_hub_visits,
    coalesce(h.guide_views, 0)::bigint as count_guide_views,
    coalesce(h.tip_video_views, 0)::bigint as count_tip_video_views,
    coalesce(h.tip_video_watch_time_ms, 0)::double as sum_tip_video_watch_time_ms,  -- a float: sums pass 2^63
    coalesce(h.screen_time_limits, 0)::bigint as count_screen_time_limits
from returns as r, movers as m, hub as h
