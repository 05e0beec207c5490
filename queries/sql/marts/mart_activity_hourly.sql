-- Built whole on the first load (or when the timezone or tracked hashtags change, $full);
-- an incremental load folds its own events in (pipelines/refresh.py _merge_mart):
-- merge: add(count_events)
-- Grain: one row per stream × campaign-timezone day × hour of day (0-23), for the
-- weekly-rhythm heatmap (day of week × hour).
with events as (
    select 'engagement' as stream, event_at from engagement_events
    union all
    select 'referral', event_at from referral_events
    union all
    select 'safety', event_at from safety_events
)
select
    stream,
    timezone($tz, event_at)::date as day,
    hour(timezone($tz, event_at)) as hour,
    count(*) as count_events
from events
where $full or (event_at >= $from_utc and event_at < $to_utc and list_contains($days, timezone($tz, event_at)::date))
group by all
