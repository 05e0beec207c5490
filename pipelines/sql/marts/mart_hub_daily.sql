-- Reads new_<stream>_events: every event on a full build, the load's own events on an
-- incremental one, whose rows pipelines/marts.py folds into the mart by its grain (counts and sums add up).
-- Grain: one row per campaign-timezone day × province × age_band × language × event_type
-- × partner_id, for the four Digital Wellness Hub event types (a partner on tip-video views
-- only): the Hub page's counts and the watch time of tip-video views, so its tiles, daily chart
-- and partner bars read about a hundred thousand rows at 10M events instead of
-- mart_engagement_daily (which also splits by surface and campaign). The watch time
-- is a float, never null (0 for events without one): exact to 2^53 ms (285,000 years), and the
-- lake's Parquet files hold a 128-bit sum as a float anyway; DuckDB 1.5.5 scans a bit-packed
-- 128-bit column holding nulls (mart_engagement_daily's) 25 to 100 times slower than this
-- (measured: 0.69 s for 0.8M rows, against 0.03 s without nulls and 0.006 s as a float).
select
    campaign_day(event_at, $tz, $utc_offset_us) as day,
    province,
    age_band,
    language,
    event_type,
    partner_id,
    count(*) as count_events,
    coalesce(sum(watch_time_ms), 0)::double as sum_watch_time_ms
from new_engagement_events
where event_type in ('hub_visit', 'guide_view', 'tip_video_view', 'screen_time_limit_set')
group by all
order by day  -- so a period's query skips the row groups of other days
