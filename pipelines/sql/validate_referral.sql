-- Referral (helpline funnel) landing rows, typed, with every reason a row cannot be
-- loaded (CONTRACT §2). Grain: one row per landing row; `codes` (of its reasons,
-- core/reasons.py) is empty when valid.
-- The fields every stream shares arrive typed from landing_rows.sql.
with typed as (
    select * replace (
        txt(partner_id) as partner_id,
        lower(txt(stage)) as stage,
        coalesce(lower(txt(entry_point)), 'other') as entry_point,
        coalesce(lower(txt(channel)), 'other') as channel
    )
    from landing_rows
)
select
    *,
    case when _malformed is not null then [_malformed] else reason_list(concat_ws(chr(31),
        common_reasons(event_id, event_time_text, event_at, $now, $earliest,
                       province_text, province, age_band, $age_bands),
        case when user_key is null then 'user_id.missing'
             when user_id_length > 256 then 'user_id.too_long' end,
        case when partner_id is null then 'partner_id.missing'
             when length(partner_id) > 256 then 'partner_id.too_long'
             when not list_contains($partners, partner_id) then 'partner_id.unknown' end,
        case when stage is null then 'stage.missing'
             when not list_contains($stages, stage) then 'stage.unknown' end,
        case when not list_contains($entry_points, entry_point) then 'entry_point.unknown' end,
        case when not list_contains($channels, channel) then 'channel.unknown' end
        )) end as codes
from typed
