-- One part of a file a stage worker staged (pipelines/stage.py _Pending.take; the part is a
-- Parquet file shaped like pending_{stream}_events, written by pipelines/stage_file.py Parts)
-- into the stream's pending events, leaving out the ids this load has already staged: the
-- first sighting wins, as when the file is staged here (stage_events.sql). A part holds each
-- id once. {stream} is one of core.reference.STREAMS.
-- Grain: one row per new event_id.
insert into temp.main.pending_{stream}_events by name
select s.*
from read_parquet($part) as s
anti join temp.main.pending_{stream}_events as p on p.event_id = s.event_id
