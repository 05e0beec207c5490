-- Grain: one row per segment of $dimension (province, age_band or language) for the
-- filtered period: distinct viewers of campaign videos, views and distinct engaged users.
with engagement as (
    select case $dimension when 'province' then province when 'age_band' then age_band else language end as segment,
           user_key, event_type
    from engagement_events
    where event_at >= $from_utc and event_at < $to_utc
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
      and coalesce(list_has_any(hashtags, $tracked), false)
)
select
    segment,
    count(distinct user_key) filter (where event_type = 'view') as count_unique_reach,
    count(*) filter (where event_type = 'view') as count_views,
    count(distinct user_key) filter (where event_type in ('like', 'comment', 'share', 'favorite')) as count_engaged_users
from engagement
group by segment
order by count_unique_reach desc, segment
