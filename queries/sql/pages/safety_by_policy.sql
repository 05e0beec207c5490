-- Grain: one row per action (report, removal) × policy × target type in [$start, $end].
-- Order: by action, the most events first, equal counts by policy then target type.
select action, coalesce(policy, 'none') as policy, target_type, sum(count_events)::bigint as count_events
from mart_safety_daily
where day between $start and $end and action in ('report', 'removal')
  and keep(province, age_band, language, $provinces, $age_bands, $languages)
group by all
order by action, count_events desc, policy, target_type
