-- Shared by the page queries: the sidebar's province / age band / language filter
-- (an empty list means all).
create or replace temp macro keep(province, age_band, language, provinces, age_bands, languages) as
    (len(provinces) = 0 or list_contains(provinces, province))
    and (len(age_bands) = 0 or list_contains(age_bands, age_band))
    and (len(languages) = 0 or list_contains(languages, language));

-- People seen in several segments are counted once per segment by mart_people_returns; over
-- their rows of mart_engagement_people_daily this is the surplus to take off: their
-- (person, segment) pairs minus the people themselves (a bitmap over the dense user numbers).
create or replace temp macro people_surplus(user_number, province, age_band, language, flag, max_user_number) as
    count(distinct (user_number, province, age_band, language)) filter (where flag)
    - coalesce(bit_count(bitstring_agg(user_number, 1, max_user_number) filter (where flag)), 0);
