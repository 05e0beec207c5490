-- Grain: one row per stream × first reason × file: rejected rows of every load so far.
select stream, reason, file_path, count(*) as count_rows, min(line) as first_line
from quarantine_rows
group by all
order by count_rows desc, stream, reason
