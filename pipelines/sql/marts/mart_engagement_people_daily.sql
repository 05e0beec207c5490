-- Reads new_<stream>_events: every event on a full build, the load's own events on an
-- incremental one, whose rows pipelines/marts.py folds into the mart by its grain (the has_ flags or together).
-- Grain: one row per campaign-timezone day × province × age_band × language × user_number,
-- for the people who viewed or engaged with a campaign video or visited the hub that day.
-- Exact distinct counts (unique reach, engaged people, hub visitors) over any period and
-- segment come from it with bitstring_agg over the dense user_number (see user_numbers in
-- pipelines/sql/schema.sql): no hashing of 128-bit keys, one bit per person. A user number
-- is no user id: nothing maps it back outside the warehouse, and no page lists it.
select
    campaign_day(e.event_at, $tz, $utc_offset_us) as day,
    e.province,
    e.age_band,
    e.language,
    u.user_number,
    bool_or(e.is_campaign and e.event_type = 'view') as has_campaign_view,
    bool_or(e.is_campaign and e.event_type in ('like', 'comment', 'share', 'favorite')) as has_campaign_engagement,
    bool_or(e.event_type = 'hub_visit') as has_hub_visit
from new_engagement_events as e
join user_numbers as u using (user_key)
where (e.is_campaign and e.event_type in ('view', 'like', 'comment', 'share', 'favorite')) or e.event_type = 'hub_visit'
group by all
order by day
