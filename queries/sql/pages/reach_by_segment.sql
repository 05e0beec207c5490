-- Grain: one row per dimension (province, age_band, language) × segment for the filtered
-- period: distinct viewers of campaign videos, views and distinct engaged people. One scan
-- with grouping sets serves all three breakdowns of the Audience page.
select
    case when grouping(province) = 0 then 'province' when grouping(age_band) = 0 then 'age_band'
         else 'language' end as dimension,
    coalesce(province, age_band, language) as segment,
    count(distinct user_key) filter (where event_type = 'view') as count_unique_reach,
    count(*) filter (where event_type = 'view') as count_views,
    count(distinct user_key) filter (where event_type in ('like', 'comment', 'share', 'favorite')) as count_engaged_users
from engagement_events
where event_at >= $from_utc and event_at < $to_utc
  and is_campaign
  and event_type in ('view', 'like', 'comment', 'share', 'favorite')
  and keep(province, age_band, language, $provinces, $age_bands, $languages)
group by grouping sets ((province), (age_band), (language))
order by dimension, count_unique_reach desc, segment
