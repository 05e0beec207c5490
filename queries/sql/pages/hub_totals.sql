-- One row: Digital Wellness Hub figures for the filtered period (visitors are distinct).
select
    count(distinct user_key) filter (where event_type = 'hub_visit') as count_hub_visitors,
    count(*) filter (where event_type = 'hub_visit') as count_hub_visits,
    count(*) filter (where event_type = 'guide_view') as count_guide_views,
    count(*) filter (where event_type = 'tip_video_view') as count_tip_video_views,
    count(*) filter (where event_type = 'screen_time_limit_set') as count_screen_time_limits
from engagement_events
where event_at >= $from_utc and event_at < $to_utc
  and event_type in ('hub_visit', 'guide_view', 'tip_video_view', 'screen_time_limit_set')
  and keep(province, age_band, language, $provinces, $age_bands, $languages)
