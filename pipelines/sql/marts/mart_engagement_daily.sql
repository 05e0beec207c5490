-- Reads new_<stream>_events: every event on a full build, the load's own events on an
-- incremental one, whose rows pipelines/marts.py folds into the mart by its grain (counts and sums add up).
-- Grain: one row per campaign-timezone day × province × age_band × language × event_type
-- × surface × partner_id × is_campaign (the video carries a tracked hashtag).
-- Distinct users (reach) are counted from engagement_events: they do not add up across rows.
select
    campaign_day(event_at, $tz, $utc_offset_us) as day,
    province,
    age_band,
    language,
    event_type,
    surface,
    partner_id,
    is_campaign,
    count(*) as count_events,
    sum(watch_time_ms) as sum_watch_time_ms
from new_engagement_events
group by all
