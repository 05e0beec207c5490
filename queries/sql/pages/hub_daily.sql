-- Grain: one row per campaign day in [$start, $end] × Digital Wellness Hub event type that had events
-- (queries/pages.py adds the days and values without any, as 0), from mart_hub_daily.
select day, event_type, sum(count_events)::bigint as count_events
from mart_hub_daily
where day between $start and $end
  and keep(province, age_band, language, $provinces, $age_bands, $languages)
group by all
order by day, event_type
