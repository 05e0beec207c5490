-- A day's rows depend on the days before it (each person's previous day), so a load rebuilds
-- every day from the first one it touched (pipelines/refresh.py _build_marts):
-- rebuild: every day from the first one a load touched
-- It reads mart_engagement_people_daily, which is built before it (marts build in name order).
-- Grain: one row per measure (reach, engaged, hub) × campaign-timezone day × prev_day × province
-- × age_band × language. count_people: the people who had that measure that day in that segment
-- (a campaign view; a like, comment, share or favorite; a Hub visit) and whose previous such day
-- in the same segment was prev_day (null: their first). A person active in a period is counted
-- exactly once on their first day in it, so an exact distinct count over any period and
-- segments is a plain sum, without touching a row per person:
--   sum(count_people) where day between $start and $end and (prev_day < $start or prev_day is null)
-- A person seen in several segments is counted once per segment; mart_people_movers lists
-- them so the page queries can count them once (see queries/sql/pages/kpis.sql).
with rebuilt as not materialized (
    select * from mart_engagement_people_daily where $full or day >= list_min($days)
),
segments as (  -- a small number per segment, so the window below sorts integers, not text
    select province, age_band, language, row_number() over () as segment
    from (select distinct province, age_band, language from rebuilt)
),
earlier as (  -- before the rebuilt days: each person's last day of each measure, per segment
    select
        user_number,
        province,
        age_band,
        language,
        max(day) filter (where has_campaign_view) as view_day,
        max(day) filter (where has_campaign_engagement) as engaged_day,
        max(day) filter (where has_hub_visit) as hub_day
    from mart_engagement_people_daily
    where not $full and day < list_min($days) and user_number in (select user_number from rebuilt where not $full)
    group by all
),
people_days as (
    select r.user_number, s.segment, r.day, r.has_campaign_view, r.has_campaign_engagement, r.has_hub_visit,
           e.view_day, e.engaged_day, e.hub_day
    from rebuilt as r
    join segments as s using (province, age_band, language)
    left join earlier as e using (user_number, province, age_band, language)
),
runs as (
    select 'reach' as measure, segment, day,
           coalesce(lag(day) over (partition by user_number, segment order by day), view_day) as prev_day
    from people_days where has_campaign_view
    union all
    select 'engaged', segment, day,
           coalesce(lag(day) over (partition by user_number, segment order by day), engaged_day)
    from people_days where has_campaign_engagement
    union all
    select 'hub', segment, day,
           coalesce(lag(day) over (partition by user_number, segment order by day), hub_day)
    from people_days where has_hub_visit
)
select measure, day, prev_day, province, age_band, language, count(*) as count_people
from runs
join segments using (segment)
group by all
order by day  -- so a period's query skips the row groups of other days
