-- Shared by the page queries: the sidebar's province / age band / language filter
-- (an empty list means all).
create or replace temp macro keep(province, age_band, language, provinces, age_bands, languages) as
    (len(provinces) = 0 or list_contains(provinces, province))
    and (len(age_bands) = 0 or list_contains(age_bands, age_band))
    and (len(languages) = 0 or list_contains(languages, language));
