-- Detection of unusual counts, run at every publish over the marts of the new snapshot.
-- Grain of the result: one row per metric × partner_id × place × day × direction that is
-- unusual, for the days $first_day .. $last_day (complete campaign-timezone days).
--   metric: reports, removals, reports_self_harm, reports_suicide, removals_self_harm,
--           removals_suicide (mart_safety_daily); helpline_taps, helpline_contacts per partner
--           (mart_referral_daily); hub_visitors (distinct people, mart_engagement_people_daily);
--           campaign_views (mart_totals_daily).
--   place: a province code, or 'all' for the whole country.
--   direction 'rise': the day's count against the median of the same weekday over the
--           previous 4 weeks (robust to the launch spike and to a planted surge);
--   direction 'drop': the 7 days ending that day against the median of the same 7-day
--           windows 1..4 weeks earlier (a drop is sustained, and small daily counts cannot
--           show one), so `observed` and `expected` are 7-day totals.
-- Unusual: beyond the Poisson quantile of the baseline (tail $alpha each side; exact from the
-- pmf below 100, Cornish-Fisher above, with $z the normal quantile of 1 - $alpha), at least
-- $min_count observed for a rise, $min_expected expected (over the 7 days) for a drop, and at
-- least $min_ratio times
-- (or at most 1/$min_ratio of) the baseline.
with safety as (
    select day, province, action, policy, count_events
    from mart_safety_daily
    where action in ('report', 'removal') and day between $first_day - 34 and $last_day
),
counts as (
    select day, province, action || 's' as metric, '' as partner_id, sum(count_events) as n
    from safety group by all
    union all
    select day, province, action || 's_' || policy, '', sum(count_events)
    from safety where policy in ('self_harm', 'suicide') group by all
    union all
    select day, province, case stage when 'clicked' then 'helpline_taps' else 'helpline_contacts' end,
           partner_id, sum(count_events)
    from mart_referral_daily
    where stage in ('clicked', 'contacted') and day between $first_day - 34 and $last_day
    group by all
    union all
    select day, province, 'campaign_views', '', sum(count_views)
    from mart_totals_daily where day between $first_day - 34 and $last_day group by all
),
by_place as (
    select day, metric, partner_id, coalesce(province, 'all') as place, sum(n)::bigint as n
    from counts
    group by grouping sets ((day, metric, partner_id, province), (day, metric, partner_id))
    union all  -- distinct people do not add up across provinces: counted for each place
    select day, 'hub_visitors', '', coalesce(province, 'all'), count(distinct user_number)
    from mart_engagement_people_daily
    where has_hub_visit and day between $first_day - 34 and $last_day
    group by grouping sets ((day, province), (day))
),
bounds as (select min(day) as first_seen from by_place),
series as (select distinct metric, partner_id, place from by_place),
grid as (  -- every series on every day since the data began, zero where nothing happened
    select s.metric, s.partner_id, s.place, g.day::date as day, coalesce(b.n, 0) as n
    from series as s
    cross join bounds
    cross join generate_series(greatest(bounds.first_seen, $first_day - 34), $last_day, interval 1 day) as g(day)
    left join by_place as b on b.metric = s.metric and b.partner_id = s.partner_id and b.place = s.place
                           and b.day = g.day::date
),
weekly as (
    select *, sum(n) over w7 as n7, count(*) over w7 as days7
    from grid
    window w7 as (partition by metric, partner_id, place order by day rows between 6 preceding and current row)
),
baselined as (
    select *,
        list_value(lag(n, 7) over w, lag(n, 14) over w, lag(n, 21) over w, lag(n, 28) over w) as past,
        list_value(lag(n7, 7) over w, lag(n7, 14) over w, lag(n7, 21) over w, lag(n7, 28) over w) as past7,
        lag(days7, 28) over w as past_days7
    from weekly
    window w as (partition by metric, partner_id, place order by day)
),
candidates as (
    select metric, partner_id, place, day, 'rise' as direction, n as observed,
           list_median(past) as expected
    from baselined
    where day between $first_day and $last_day and list_count(past) = 4 and n >= $min_count
    union all
    select metric, partner_id, place, day, 'drop', n7, list_median(past7)
    from baselined
    where day between $first_day and $last_day and list_count(past7) = 4 and past_days7 = 7
      and list_median(past7) >= $min_expected
),
rated as (  -- the Poisson mean: the baseline, at least 0.5 so that a zero baseline is not certainty
    select *, greatest(expected, 0.5) as lam from candidates
    where (direction = 'rise' and observed >= $min_ratio * expected)
       or (direction = 'drop' and observed * $min_ratio <= expected)
),
small_lambdas as (select distinct lam from rated where lam < 100),
pmf as (
    select lam, k, exp(k * ln(lam) - lam - lgamma(k + 1)) as p
    from small_lambdas cross join range(0, 400) as r(k)
    where k <= lam + 12 * sqrt(lam) + 20
),
cdf as (select lam, k, sum(p) over (partition by lam order by k) as c from pmf),
quantiles as (
    select lam,
           min(k) filter (where c >= 1 - $alpha) as q_high,  -- P(X > q_high) <= alpha
           min(k) filter (where c >= $alpha) as q_low        -- P(X < q_low) < alpha
    from cdf group by lam
)
select r.metric, r.partner_id, r.place, r.day, r.direction, r.observed, r.expected,
       case when r.direction = 'rise' then coalesce(q.q_high, ceil(r.lam + $z * sqrt(r.lam) + ($z * $z - 1) / 6))
            else coalesce(q.q_low, floor(r.lam - $z * sqrt(r.lam) + ($z * $z - 1) / 6)) end::bigint as threshold
from rated as r
left join quantiles as q using (lam)
where (r.direction = 'rise' and r.observed > coalesce(q.q_high, ceil(r.lam + $z * sqrt(r.lam) + ($z * $z - 1) / 6)))
   or (r.direction = 'drop' and r.observed < coalesce(q.q_low, floor(r.lam - $z * sqrt(r.lam) + ($z * $z - 1) / 6)))
order by r.metric, r.partner_id, r.place, r.direction, r.day
