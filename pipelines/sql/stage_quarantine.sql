-- The rejected rows of one chunk into this load's pending quarantine (pipelines/stage.py): where
-- each was (file, line), its first failing field and reason, every reason, and its values as
-- JSON with user_id replaced by its keyed hash.
-- Grain: one row per rejected landing row.
-- Reads `rejected` (_line, reasons, user_hex) and `rejected_rows` (the chunk's rows of those lines).
insert into temp.main.pending_quarantine_rows
select $load_id, $stream, $path, $sha, c._line, split_part(c.reasons[1], ':', 1), c.reasons[1],
       c.reasons, to_json(v)::varchar
from rejected as c
join (select f.* exclude (_malformed) replace (k.user_hex as user_id)
      from rejected_rows as f join rejected as k using (_line)) as v using (_line)
