-- The chunk's valid rows (`checked`) into the stream's pending events (pipelines/stage.py
-- _stage_chunk): the first sighting of each event id, leaving out ids this load has already
-- staged (the hash table is built on the chunk) and every later sighting within the chunk.
-- user_key is stored as a UUID (DuckDB writes a UHUGEINT to Parquet as a DOUBLE: it would keep
-- only its top 53 bits); lpad(hex()) gives format('{:032x}')'s text at a third of its cost
-- (0.7 s against 2.3 s a million rows). event_key_hi/lo: the keyed hash of the id, $salt
-- followed by it (pipelines/sql/schema.sql), hashed once in a subquery of `checked` (as a
-- lateral join it was decorrelated into a join of the chunk with itself: 0.8 s a million rows).
-- {stream} is one of core.reference.STREAMS.
-- Grain: one row per new event_id.
insert into temp.main.pending_{stream}_events by name
select c.* exclude (_line, codes, event_md5) replace (lpad(hex(c.user_key), 32, '0')::uuid as user_key),
       $load_id as load_id, $sha as file_sha256,
       (c.event_md5 >> 64)::ubigint as event_key_hi, (c.event_md5 & 18446744073709551615)::ubigint as event_key_lo
from (select *, md5_number($salt || event_id) as event_md5 from checked where len(codes) = 0) as c
anti join temp.main.pending_{stream}_events as p on p.event_id = c.event_id
anti join repeated as r on r.event_id = c.event_id and r.first_line <> c._line
