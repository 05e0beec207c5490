-- Grain: one row per file (file_sha256: a file is read once by its content) that could not be
-- read at all, or that named unknown columns. Order: the latest read first, then by path and hash.
select stream, path, file_sha256, status, reason, unknown_columns, processed_at
from file_ledger
where status = 'unreadable' or len(unknown_columns) > 0
order by processed_at desc, path, file_sha256
