-- Grain: one row per campaign day in [$start, $end] × action (CONTRACT §2's seven), every day
-- and action present (0 when nothing happened), so a quiet day reads 0 on the chart.
with counts as (
    select day, action, sum(count_events) as count_events
    from mart_safety_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
    group by all
),
grid as (
    select d.day::date as day, a.action
    from unnest(generate_series($start::date, $end::date, interval 1 day)) as d(day)
    cross join (
        values ('report'), ('block'), ('unblock'), ('comment_filter_on'), ('comment_filter_off'), ('removal'), ('restore')
    ) as a(action)
)
select g.day, g.action, coalesce(c.count_events, 0)::bigint as count_events
from grid as g
left join counts as c using (day, action)
order by g.day, g.action
