-- The rejected rows of one chunk into this load's pending quarantine (pipelines/stage.py): where
-- each was (file, line), its first failing field and reason, every reason (code and English text),
-- and its values as JSON with user_id replaced by its keyed hash.
-- Grain: one row per rejected landing row.
-- Reads `rejected` (_line, codes, user_hex, typed: some of the row's typed values as JSON; see
-- stage_rejected.sql), `rejected_rows` (the chunk's rows of those lines) and `rejection_reasons`
-- (core/reasons.py: code, field, template; pipelines/lake_write.py prepare). A template's
-- placeholders are core.reasons.PLACEHOLDERS: {earliest} is $earliest (validation.earliest),
-- {event_type} and {action} the row's typed values. The text is built here, for the rejected
-- rows only, not in the validation pass; a code not declared would be stored as it is.
insert into temp.main.pending_quarantine_rows by name
with declared as (
    select map(list(code), list(template)) as templates, map(list(code), list(field)) as fields
    from rejection_reasons
),
valued as (
    select _line, codes, coalesce(typed ->> 'event_type', '') as event_type, coalesce(typed ->> 'action', '') as action
    from rejected
),
rendered as (
    select c._line, c.codes, coalesce(d.fields[c.codes[1]], c.codes[1]) as field,
           list_transform(c.codes, x -> replace(replace(replace(coalesce(d.templates[x], x),
               '{earliest}', $earliest), '{event_type}', c.event_type), '{action}', c.action)) as reasons
    from valued as c
    cross join declared as d
)
select $load_id as load_id, $stream as stream, $path as file_path, $sha as file_sha256, r._line as line,
       r.field, r.reasons[1] as reason, r.reasons, to_json(v)::varchar as row_json,
       r.codes[1] as code, r.codes
from rendered as r
join (select f.* exclude (_malformed) replace (k.user_hex as user_id)
      from rejected_rows as f join rejected as k using (_line)) as v using (_line)
