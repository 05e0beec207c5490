-- Grain: one row per dimension (province, age_band, language) × segment for the filtered
-- period: distinct viewers of campaign videos, views and distinct engaged people. Distinct
-- people come from mart_people_returns (each person counted once, on their first day in the
-- period, per segment; exact), less the surplus of the few people seen in several segments of
-- one breakdown row (mart_people_movers, bitmaps over their own days); views come from
-- mart_totals_daily. Grouping sets serve all three breakdowns at once.
with returns as (
    select
        case when grouping(province) = 0 then 'province' when grouping(age_band) = 0 then 'age_band'
             else 'language' end as dimension,
        coalesce(province, age_band, language) as segment,
        sum(count_people) filter (where measure = 'reach') as reach,
        sum(count_people) filter (where measure = 'engaged') as engaged
    from mart_people_returns
    where measure in ('reach', 'engaged') and day between $start and $end
      and (prev_day < $start or prev_day is null)
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
    group by grouping sets ((province), (age_band), (language))
),
movers as (  -- counted above once per segment they were seen in: the surplus to take off
    select
        case when grouping(province) = 0 then 'province' when grouping(age_band) = 0 then 'age_band'
             else 'language' end as dimension,
        coalesce(province, age_band, language) as segment,
        people_surplus(user_number, province, age_band, language, has_campaign_view, $max_user_number) as reach,
        people_surplus(user_number, province, age_band, language, has_campaign_engagement, $max_user_number) as engaged
    from mart_engagement_people_daily
    where day between $start and $end
      and (has_campaign_view or has_campaign_engagement)
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
      and user_number in (select user_number from mart_people_movers)
    group by grouping sets ((province), (age_band), (language))
),
people as (
    select dimension, segment, r.reach - coalesce(m.reach, 0) as reach, r.engaged - coalesce(m.engaged, 0) as engaged
    from returns as r
    left join movers as m using (dimension, segment)
),
views as (
    select
        case when grouping(province) = 0 then 'province' when grouping(age_band) = 0 then 'age_band'
             else 'language' end as dimension,
        coalesce(province, age_band, language) as segment,
        sum(count_views) as views
    from mart_totals_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
    group by grouping sets ((province), (age_band), (language))
    having sum(count_views) > 0  -- a segment with no campaign view has no views row
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
