-- The tables of the lake (core/lake.py). Every loaded row carries the load that added it.
-- user_key is HMAC-SHA-256 of the raw user_id, its first 128 bits as a UUID (16 bytes: a
-- UHUGEINT would be written to Parquet as a DOUBLE); the raw value is stored nowhere
-- (quarantine_rows shows the same 128 bits as 32 hex digits).

create table if not exists engagement_events (
    event_id varchar not null,
    event_at timestamptz not null,      -- UTC
    user_key uuid not null,
    province varchar not null,          -- KH-1 .. KH-25 or 'unknown'
    age_band varchar not null,          -- 18-24 .. 55+ or 'unknown'
    language varchar not null,          -- km, en, other, unknown
    event_type varchar not null,
    video_id varchar,
    creator_id varchar,
    hashtags varchar[],                 -- normalised: lower case, no '#'
    surface varchar not null,
    watch_time_ms bigint,
    partner_id varchar,
    load_id varchar not null,
    file_sha256 varchar not null,
    is_campaign boolean not null,       -- hashtags include a tracked tag (kept in step with the config)
    event_key_hi ubigint,               -- the keyed hash of event_id (see below)
    event_key_lo ubigint
);

create table if not exists referral_events (
    event_id varchar not null,
    event_at timestamptz not null,
    user_key uuid not null,
    province varchar not null,
    age_band varchar not null,
    language varchar not null,
    partner_id varchar not null,
    stage varchar not null,
    entry_point varchar not null,
    channel varchar not null,
    load_id varchar not null,
    file_sha256 varchar not null,
    event_key_hi ubigint,
    event_key_lo ubigint
);

create table if not exists safety_events (
    event_id varchar not null,
    event_at timestamptz not null,
    user_key uuid,                      -- empty for removal / restore (the platform acts)
    province varchar not null,
    age_band varchar not null,
    language varchar not null,
    action varchar not null,
    target_type varchar not null,
    target_id varchar not null,
    policy varchar,
    detection varchar,
    views_at_action bigint,
    load_id varchar not null,
    file_sha256 varchar not null,
    event_key_hi ubigint,
    event_key_lo ubigint
);

-- event_key_hi, event_key_lo: the MD5 of a secret derived from the HMAC key followed by the
-- event id (pipelines/secrets.py event_id_salt), as two 64-bit halves. A load's duplicate check
-- joins on them instead of the ids' text (pipelines/sql/stage_flush_events.sql): the lake's
-- ids need not be read, at a third of the cost. 128 bits, keyed: distinct ids never meet by
-- chance (as user_key), nor by a collision crafted without the key. A lake made before them
-- gains them here; its rows get them once, on its next load (stage_event_keys.sql).
alter table engagement_events add column if not exists event_key_hi ubigint;
alter table engagement_events add column if not exists event_key_lo ubigint;
alter table referral_events add column if not exists event_key_hi ubigint;
alter table referral_events add column if not exists event_key_lo ubigint;
alter table safety_events add column if not exists event_key_hi ubigint;
alter table safety_events add column if not exists event_key_lo ubigint;

-- One row per rejected landing row: where it was, every reason (its code, core/reasons.py, and
-- its English text), and its values (user_id already replaced by its keyed hash).
create table if not exists quarantine_rows (
    load_id varchar not null,
    stream varchar not null,
    file_path varchar not null,
    file_sha256 varchar not null,
    line bigint not null,               -- 1-based as a person counts; CSV header is line 1
    field varchar not null,             -- the first failing field
    reason varchar not null,            -- the first reason, 'field: what is wrong (why)'
    reasons varchar[] not null,         -- every reason
    row_json varchar not null,
    code varchar,                       -- the first reason's code; NULL on rows stored before codes
    codes varchar[]                     -- every reason's code, as `reasons`; NULL on rows stored before codes
);
-- A lake made before the codes gains their columns (its old rows keep NULL: readers show
-- their text); a no-op, and no new snapshot, once they are there.
alter table quarantine_rows add column if not exists code varchar;
alter table quarantine_rows add column if not exists codes varchar[];

