-- The rejected rows of one chunk into this load's pending quarantine (pipelines/stage.py): where
-- each was (file, line), its first failing field and reason, every reason (code and English text),
-- and its values as JSON with user_id replaced by its keyed hash.
-- Grain: one row per rejected landing row.
-- Reads `rejected` (_line, codes, user_hex, typed: some of the row's typed values as JSON; see
-- stage_rejected.sql), `rejected_rows` (the chunk's rows of those lines) and `rejection_reasons`
-- (core/reasons.py: code, field, template; pipelines/lake_write.py prepare). A template's
-- placeholders are core.reasons.PLACEHOLDERS: {earliest} is $earliest (validation.earliest),
-- {event_type} and {action} the row's typed values. Rejected rows are few: the text is built here,
-- not in the validation pass.
insert into temp.main.pending_quarantine_rows by name
with each_code as (
    select _line, unnest(codes) as code, generate_subscripts(codes, 1) as i, typed from rejected
),
rendered as (
    select e._line, e.i, coalesce(t.field, e.code) as field,
           coalesce(replace(replace(replace(t.template,
               '{earliest}', $earliest),
               '{event_type}', coalesce(e.typed ->> 'event_type', '')),
               '{action}', coalesce(e.typed ->> 'action', '')), e.code) as text
    from each_code as e
    left join rejection_reasons as t using (code)
),
by_line as (
    select _line, arg_min(field, i) as field, list(text order by i) as reasons from rendered group by _line
)
select $load_id as load_id, $stream as stream, $path as file_path, $sha as file_sha256, c._line as line,
       r.field, r.reasons[1] as reason, r.reasons, to_json(v)::varchar as row_json,
       c.codes[1] as code, c.codes
from rejected as c
join by_line as r using (_line)
join (select f.* exclude (_malformed) replace (k.user_hex as user_id)
      from rejected_rows as f join rejected as k using (_line)) as v using (_line)
