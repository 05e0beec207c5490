-- Give every engagement user_key not yet numbered the next dense user_number (1, 2, ...),
-- for the exact distinct counts of mart_engagement_people_daily. Numbers never change once
-- given, so an incremental load only numbers the users it brought: new_engagement_events is
-- the load's own rows (every row on a full build; pipelines/marts.py define_new_events).
-- Numbered in user_key order: the same loads give the same numbers, so two warehouses of the
-- same files (embedded, or on PostgreSQL and S3) hold the same marts row for row.
-- Grain: one row per user_key.
insert into user_numbers
select new.user_key, (select coalesce(max(user_number), 0) from user_numbers) + row_number() over (order by new.user_key)
from (select distinct user_key from new_engagement_events) as new
anti join user_numbers using (user_key)
