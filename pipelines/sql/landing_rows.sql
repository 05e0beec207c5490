-- The landing rows of one chunk with the fields every stream shares typed, and user_id
-- replaced by its keyed hash (`user_key`; the raw value goes no further). The keys of the
-- chunk's distinct ids come in `keyed_ids` (pipelines/user_keys.py: HMAC-SHA-256, first
-- 128 bits as two UInt64 halves), made one UHUGEINT here: 16 bytes that join and count fast.
-- Fields with few distinct values (province, age band, language) are normalised once per
-- distinct value and joined back: a regex per row costs ten times more.
-- Grain: one row per non-blank line of the chunk.

with source as (
    select * from file_rows
),
keyed as (
    -- the id's length is checked per stream (limit 256); computed here once per distinct id
    select raw_id, (key_hi::uhugeint << 64) + key_lo as user_key, length(raw_id) as user_id_length from keyed_ids
),
provinces as (  -- read from file_rows, not source: a CTE used once is streamed, not materialised
    select d.raw, coalesce(p.code, 'unknown') as province, txt(d.raw) as province_text
    from (select distinct province as raw from file_rows) as d
    left join province_lookup as p on p.key = province_key(d.raw)
),
age_bands as (
    select raw, coalesce(txt(raw), 'unknown') as age_band from (select distinct age_band as raw from file_rows)
),
languages as (
    select raw, fold_language(raw) as language from (select distinct language as raw from file_rows)
)
select
    source.* exclude (user_id) replace (
        txt(source.event_id) as event_id,
        pv.province as province,
        ab.age_band as age_band,
        lg.language as language
    ),
    keyed.user_key,
    keyed.user_id_length,
    txt(source.event_time) as event_time_text,
    parse_time(source.event_time) as event_at,
    pv.province_text
from source
left join keyed on keyed.raw_id = nullif(trim(source.user_id), '')
left join provinces as pv on pv.raw is not distinct from source.province
left join age_bands as ab on ab.raw is not distinct from source.age_band
left join languages as lg on lg.raw is not distinct from source.language
