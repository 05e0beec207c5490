-- Safety (reports, blocks, filters, enforcement) landing rows, typed, with every reason
-- a row cannot be loaded (CONTRACT §2), as `codes` (core/reasons.py; empty when valid).
-- Grain: one row per landing row.
-- The fields every stream shares arrive typed from landing_rows.sql.
with typed as (
    select * replace (
        lower(txt(action)) as action,
        lower(txt(target_type)) as target_type,
        txt(target_id) as target_id,
        lower(txt(policy)) as policy,
        lower(txt(detection)) as detection,
        whole_number(views_at_action) as views_at_action
    ),
    txt(views_at_action) as views_text
    from landing_rows
)
select
    *,
    case when _malformed is not null then [_malformed] else reason_list(concat_ws(chr(31),
        common_reasons(event_id, event_time_text, event_at, $now, $earliest,
                       province_text, province, age_band, $age_bands),
        case when user_key is null and not list_contains($platform_actions, action)
             then 'user_id.missing_not_platform'
             when user_id_length > 256 then 'user_id.too_long' end,
        case when action is null then 'action.missing'
             when not list_contains($actions, action) then 'action.unknown' end,
        case when target_type is null then 'target_type.missing'
             when not list_contains($target_types, target_type) then 'target_type.unknown' end,
        case when target_id is null then 'target_id.missing'
             when length(target_id) > 256 then 'target_id.too_long' end,
        case when policy is null and action in ('report', 'removal')
             then 'policy.missing'
             when policy is not null and not list_contains($policies, policy) then 'policy.unknown' end,
        case when detection is not null and action is distinct from 'removal'
             then 'detection.not_allowed'
             when detection is not null and not list_contains($detections, detection)
             then 'detection.unknown' end,
        case when views_text is not null and views_at_action is null
             then 'views_at_action.not_whole'
             when views_text is not null and action is distinct from 'removal'
             then 'views_at_action.not_allowed' end
        )) end as codes
from typed
