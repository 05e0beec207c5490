-- Who posted a campaign video: a set, so a load folds in its own rows that are not there yet
-- (fold merge with nothing to combine, pipelines/marts.py), and the distinct creators of a
-- period read a few thousand rows, not every event. No page lists a creator.
-- Grain: one row per campaign-timezone day × province × age_band × language × creator_id.
select
    campaign_day(event_at, $tz, $utc_offset_us) as day,
    province,
    age_band,
    language,
    creator_id
from new_engagement_events
where event_type = 'post' and is_campaign
group by all
