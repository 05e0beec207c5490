-- The campaign-timezone day and hour of an instant, for the marts. `utc_offset_us` is the
-- zone's UTC offset when it is the same over all the rows being built (pipelines/marts.py
-- fixed_utc_offset_us; NULL when it changes, as in a zone with daylight saving time): then
-- plain arithmetic on the epoch, about 16 times cheaper than ICU's conversion (3M rows:
-- 0.1 s against 1.7 s), else timezone(). Both give the same day and hour.
create or replace temp macro campaign_day(ts, tz, utc_offset_us) as case
    when utc_offset_us is null then timezone(tz, ts)::date
    else date '1970-01-01' + ((epoch_us(ts) + utc_offset_us) // 86400000000)::integer end;

create or replace temp macro campaign_hour(ts, tz, utc_offset_us) as case
    when utc_offset_us is null then hour(timezone(tz, ts))
    else ((epoch_us(ts) + utc_offset_us) // 3600000000) % 24 end;