-- The ledger: every file ever processed, by content hash, written in the same publish
-- as the rows it accounts for. Unreadable files are here too, with their reason.
create table if not exists file_ledger (
    file_sha256 varchar not null,
    stream varchar not null,
    path varchar not null,
    size_bytes bigint not null,
    mtime_ns bigint not null,
    status varchar not null,            -- 'loaded' or 'unreadable'
    reason varchar,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_duplicate bigint not null,
    rows_quarantined bigint not null,
    unknown_columns varchar[] not null,
    load_id varchar not null,
    processed_at timestamptz not null
);

create table if not exists refresh_runs (
    load_id varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    summary_json varchar not null
);

-- What the marts were built with; a change of either rebuilds them for every day.
create table if not exists mart_state (
    timezone varchar not null,
    tracked_hashtags varchar[] not null
);

-- Partner releases: each partner's figures for one closed week (Monday to Sunday, campaign
-- time), protected once and frozen: later snapshots carry them unchanged, so no two
-- versions of a week can be differenced. One row per cell of a one-way table (measure ×
-- dimension) plus its total (dimension 'total', category 'all'). count_value of a cell that
-- is not 'shown' never leaves queries/partner.py.
create table if not exists partner_releases (
    partner_id varchar not null,
    week_start date not null,           -- a Monday
    measure varchar not null,           -- shown, clicked, contacted, tip_video_views
    dimension varchar not null,         -- total, day, entry_point, channel, province, age_band, language
    category varchar not null,
    count_value bigint not null,
    status varchar not null,            -- shown, small, hidden, withheld (queries/privacy.py)
    min_cell integer not null,
    released_at timestamptz not null,
    load_id varchar not null
);

-- A dense number per engagement user_key (1, 2, ...; never reused or changed), so the page
-- queries count distinct people with a bitmap (bitstring_agg) instead of hashing 128-bit keys.
create table if not exists user_numbers (
    user_key uuid not null,
    user_number uinteger not null
);

-- Facts about the warehouse as a whole, one row per name. `hmac_key_fingerprint`: the
-- fingerprint of the HMAC key every user_key was made with (pipelines/secrets.py; never
-- the key itself); a refresh with a key of another fingerprint stops. One row per name is
-- kept by the refresh (delete, then insert): DuckLake has no PRIMARY KEY.
create table if not exists warehouse_meta (
    name varchar not null,
    value varchar not null
);

-- Alerts (pipelines/alerts.py): one row per incident, an unusual count that lasts, opened,
-- updated while it grows, resolved when the metric is back to normal. Written in the same
-- snapshot as the load whose marts raised it, so it is never half-written.
create table if not exists alert_incidents (
    incident_id varchar not null,       -- metric/partner/place/direction/first day
    metric varchar not null,            -- reports, removals, reports_self_harm, …, helpline_taps, hub_visitors, campaign_views
    partner_id varchar not null,        -- '' for metrics that are not per partner
    place varchar not null,             -- a province code, or 'all'
    direction varchar not null,         -- rise (the day's count) | drop (the 7 days ending that day)
    first_day date not null,            -- campaign-timezone days
    last_day date not null,             -- the last unusual day so far
    peak_day date not null,             -- the day shown in messages and links
    observed bigint not null,           -- at peak_day
    expected double not null,           -- its baseline
    level integer not null,             -- 1: 2x (or 1/2), 2: 4x, 3: 8x …; a rise of level escalates
    status varchar not null,            -- open | resolved
    opened_at timestamptz not null,
    updated_at timestamptz not null,
    resolved_at timestamptz,
    load_id varchar not null            -- the load that last changed it
);

-- The outbox: one message per incident opened or escalated; pipelines/notify.py delivers it
-- after the publish and keeps what each route received in DATA_DIR/alerts/deliveries.json.
create table if not exists alert_messages (
    message_id varchar not null,
    incident_id varchar not null,
    kind varchar not null,              -- opened | escalated
    day date not null,
    observed bigint not null,
    expected double not null,
    level integer not null,
    created_at timestamptz not null,
    load_id varchar not null
);
