-- One row: the first and last campaign-timezone day with any event in the published snapshot
-- (first_day, last_day; null when it is empty), read from the three daily marts.
with days as (
    select min(day) as first_day, max(day) as last_day from mart_engagement_daily
    union all
    select min(day), max(day) from mart_referral_daily
    union all
    select min(day), max(day) from mart_safety_daily
)
select min(first_day) as first_day, max(last_day) as last_day from days
