-- The landing rows of one file with user_id replaced by its keyed hash:
-- HMAC-SHA-256(key, user_id) = sha256(key ^ opad || sha256(key ^ ipad || user_id)),
-- computed once per distinct id, kept as its first 128 bits (a UHUGEINT: 16 bytes that
-- join and count fast; RFC 2104 allows truncation to half the output or more).
-- Grain: one row per non-blank line of the chunk.

with source as (
    select * from file_rows
),
ids as (
    select distinct nullif(trim(user_id), '') as raw_id from source where nullif(trim(user_id), '') is not null
),
keyed as (
    select raw_id, ('0x' || left(sha256(k.opad || unhex(sha256(k.ipad || encode(raw_id)))), 32))::uhugeint as user_key
    from ids cross join hmac_key as k
)
select source.* replace (keyed.user_key as user_id)
from source
left join keyed on keyed.raw_id = nullif(trim(source.user_id), '')
