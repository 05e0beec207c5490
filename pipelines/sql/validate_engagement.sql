-- Engagement landing rows, typed, with every reason a row cannot be loaded (CONTRACT §2).
-- The shared fields arrive typed from landing_rows.sql.
-- Grain: one row per landing row; `codes` (of its reasons, core/reasons.py) is empty for a valid row.
-- is_campaign: the video carries a tracked hashtag; set here, and recomputed for every row
-- when the tracked hashtags change (pipelines/marts.py build_marts).
with hashtag_values as (  -- a handful of distinct values: parsed once each (file_rows: see landing_rows.sql)
    select raw, hashtags, coalesce(list_has_any(hashtags, $tracked), false) as is_campaign, too_long as hashtags_too_long
    from (
        select raw, length(raw) > 2048 as too_long, case when not too_long then hashtag_list(raw) end as hashtags
        from (select distinct hashtags as raw from file_rows)
    )
),
event_types as (
    select raw, lower(txt(raw)) as event_type from (select distinct event_type as raw from file_rows)
),
surfaces as (
    select raw, coalesce(lower(txt(raw)), 'other') as surface from (select distinct surface as raw from file_rows)
),
typed as (
    select l.* replace (
        et.event_type as event_type,
        txt(l.video_id) as video_id,
        txt(l.creator_id) as creator_id,
        h.hashtags as hashtags,
        sf.surface as surface,
        whole_number(l.watch_time_ms) as watch_time_ms,
        txt(l.partner_id) as partner_id
    ),
    txt(l.watch_time_ms) as watch_time_text,
    h.is_campaign,
    h.hashtags_too_long
    from landing_rows as l
    left join hashtag_values as h on h.raw is not distinct from l.hashtags
    left join event_types as et on et.raw is not distinct from l.event_type
    left join surfaces as sf on sf.raw is not distinct from l.surface
)
select
    *,
    case when _malformed is not null then [_malformed] else reason_list(concat_ws(chr(31),
        common_reasons(event_id, event_time_text, event_at, $now, $earliest,
                       province_text, province, age_band, $age_bands),
        case when user_key is null then 'user_id.missing'
             when user_id_length > 256 then 'user_id.too_long' end,
        case when event_type is null then 'event_type.missing'
             when not list_contains($event_types, event_type) then 'event_type.unknown' end,
        case when video_id is null and list_contains($video_types, event_type)
             then 'video_id.missing'
             when length(video_id) > 256 then 'video_id.too_long' end,
        case when creator_id is null and event_type = 'post' then 'creator_id.missing'
             when length(creator_id) > 256 then 'creator_id.too_long' end,
        case when hashtags_too_long then 'hashtags.too_long' end,
        case when not list_contains($surfaces, surface) then 'surface.unknown' end,
        case when watch_time_text is not null and watch_time_ms is null
             then 'watch_time_ms.not_whole'
             when watch_time_text is not null and not list_contains($watch_types, event_type)
             then 'watch_time_ms.not_allowed' end,
        case when length(partner_id) > 256 then 'partner_id.too_long'
             when partner_id is not null and not list_contains($partners, partner_id)
             then 'partner_id.unknown' end
        )) end as codes
from typed
