-- One stream's pending events into the lake (pipelines/stage.py _Pending.flush), first dropping
-- the ids the lake already holds (earlier loads, or this load's earlier flushes: the first
-- sighting wins), counts what goes (load_loaded_counts); then the pending table is emptied. The ids are matched by their keyed hash
-- (event_key_hi, event_key_lo: pipelines/sql/schema.sql), so the lake's ids are not read.
-- {stream} is one of core.reference.STREAMS.
-- Grain: one row per event (<stream>_events).
delete from temp.main.pending_{stream}_events as p using (
    select e.event_key_hi, e.event_key_lo from {stream}_events as e
    semi join temp.main.pending_{stream}_events as n
        on n.event_key_hi = e.event_key_hi and n.event_key_lo = e.event_key_lo
) as seen
where p.event_key_hi = seen.event_key_hi and p.event_key_lo = seen.event_key_lo;
insert into temp.main.load_loaded_counts
select '{stream}', file_sha256, count(*) from temp.main.pending_{stream}_events group by all;
insert into {stream}_events by name from temp.main.pending_{stream}_events;
delete from temp.main.pending_{stream}_events;
