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
    case when _malformed is not null then [_malformed] else list_filter([
        case when event_id is null then 'event_id: missing'
             when length(event_id) > 128 then 'event_id: longer than 128 characters' end,
        case when event_time_text is null then 'event_time: missing'
             when event_at is null then 'event_time: not ISO-8601 or epoch seconds'
             when event_at > $now + interval 1 day then 'event_time: more than 1 day in the future' end,
        case when user_key is null then 'user_id: missing' end,
        case when province_text is not null and province = 'unknown'
             then 'province: not a code KH-1..KH-25 or a province name' end,
        case when not list_contains($age_bands || ['unknown'], age_band)
             then 'age_band: not one of 18-24, 25-34, 35-44, 45-54, 55+' end,
        case when partner_id is null then 'partner_id: missing'
             when not list_contains($partners, partner_id) then 'partner_id: not a partner in the campaign config' end,
        case when stage is null then 'stage: missing'
             when not list_contains($stages, stage) then 'stage: not one of shown, clicked, contacted' end,
        case when not list_contains($entry_points, entry_point) then 'entry_point: unknown value' end,
        case when not list_contains($channels, channel) then 'channel: unknown value' end
    ], lambda reason: reason is not null) end as reasons
from typed
