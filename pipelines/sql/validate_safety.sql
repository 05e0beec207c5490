-- Safety (reports, blocks, filters, enforcement) landing rows, typed, with every reason
-- a row cannot be loaded (CONTRACT §2). Grain: one row per landing row.
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
        common_reasons(event_id, event_time_text, event_at, $now, $earliest, $earliest_day,
                       province_text, province, age_band, $age_bands),
        case when user_key is null and not list_contains($platform_actions, action)
             then 'user_id: missing (only removal and restore may leave it empty)'
             when user_id_length > 256 then 'user_id: longer than 256 characters' end,
        case when action is null then 'action: missing'
             when not list_contains($actions, action) then 'action: unknown value' end,
        case when target_type is null then 'target_type: missing'
             when not list_contains($target_types, target_type) then 'target_type: unknown value' end,
        case when target_id is null then 'target_id: missing'
             when length(target_id) > 256 then 'target_id: longer than 256 characters' end,
        case when policy is null and action in ('report', 'removal')
             then 'policy: missing (required for ' || action || ')'
             when policy is not null and not list_contains($policies, policy) then 'policy: unknown value' end,
        case when detection is not null and action is distinct from 'removal'
             then 'detection: only allowed on removals'
             when detection is not null and not list_contains($detections, detection)
             then 'detection: not proactive or user_report' end,
        case when views_text is not null and views_at_action is null
             then 'views_at_action: not a whole number >= 0'
             when views_text is not null and action is distinct from 'removal'
             then 'views_at_action: only allowed on removals' end
        )) end as reasons
from typed
