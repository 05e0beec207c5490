-- The pending rejected rows into the lake (pipelines/stage.py _Pending.flush); then the pending
-- table is emptied.
-- Grain: one row per rejected landing row (quarantine_rows).
insert into quarantine_rows by name from temp.main.pending_quarantine_rows;
delete from temp.main.pending_quarantine_rows;
