-- One row: the Overview's headline figures for the filtered period [$from_utc, $to_utc).
-- Distinct counts need event-level rows; no row of a single user leaves this query.
with engagement as (
    select user_key, event_type, creator_id, is_campaign
    from engagement_events
    where event_at >= $from_utc and event_at < $to_utc
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
),
referral as (
    select stage from referral_events
    where event_at >= $from_utc and event_at < $to_utc
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
),
safety as (
    select action from safety_events
    where event_at >= $from_utc and event_at < $to_utc
      and keep(province, age_band, language, $provinces, $age_bands, $languages)
)
select
    (select count(distinct user_key) from engagement where is_campaign and event_type = 'view') as count_unique_reach,
    (select count(*) from engagement where is_campaign and event_type = 'view') as count_views,
    (select count(distinct user_key) from engagement
     where is_campaign and event_type in ('like', 'comment', 'share', 'favorite')) as count_engaged_users,
    (select count(*) from engagement where is_campaign and event_type = 'post') as count_campaign_posts,
    (select count(distinct creator_id) from engagement where is_campaign and event_type = 'post') as count_creators,
    (select count(distinct user_key) from engagement where event_type = 'hub_visit') as count_hub_visitors,
    (select count(*) from referral where stage = 'clicked') as count_helpline_clicks,
    (select count(*) from safety where action = 'report') as count_reports
