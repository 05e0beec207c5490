-- Grain: one row per file that could not be read at all, or that named unknown columns.
select stream, path, status, reason, unknown_columns, processed_at
from file_ledger
where status = 'unreadable' or len(unknown_columns) > 0
order by processed_at desc, path
