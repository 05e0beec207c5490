-- Grain: one row per campaign day in [$start, $end] × metric, from mart_totals_daily.
with totals as (
    select day,
           sum(count_views)::bigint as views,
           sum(count_hub_visits)::bigint as hub_visits,
           sum(count_helpline_clicks)::bigint as helpline_clicks,
           sum(count_reports)::bigint as reports
    from mart_totals_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
    group by day
),
days as (
    select unnest(generate_series($start::date, $end::date, interval 1 day))::date as day
),
wide as (
    select d.day, coalesce(t.views, 0) as views, coalesce(t.hub_visits, 0) as hub_visits,
           coalesce(t.helpline_clicks, 0) as helpline_clicks, coalesce(t.reports, 0) as reports
    from days as d
    left join totals as t using (day)
)
unpivot wide on views, hub_visits, helpline_clicks, reports into name metric value count_events
order by day, metric
