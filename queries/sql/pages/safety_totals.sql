-- One row: user tools and enforcement in [$start, $end].
select
    coalesce(sum(count_events) filter (where action = 'report')::bigint, 0) as count_reports,
    coalesce(sum(count_events) filter (where action = 'block')::bigint, 0) as count_blocks,
    coalesce(sum(count_events) filter (where action = 'unblock')::bigint, 0) as count_unblocks,
    coalesce(sum(count_events) filter (where action = 'comment_filter_on')::bigint, 0) as count_filters_on,
    coalesce(sum(count_events) filter (where action = 'comment_filter_off')::bigint, 0) as count_filters_off,
    coalesce(sum(count_events) filter (where action = 'removal')::bigint, 0) as count_removals,
    coalesce(sum(count_events) filter (where action = 'removal' and detection = 'proactive')::bigint, 0) as count_proactive,
    coalesce(sum(count_zero_view) filter (where action = 'removal')::bigint, 0) as count_zero_view,
    coalesce(sum(count_known_views) filter (where action = 'removal')::bigint, 0) as count_known_views,
    coalesce(sum(count_events) filter (where action = 'restore')::bigint, 0) as count_restores
from mart_safety_daily
where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
