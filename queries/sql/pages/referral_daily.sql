-- Grain: one row per campaign day in [$start, $end] × funnel stage (shown, clicked,
-- contacted), every day and stage present (0 when nothing happened), so a quiet day reads 0
-- on the Helpline referrals page's daily charts instead of being skipped by the line.
with counts as (
    select day, stage, sum(count_events) as count_events
    from mart_referral_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
    group by all
),
grid as (
    select d.day::date as day, s.stage
    from unnest(generate_series($start::date, $end::date, interval 1 day)) as d(day)
    cross join (values ('shown'), ('clicked'), ('contacted')) as s(stage)
)
select g.day, g.stage, coalesce(c.count_events, 0)::bigint as count_events
from grid as g
left join counts as c using (day, stage)
order by g.day, g.stage
