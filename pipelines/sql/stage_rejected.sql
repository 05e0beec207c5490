-- The rejected rows of one validated chunk (`checked`, pipelines/stage.py): their codes, user_key
-- as the 32 hex digits the quarantine shows, and their typed values as JSON (the details of their
-- reasons name some: stage_quarantine.sql).
-- Grain: one row per rejected landing row of the chunk.
select _line, codes, format('{:032x}', user_key) as user_hex, to_json(c)::varchar as typed
from checked as c
where len(codes) > 0
