-- A person's row depends on all their days and on nobody else's, so a load rebuilds the rows
-- of the people it brought (load_people; fold rebuild_people in pipelines/marts.py) from their
-- rows of the people mart now (new_mart_engagement_people_daily: the whole mart on a full
-- build). The people mart is built before it (its declared depends_on).
-- Grain: one row per user_number (with the day of their second segment): the people of mart_engagement_people_daily seen in more
-- than one segment (province × age band × language), on the day they were first seen in their
-- second one. mart_people_returns counts such a person once per segment; the page queries count
-- them once with a bitmap over their own rows (few: most people keep their segment).
with movers as (  -- of the people in new_mart_engagement_people_daily
    select user_number
    from new_mart_engagement_people_daily
    group by user_number
    having count(distinct (province, age_band, language)) > 1
),
firsts as (  -- the first day of each of their segments
    select user_number, min(day) as first_day
    from new_mart_engagement_people_daily
    where user_number in (select user_number from movers)
    group by user_number, province, age_band, language
),
second_segment as (
    select list_sort(list(first_day))[2] as day, user_number from firsts group by user_number
)
select day, user_number from second_segment
