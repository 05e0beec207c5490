-- Grain: one row per stream × first reason × file: rejected rows of every load so far.
-- `code` is the first reason's code (core/reasons.py), read in the reader's language; NULL on
-- rows stored before codes, which are shown by their stored `field` and English `reason`.
-- `event_type` and `action`: the row's value, typed as the validation types it, when its
-- reason's detail names it ($event_type_codes, $action_codes; core.reasons.PLACEHOLDERS).
-- A lake not refreshed since the codes came has no code column yet: the union gives NULL.
-- Order: most rows first; equal counts by stream, field, reason, file, then the code and values
-- (every key of the grain, so the order is the same on every reload).
with quarantine as (
    select * from quarantine_rows
    union all by name
    select null::varchar as code where false
)
select stream, code, field, reason,
       case when list_contains($event_type_codes, code) then lower(trim(row_json ->> 'event_type')) end as event_type,
       case when list_contains($action_codes, code) then lower(trim(row_json ->> 'action')) end as action,
       file_path, count(*) as count_rows, min(line) as first_line
from quarantine
group by all
order by count_rows desc, stream, field, reason, file_path, code, event_type, action
