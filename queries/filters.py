"""What a page is filtered by: a campaign-day range and audience segments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from queries.settings import Settings


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    provinces: tuple[str, ...] = ()  # empty: all
    age_bands: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @classmethod
    def default(cls, settings: Settings) -> Filters:
        """Launch to today (or the campaign end), in the campaign timezone."""
        today = settings.today()
        end = min(today, settings.end) if settings.end else today
        return cls(start=min(settings.launch, end), end=end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of equal length just before this one, same segments."""
        return Filters(
            self.start - dt.timedelta(days=self.days),
            self.start - dt.timedelta(days=1),
            self.provinces,
            self.age_bands,
            self.languages,
        )

    def params(self, settings: Settings) -> dict[str, Any]:
        """Bound parameters for the page queries (never formatted into SQL)."""
        tz = settings.tz
        return {
            "start": self.start,
            "end": self.end,
            "from_utc": dt.datetime.combine(self.start, dt.time(), tz),
            "to_utc": dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tz),
            "provinces": list(self.provinces),
            "age_bands": list(self.age_bands),
            "languages": list(self.languages),
            "tracked": sorted(settings.tracked_hashtags),
        }
