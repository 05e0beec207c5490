-- A person's row depends on all their days, so a load rebuilds every day from the first one
-- it touched (pipelines/refresh.py _build_marts):
-- rebuild: every day from the first one a load touched
-- It reads mart_engagement_people_daily, which is built before it (marts build in name order).
-- Grain: one row per day × user_number: the people of mart_engagement_people_daily seen in more
-- than one segment (province × age band × language), on the day they were first seen in their
-- second one. mart_people_returns counts such a person once per segment; the page queries count
-- them once with a bitmap over their own rows (few: most people keep their segment).
with touched as not materialized (  -- an incremental load: the people of the rebuilt days
    select distinct user_number from mart_engagement_people_daily where not $full and day >= list_min($days)
),
movers as (
    select user_number
    from mart_engagement_people_daily
    where $full or user_number in (select user_number from touched)
    group by user_number
    having count(distinct (province, age_band, language)) > 1
),
firsts as (  -- the first day of each of their segments
    select user_number, min(day) as first_day
    from mart_engagement_people_daily
    where user_number in (select user_number from movers)
    group by user_number, province, age_band, language
),
second_segment as (
    select list_sort(list(first_day))[2] as day, user_number from firsts group by user_number
)
select day, user_number from second_segment where $full or day >= list_min($days)
