-- The event ids a valid row of the chunk (`checked`) repeats, with the line of their first
-- sighting (pipelines/stage.py _stage_chunk): every later sighting is a duplicate. A small table
-- and anti joins: cheaper than a window over the whole chunk.
-- Grain: one row per event_id seen more than once among the chunk's valid rows.
create or replace temp table repeated as
select event_id, min(_line) as first_line
from checked
where len(codes) = 0
group by event_id
having count(*) > 1
