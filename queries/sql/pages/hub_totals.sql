-- One row: Digital Wellness Hub figures for the filtered period. Visitors are distinct
-- people (bitmap over mart_engagement_people_daily's user numbers); the rest are counts
-- from mart_engagement_daily.
select
    coalesce((select bit_count(bitstring_agg(user_number, 1, $max_user_number))
              from mart_engagement_people_daily
              where day between $start and $end and has_hub_visit
                and keep(province, age_band, language, $provinces, $age_bands, $languages)), 0)::bigint
        as count_hub_visitors,
    coalesce(sum(count_events) filter (where event_type = 'hub_visit'), 0)::bigint as count_hub_visits,
    coalesce(sum(count_events) filter (where event_type = 'guide_view'), 0)::bigint as count_guide_views,
    coalesce(sum(count_events) filter (where event_type = 'tip_video_view'), 0)::bigint as count_tip_video_views,
    coalesce(sum(count_events) filter (where event_type = 'screen_time_limit_set'), 0)::bigint
        as count_screen_time_limits
from mart_engagement_daily
where day between $start and $end
  and event_type in ('hub_visit', 'guide_view', 'tip_video_view', 'screen_time_limit_set')
  and keep(province, age_band, language, $provinces, $age_bands, $languages)
