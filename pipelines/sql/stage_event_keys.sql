-- The keyed hash of every event id stored before the lake had one (pipelines/sql/schema.sql:
-- event_key_hi, event_key_lo), once, on the first load after the upgrade (pipelines/stage.py
-- _key_event_ids; a lake migrated from release 1 too). $salt as in stage_events.sql.
-- {stream} is one of core.reference.STREAMS.
-- Grain: one row per event (<stream>_events).
update {stream}_events
set event_key_hi = (md5_number($salt || event_id) >> 64)::ubigint,
    event_key_lo = (md5_number($salt || event_id) & 18446744073709551615)::ubigint
where event_key_hi is null
