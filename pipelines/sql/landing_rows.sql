-- The landing rows of one chunk with the fields every stream shares typed, and user_id
-- replaced by its keyed hash (`user_key`; the raw value goes no further):
-- HMAC-SHA-256(key, user_id) = sha256(key ^ opad || sha256(key ^ ipad || user_id)),
-- computed once per distinct id, kept as its first 128 bits (a UHUGEINT: 16 bytes that
-- join and count fast; RFC 2104 allows truncation to half the output or more).
-- Grain: one row per non-blank line of the chunk.

with source as (
    select * from file_rows
),
ids as (  -- read from file_rows, not source: a CTE used once is streamed, not materialised
    select distinct nullif(trim(user_id), '') as raw_id from file_rows where nullif(trim(user_id), '') is not null
),
keyed as (
    select raw_id, ('0x' || left(sha256(k.opad || unhex(sha256(k.ipad || encode(raw_id)))), 32))::uhugeint as user_key
    from ids cross join hmac_key as k
)
select
    source.* exclude (user_id) replace (
        txt(source.event_id) as event_id,
        coalesce(p.code, 'unknown') as province,
        coalesce(txt(source.age_band), 'unknown') as age_band,
        fold_language(source.language) as language
    ),
    keyed.user_key,
    txt(source.event_time) as event_time_text,
    parse_time(source.event_time) as event_at,
    txt(source.province) as province_text
from source
left join keyed on keyed.raw_id = nullif(trim(source.user_id), '')
left join province_lookup as p on p.key = province_key(source.province)
