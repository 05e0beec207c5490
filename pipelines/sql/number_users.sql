-- Give every engagement user_key not yet numbered the next dense user_number (1, 2, ...),
-- for the exact distinct counts of mart_engagement_people_daily. Numbers never change once
-- given, so an incremental load only numbers the users it brought ($full: every user).
insert into user_numbers
select new.user_key, (select coalesce(max(user_number), 0) from user_numbers) + row_number() over ()
from (
    select distinct user_key from engagement_events
    where $full or load_id = $load_id
) as new
anti join user_numbers using (user_key)
