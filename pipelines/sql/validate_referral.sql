-- Referral (helpline funnel) landing rows, typed, with every reason a row cannot be
-- loaded (CONTRACT §2). Grain: one row per landing row; `reasons` is empty when valid.
with typed as (
    select
        r._line,
        r._malformed,
        txt(r.event_id) as event_id,
        txt(r.event_time) as event_time_text,
        parse_time(r.event_time) as event_at,
        r.user_id as user_key,
        txt(r.province) as province_text,
        coalesce(p.code, 'unknown') as province,
        coalesce(txt(r.age_band), 'unknown') as age_band,
        fold_language(r.language) as language,
        txt(r.partner_id) as partner_id,
        lower(txt(r.stage)) as stage,
        coalesce(lower(txt(r.entry_point)), 'other') as entry_point,
        coalesce(lower(txt(r.channel)), 'other') as channel
    from landing_rows as r
    left join province_lookup as p on p.key = province_key(r.province)
)
select
    *,
    case when _malformed is not null then [_malformed] else list_filter(
        common_reasons(event_id, event_time_text, event_at, $now, province_text, province, age_band, $age_bands)
        || [
            case when user_key is null then 'user_id: missing' end,
            case when partner_id is null then 'partner_id: missing'
                 when not list_contains($partners, partner_id) then 'partner_id: not a partner in the campaign config' end,
            case when stage is null then 'stage: missing'
                 when not list_contains($stages, stage) then 'stage: not one of shown, clicked, contacted' end,
            case when not list_contains($entry_points, entry_point) then 'entry_point: unknown value' end,
            case when not list_contains($channels, channel) then 'channel: unknown value' end
        ], lambda reason: reason is not null) end as reasons
from typed
