-- Grain: one row per dimension (province, age_band, language) × segment for the filtered
-- period: distinct viewers of campaign videos, views and distinct engaged people. Distinct
-- people are bitmaps over the dense user numbers of mart_engagement_people_daily (exact);
-- views come from mart_engagement_daily. Grouping sets serve all three breakdowns at once.
with people as (
    select
        case when grouping(province) = 0 then 'province' when grouping(age_band) = 0 then 'age_band'
             else 'language' end as dimension,
        coalesce(province, age_band, language) as segment,
        bit_count(bitstring_agg(user_number, 1, $max_user_number) filter (where has_campaign_view)) as reach,
        bit_count(bitstring_agg(user_number, 1, $max_user_number) filter (where has_campaign_engagement)) as engaged
    from mart_engagement_people_daily
    where day between $start and $end
      and (has_campaign_view or has_campaign_engagement)
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
    group by grouping sets ((province), (age_band), (language))
),
views as (
    select
        case when grouping(province) = 0 then 'province' when grouping(age_band) = 0 then 'age_band'
             else 'language' end as dimension,
        coalesce(province, age_band, language) as segment,
        sum(count_events) as views
    from mart_engagement_daily
    where day between $start and $end and is_campaign and event_type = 'view'
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
    group by grouping sets ((province), (age_band), (language))
)
select
    dimension,
    segment,
    coalesce(p.reach, 0)::bigint as count_unique_reach,
    coalesce(v.views, 0)::bigint as count_views,
    coalesce(p.engaged, 0)::bigint as count_engaged_users
from people as p
full join views as v using (dimension, segment)
order by dimension, count_unique_reach desc, segment
