-- Grain: one row per alert incident (pipelines/sql/schema.sql alert_incidents), open ones
-- first, then the most recently changed; only incidents still open or changed since $since.
select incident_id, metric, partner_id, place, direction, first_day, last_day, peak_day,
       observed, expected, level, status, opened_at, updated_at, resolved_at
from alert_incidents
where status = 'open' or updated_at >= $since
order by status = 'open' desc, updated_at desc, incident_id
