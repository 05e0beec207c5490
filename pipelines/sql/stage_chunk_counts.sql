-- What one validated chunk (`checked`) held (pipelines/stage.py _stage_chunk).
-- Grain: one row: rows read, rows rejected.
select count(*) as count_read, count(*) filter (where len(codes) > 0) as count_rejected from checked
