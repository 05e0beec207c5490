-- A person's rows depend on all their days and on nobody else's, so a load folds in the
-- difference for the people it brought (load_people): their rows of the people mart now
-- (new_mart_engagement_people_daily: the whole mart on a full build), counted +1, and as they
-- were before this load (people_before), -1 (fold difference_people in pipelines/marts.py).
-- The people mart is built before it (its declared depends_on).
-- Grain: one row per measure (reach, engaged, hub) × campaign-timezone day × prev_day × province
-- × age_band × language. count_people: the people who had that measure that day in that segment
-- (a campaign view; a like, comment, share or favorite; a Hub visit) and whose previous such day
-- in the same segment was prev_day (null: their first). A person active in a period is counted
-- exactly once on their first day in it, so an exact distinct count over any period and
-- segments is a plain sum, without touching a row per person:
--   sum(count_people) where day between $start and $end and (prev_day < $start or prev_day is null)
-- A person seen in several segments is counted once per segment; mart_people_movers lists
-- them so the page queries can count them once (see queries/sql/pages/kpis.sql).
with people as not materialized (
    select *, 1 as sign from new_mart_engagement_people_daily
    union all
    select *, -1 from people_before  -- empty on a full build
),
segments as (  -- a small number per segment, so the window below sorts integers, not text
    select province, age_band, language, row_number() over () as segment
    from (select distinct province, age_band, language from people)
),
people_days as (
    select p.user_number, p.sign, s.segment, p.day, p.has_campaign_view, p.has_campaign_engagement, p.has_hub_visit
    from people as p
    join segments as s using (province, age_band, language)
),
runs as (
    select 'reach' as measure, sign, segment, day,
           lag(day) over (partition by user_number, segment, sign order by day) as prev_day
    from people_days where has_campaign_view
    union all
    select 'engaged', sign, segment, day, lag(day) over (partition by user_number, segment, sign order by day)
    from people_days where has_campaign_engagement
    union all
    select 'hub', sign, segment, day, lag(day) over (partition by user_number, segment, sign order by day)
    from people_days where has_hub_visit
)
select measure, day, prev_day, province, age_band, language, sum(sign)::bigint as count_people
from runs
join segments using (segment)
group by all
having sum(sign) <> 0
order by day  -- so a period's query skips the row groups of other days
