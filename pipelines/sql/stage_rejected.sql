-- The rejected rows of one validated chunk (`checked`, pipelines/stage.py): their codes, user_key
-- as the 32 hex digits the quarantine shows, and as JSON the typed values the details of their
-- reasons may name (event_type, action: core.reasons.PLACEHOLDERS; a stream has one of them or
-- none, so _line keeps the set of columns from being empty; *columns unpacks them into one
-- struct), for stage_quarantine.sql.
-- Grain: one row per rejected landing row of the chunk.
select _line, codes, format('{:032x}', user_key) as user_hex,
       to_json(struct_pack(*columns(c -> c in ('_line', 'event_type', 'action'))))::varchar as typed
from checked
where len(codes) > 0
