-- Grain: one row per partner organisation: views of the tip videos made with it (mart_hub_daily).
-- Order: the most views first, equal counts by partner id.
select partner_id, sum(count_events)::bigint as count_tip_video_views
from mart_hub_daily
where day between $start and $end and event_type = 'tip_video_view' and partner_id is not null
  and keep(province, age_band, language, $provinces, $age_bands, $languages)
group by partner_id
order by count_tip_video_views desc, partner_id
