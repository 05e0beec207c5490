-- Grain: one row per campaign day in [$start, $end] × Digital Wellness Hub event type, every
-- day and type present (0 when nothing happened), so a quiet day reads 0 on the chart.
with counts as (
    select day, event_type, sum(count_events) as count_events
    from mart_engagement_daily
    where day between $start and $end
      and event_type in ('hub_visit', 'guide_view', 'tip_video_view', 'screen_time_limit_set')
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
    group by all
),
grid as (
    select d.day::date as day, t.event_type
    from unnest(generate_series($start::date, $end::date, interval 1 day)) as d(day)
    cross join (values ('hub_visit'), ('guide_view'), ('tip_video_view'), ('screen_time_limit_set')) as t(event_type)
)
select g.day, g.event_type, coalesce(c.count_events, 0)::bigint as count_events
from grid as g
left join counts as c using (day, event_type)
order by g.day, g.event_type
