-- Safety (reports, blocks, filters, enforcement) landing rows, typed, with every reason
-- a row cannot be loaded (CONTRACT §2). Grain: one row per landing row.
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
        lower(txt(r.action)) as action,
        lower(txt(r.target_type)) as target_type,
        txt(r.target_id) as target_id,
        lower(txt(r.policy)) as policy,
        lower(txt(r.detection)) as detection,
        txt(r.views_at_action) as views_text,
        whole_number(r.views_at_action) as views_at_action
    from landing_rows as r
    left join province_lookup as p on p.key = province_key(r.province)
)
select
    *,
    case when _malformed is not null then [_malformed] else list_filter(
        common_reasons(event_id, event_time_text, event_at, $now, province_text, province, age_band, $age_bands)
        || [
            case when user_key is null and not list_contains($platform_actions, action)
                 then 'user_id: missing (only removal and restore may leave it empty)' end,
            case when action is null then 'action: missing'
                 when not list_contains($actions, action) then 'action: unknown value' end,
            case when target_type is null then 'target_type: missing'
                 when not list_contains($target_types, target_type) then 'target_type: unknown value' end,
            case when target_id is null then 'target_id: missing' end,
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
        ], lambda reason: reason is not null) end as reasons
from typed
