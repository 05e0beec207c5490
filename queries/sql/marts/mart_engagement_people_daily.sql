-- Built whole on the first load (or when the timezone or tracked hashtags change, $full);
-- an incremental load folds its own events in (pipelines/refresh.py _merge_mart):
-- merge: or(has_campaign_view, has_campaign_engagement, has_hub_visit)
-- Grain: one row per campaign-timezone day × province × age_band × language × user_number,
-- for the people who viewed or engaged with a campaign video or visited the hub that day.
-- Exact distinct counts (unique reach, engaged people, hub visitors) over any period and
-- segment come from it with bitstring_agg over the dense user_number (see user_numbers in
-- pipelines/sql/schema.sql): no hashing of 128-bit keys, one bit per person. A user number
-- is no user id: nothing maps it back outside the warehouse, and no page lists it.
select
    timezone($tz, e.event_at)::date as day,
    e.province,
    e.age_band,
    e.language,
    u.user_number,
    bool_or(e.is_campaign and e.event_type = 'view') as has_campaign_view,
    bool_or(e.is_campaign and e.event_type in ('like', 'comment', 'share', 'favorite')) as has_campaign_engagement,
    bool_or(e.event_type = 'hub_visit') as has_hub_visit
from engagement_events as e
join user_numbers as u using (user_key)
where (e.is_campaign and e.event_type in ('view', 'like', 'comment', 'share', 'favorite') or e.event_type = 'hub_visit')
  and ($full or (e.event_at >= $from_utc and e.event_at < $to_utc
                 and list_contains($days, timezone($tz, e.event_at)::date)))
group by all
order by day
