-- Engagement landing rows, typed, with every reason a row cannot be loaded (CONTRACT §2).
-- Grain: one row per landing row; `reasons` is empty for a valid row.
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
        lower(txt(r.event_type)) as event_type,
        txt(r.video_id) as video_id,
        txt(r.creator_id) as creator_id,
        hashtag_list(r.hashtags) as hashtags,
        coalesce(lower(txt(r.surface)), 'other') as surface,
        txt(r.watch_time_ms) as watch_time_text,
        whole_number(r.watch_time_ms) as watch_time_ms,
        txt(r.partner_id) as partner_id
    from landing_rows as r
    left join province_lookup as p on p.key = province_key(r.province)
)
select
    *,
    case when _malformed is not null then [_malformed] else list_filter(
        common_reasons(event_id, event_time_text, event_at, $now, province_text, province, age_band, $age_bands)
        || [
            case when user_key is null then 'user_id: missing' end,
            case when event_type is null then 'event_type: missing'
                 when not list_contains($event_types, event_type) then 'event_type: unknown value' end,
            case when video_id is null and list_contains($video_types, event_type)
                 then 'video_id: missing (required for ' || event_type || ')' end,
            case when creator_id is null and event_type = 'post' then 'creator_id: missing (required for post)' end,
            case when not list_contains($surfaces, surface) then 'surface: unknown value' end,
            case when watch_time_text is not null and watch_time_ms is null
                 then 'watch_time_ms: not a whole number >= 0'
                 when watch_time_text is not null and event_type is distinct from 'view'
                 then 'watch_time_ms: only allowed on views' end,
            case when partner_id is not null and not list_contains($partners, partner_id)
                 then 'partner_id: not a partner in the campaign config' end
        ], lambda reason: reason is not null) end as reasons
from typed
