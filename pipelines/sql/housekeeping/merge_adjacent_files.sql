-- Small adjacent Parquet files of each table (hourly loads) merged into bigger ones, in one new
-- snapshot; every snapshot's rows stay the same. The merged files are scheduled for deletion.
-- Grain: one row per table and file written.
select table_name, files_processed, files_created from ducklake_merge_adjacent_files($lake)
