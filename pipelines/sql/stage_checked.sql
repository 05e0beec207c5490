-- One chunk hashed, typed and validated in one pass (pipelines/stage.py _stage_chunk): the
-- landing rows (landing_rows.sql) through the stream's validation (validate_<stream>.sql), kept
-- with the columns the lake stores. The three names in braces below are filled by stage.py with
-- the texts of those two files and the stream's stored columns (EVENT_COLUMNS): fixed texts.
-- Grain: one row per non-blank line of the chunk; `codes` is empty for a valid row.
create or replace temp table checked as
with landing_rows as ({landing_rows})
select _line, codes, {columns} from ({validate})
