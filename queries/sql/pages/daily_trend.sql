-- Grain: one row per campaign day in [$start, $end] × metric, from the marts.
with engagement as (
    select day,
           sum(count_events) filter (where is_campaign and event_type = 'view')::bigint as views,
           sum(count_events) filter (where event_type = 'hub_visit')::bigint as hub_visits
    from mart_engagement_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
    group by day
),
referral as (
    select day, sum(count_events) filter (where stage = 'clicked')::bigint as helpline_clicks
    from mart_referral_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
    group by day
),
safety as (
    select day, sum(count_events) filter (where action = 'report')::bigint as reports
    from mart_safety_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
    group by day
),
days as (
    select unnest(generate_series($start::date, $end::date, interval 1 day))::date as day
),
wide as (
    select d.day, coalesce(e.views, 0) as views, coalesce(e.hub_visits, 0) as hub_visits,
           coalesce(r.helpline_clicks, 0) as helpline_clicks, coalesce(s.reports, 0) as reports
    from days as d
    left join engagement as e using (day)
    left join referral as r using (day)
    left join safety as s using (day)
)
unpivot wide on views, hub_visits, helpline_clicks, reports into name metric value count_events
order by day, metric
