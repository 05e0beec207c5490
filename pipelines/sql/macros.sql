-- Macros shared by the validation statements. The session TimeZone is UTC, so an
-- offset-less timestamp is read as UTC (CONTRACT §2).
create or replace temp macro txt(x) as nullif(trim(x), '');

create or replace temp macro parse_time(x) as case
    when regexp_full_match(trim(x), '[0-9]{9,11}(\.[0-9]+)?') then to_timestamp(trim(x)::double)
    when regexp_full_match(
        trim(x), '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)? ?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)?'
    ) then try_cast(trim(x) as timestamptz)
end;

create or replace temp macro fold_language(x) as case
    when txt(x) is null then 'unknown'
    when lower(split_part(trim(x), '-', 1)) in ('km', 'en') then lower(split_part(trim(x), '-', 1))
    else 'other'
end;

create or replace temp macro province_key(x) as lower(regexp_replace(trim(x), '\s+province$', '', 'i'));

-- '#MentalWell #selfcare' or '["MentalWell","selfcare"]' -> ['mentalwell', 'selfcare'].
-- [\pL\pM\pN_] rather than \w: DuckDB's \w is ASCII-only and would drop Khmer tags.
create or replace temp macro hashtag_list(x) as
    list_transform(regexp_extract_all(x, '#?([\pL\pM\pN_]+)', 1), lambda t: lower(t));

create or replace temp macro whole_number(x) as case
    when regexp_full_match(trim(x), '[0-9]{1,18}(\.0+)?') then split_part(trim(x), '.', 1)::bigint  -- exact: no double
end;

-- Every rule emits only the code of its reason, a constant: the declared list (core/reasons.py:
-- field, English message and detail) turns a rejected row's codes into text afterwards
-- (stage_quarantine.sql), so a passing row costs no string building. tests/test_reasons.py
-- checks that every code here is declared and every declared code is emitted.
-- A row's codes are joined by concat_ws (which skips the NULLs of the rules a row passes)
-- and split once at the end: building and filtering a list on every row costs more, and
-- almost every row passes. Codes are ours and never contain chr(31).
-- The reasons every stream shares (CONTRACT §2, common fields); user_id is checked per
-- stream (safety's removal and restore may leave it empty). NULL when the row passes them all.
-- `earliest` is validation.earliest at 00:00 in the campaign timezone: nothing before it is
-- loaded (a year-0 timestamp would come back from DuckDB as a BC string).
-- \p{Cc}: C0 and C1 control characters and DEL (NUL, tab, newline, ESC, U+0085, ...).
create or replace temp macro common_reasons(event_id, event_time_text, event_at, now, earliest,
                                            province_text, province, age_band, age_bands) as nullif(concat_ws(chr(31),
    case when event_id is null then 'event_id.missing'
         when length(event_id) > 128 then 'event_id.too_long'
         when regexp_matches(event_id, '\p{Cc}') then 'event_id.control_characters' end,
    case when event_time_text is null then 'event_time.missing'
         when event_at is null then 'event_time.unreadable'
         when event_at < earliest then 'event_time.before_earliest'
         when event_at > now + interval 1 day then 'event_time.future' end,
    case when province_text is not null and province = 'unknown'
         then 'province.unknown' end,
    case when not list_contains(age_bands || ['unknown'], age_band)
         then 'age_band.unknown' end
), '');

-- The list of codes from the joined text: empty for a valid row.
create or replace temp macro reason_list(joined) as
    case when joined = '' then []::varchar[] else string_split(joined, chr(31)) end;
