-- Grain: one row per campaign day in [$start, $end] × funnel stage that had events
-- (queries/pages.py adds the days and values without any, as 0).
select day, stage, sum(count_events)::bigint as count_events
from mart_referral_daily
where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
group by all
order by day, stage
