"""The dashboard's filters (a period and segments) as SQL over the raw event tables, for the tests
that check a page's figures against the events themselves."""

from __future__ import annotations

from typing import Any

from queries.filters import Filters
from tests.test_refresh import SETTINGS

# rows of the period (campaign-timezone days) and of the chosen segments (none chosen: all)
WHERE = (
    "where timezone($tz, event_at)::date between $start and $end "
    "and (len($provinces) = 0 or list_contains($provinces, province)) "
    "and (len($age_bands) = 0 or list_contains($age_bands, age_band)) "
    "and (len($languages) = 0 or list_contains($languages, language))"
)


def params(f: Filters) -> dict[str, Any]:
    """The parameters WHERE names, for `f`."""
    return {
        "tz": SETTINGS.timezone,
        "start": f.start,
        "end": f.end,
        "provinces": list(f.provinces),
        "age_bands": list(f.age_bands),
        "languages": list(f.languages),
    }
