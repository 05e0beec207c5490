-- Grain: one row per day of week (1 = Monday) × hour of day (campaign time) for the
-- engagement stream in [$start, $end]. The hourly mart has no audience columns, so the
-- province / age / language filters do not apply here (the page says so).
select isodow(day) as day_of_week, hour, sum(count_events)::bigint as count_events
from mart_activity_hourly
where stream = 'engagement' and day between $start and $end
group by all
order by day_of_week, hour
