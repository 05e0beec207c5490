-- The raw counts of the weeks being released: helpline cards shown, tapped (clicked) and
-- contacts per partner, and views of each partner's tip videos, from the daily marts.
-- Grain: one row per partner_id × week_start (Monday) × measure × dimension × category with
-- at least one event; queries' privacy rules are applied to them in pipelines/releases.py.
with events as (
    select partner_id, day, stage as measure, province, age_band, language, entry_point, channel, count_events
    from mart_referral_daily
    where list_contains($partners, partner_id) and list_contains($weeks, date_trunc('week', day)::date)
    union all by name
    select partner_id, day, 'tip_video_views' as measure, province, age_band, language, count_events
    from mart_engagement_daily
    where event_type = 'tip_video_view'
      and list_contains($partners, partner_id) and list_contains($weeks, date_trunc('week', day)::date)
),
labelled as (
    select
        partner_id,
        date_trunc('week', day)::date as week_start,
        measure,
        strftime(day, '%Y-%m-%d') as "day",
        province,
        age_band,
        language,
        entry_point,
        channel,
        count_events
    from events
)
select partner_id, week_start, measure, dimension, category, sum(count_events)::bigint as count_value
from (unpivot labelled on "day", province, age_band, language, entry_point, channel into name dimension value category)
group by all
