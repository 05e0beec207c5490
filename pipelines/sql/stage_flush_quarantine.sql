-- The pending rejected rows into the lake (pipelines/stage.py _Pending.flush), counted by reason
-- code (load_reason_counts: every row of this load has its codes); then the pending table is
-- emptied.
-- Grain: one row per rejected landing row (quarantine_rows).
insert into temp.main.load_reason_counts
select stream, file_sha256, code, count(*)
from (select stream, file_sha256, unnest(codes) as code from temp.main.pending_quarantine_rows)
group by all;
insert into quarantine_rows by name from temp.main.pending_quarantine_rows;
delete from temp.main.pending_quarantine_rows;
