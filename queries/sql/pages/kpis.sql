-- One row: the Overview's headline figures for the filtered period.
-- Distinct people come from mart_engagement_people_daily as bitmaps over the dense user
-- numbers (exact; $max_user_number bounds the bitmap); counts from the daily marts; distinct
-- creators from the (few) campaign posts. No row of a single user leaves this query.
with people as (
    select
        bit_count(bitstring_agg(user_number, 1, $max_user_number) filter (where has_campaign_view)) as reach,
        bit_count(bitstring_agg(user_number, 1, $max_user_number) filter (where has_campaign_engagement)) as engaged,
        bit_count(bitstring_agg(user_number, 1, $max_user_number) filter (where has_hub_visit)) as hub
    from mart_engagement_people_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
),
engagement as (
    select
        sum(count_events) filter (where is_campaign and event_type = 'view') as views,
        sum(count_events) filter (where is_campaign and event_type = 'post') as posts
    from mart_engagement_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
),
referral as (
    select sum(count_events) filter (where stage = 'clicked') as clicks
    from mart_referral_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
),
safety as (
    select sum(count_events) filter (where action = 'report') as reports
    from mart_safety_daily
    where day between $start and $end and keep(province, age_band, language, $provinces, $age_bands, $languages)
)
select
    coalesce((select reach from people), 0)::bigint as count_unique_reach,
    coalesce((select views from engagement), 0)::bigint as count_views,
    coalesce((select engaged from people), 0)::bigint as count_engaged_users,
    coalesce((select posts from engagement), 0)::bigint as count_campaign_posts,
    (select count(distinct creator_id) from engagement_events
     where event_at >= $from_utc and event_at < $to_utc and event_type = 'post' and is_campaign
       and keep(province, age_band, language, $provinces, $age_bands, $languages)) as count_creators,
    coalesce((select hub from people), 0)::bigint as count_hub_visitors,
    coalesce((select clicks from referral), 0)::bigint as count_helpline_clicks,
    coalesce((select reports from safety), 0)::bigint as count_reports
