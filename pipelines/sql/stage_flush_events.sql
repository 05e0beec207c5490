-- One stream's pending events into the lake (pipelines/stage.py _Pending.flush), first dropping
-- the ids the lake already holds (earlier loads, or this load's earlier flushes: the first
-- sighting wins); then the pending table is emptied. {stream} is one of core.reference.STREAMS.
-- Grain: one row per event (<stream>_events).
delete from temp.main.pending_{stream}_events where event_id in
    (select e.event_id from {stream}_events as e semi join temp.main.pending_{stream}_events as p on p.event_id = e.event_id);
insert into {stream}_events by name from temp.main.pending_{stream}_events;
delete from temp.main.pending_{stream}_events;
