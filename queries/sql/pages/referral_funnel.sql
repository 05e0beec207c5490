-- Grain: one row per segment of $dimension (partner_id, entry_point or channel):
-- helpline cards shown, tapped and confirmed contacts in [$start, $end].
select
    case $dimension when 'partner_id' then partner_id when 'entry_point' then entry_point else channel end as segment,
    sum(count_events) filter (where stage = 'shown')::bigint as count_shown,
    sum(count_events) filter (where stage = 'clicked')::bigint as count_clicked,
    sum(count_events) filter (where stage = 'contacted')::bigint as count_contacted
from mart_referral_daily
where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
group by segment
order by count_shown desc, segment
