-- Reads new_<stream>_events: every event on a full build, the load's own events on an
-- incremental one, whose rows pipelines/marts.py folds into the mart by its grain (count_events add up).
-- Grain: one row per stream × campaign-timezone day × hour of day (0-23), for the
-- weekly-rhythm heatmap (day of week × hour).
with events as (
    select 'engagement' as stream, event_at from new_engagement_events
    union all
    select 'referral', event_at from new_referral_events
    union all
    select 'safety', event_at from new_safety_events
)
select
    stream,
    campaign_day(event_at, $tz, $utc_offset_us) as day,
    campaign_hour(event_at, $tz, $utc_offset_us) as hour,
    count(*) as count_events
from events
group by all
