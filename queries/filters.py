"""What a page is filtered by: a campaign-day range and audience segments."""

from __future__ import annotations

import dataclasses
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

    def file_name(self, name: str) -> str:
        """`pulse-<name>-<from>_<to>[-<province>…][-<age band>…][-<language>…].csv`: a CSV
        says in its name which period and segments made it."""
        parts = [f"pulse-{name}-{self.start.isoformat()}_{self.end.isoformat()}"]
        parts += [*self.provinces, *self.age_bands, *self.languages]
        return "-".join(parts) + ".csv"


COMPARISONS = {
    "previous": "Previous period of equal length",
    "last_week": "Same days last week",
    "prelaunch": "Pre-launch daily average",
    "none": "No comparison",
}


def _span(f: Filters) -> str:
    return f"{f.start:%d %b %Y}" if f.days == 1 else f"{f.start:%d %b} – {f.end:%d %b %Y}"


def _days(n: int) -> str:
    return "the day" if n == 1 else f"the {n} days"


@dataclass(frozen=True)
class Comparison:
    """What a page's change figures compare: `current` (the period without today's partial
    day) against `baseline` (None: no change is shown, `withheld` says why in words unless
    the person chose no comparison). `per_day` compares daily averages."""

    mode: str
    current: Filters
    baseline: Filters | None
    sentence: str
    withheld: str | None = None
    per_day: bool = False

    def change(self, now: float | None, before: float | None) -> str | None:
        """'+12.5%' of `now` (over `current`) against `before` (over `baseline`), or None."""
        if self.baseline is None or now is None or not before:
            return None
        if self.per_day:
            now, before = now / self.current.days, before / self.baseline.days
        return f"{100 * (now - before) / before:+.1f}%"


def compare(f: Filters, mode: str, launch: dt.date, today: dt.date, first_day: dt.date) -> Comparison:
    """The comparison a person chose (`COMPARISONS`) for the period `f`, made honest:
    today's partial day is left out (a period that is only today is not compared); a
    baseline before the launch (for a period after it) or before the data's first day is
    not compared, with the reason in words; one day reads "the day before"."""
    if mode not in COMPARISONS:
        mode = "previous"
    if mode == "none":
        return Comparison(mode, f, None, "")
    current, partial = f, f.end >= today
    if partial:
        if f.start >= today:
            return Comparison(
                mode,
                f,
                None,
                "",
                "Today is not over: its figures count so far and are not compared with a complete day.",
            )
        current = dataclasses.replace(f, end=today - dt.timedelta(days=1))
    n = current.days
    if mode == "prelaunch":
        if first_day >= launch:
            return Comparison(
                mode,
                current,
                None,
                "",
                f"Changes are not shown: there is no data from before the launch on {launch:%d %b %Y}.",
            )
        baseline = dataclasses.replace(current, start=first_day, end=launch - dt.timedelta(days=1))
        sentence = f"per day, compared with the daily average before launch ({_span(baseline)})"
        return Comparison(
            mode, current, baseline, _partial(sentence, current, today) if partial else sentence, per_day=True
        )
    if mode == "last_week":
        week = dt.timedelta(days=7)
        baseline = dataclasses.replace(current, start=current.start - week, end=current.end - week)
        what = f"the same days last week ({_span(baseline)})"
    else:
        baseline = current.previous()
        what = f"{_days(n)} before ({_span(baseline)})"
    if current.start >= launch > baseline.start:
        which = f"{_days(n)} before this period" if mode == "previous" else "the same days last week"
        verb = ("lies" if n == 1 and mode == "previous" else "lie") + ("" if baseline.end < launch else " partly")
        return Comparison(
            mode,
            current,
            None,
            "",
            f"Changes are not shown: {which} ({_span(baseline)}) {verb} before the launch on {launch:%d %b %Y}, "
            "when the campaign had not started. Compare with the pre-launch daily average instead.",
        )
    if baseline.start < first_day:
        return Comparison(
            mode,
            current,
            None,
            "",
            f"Changes are not shown: the data starts on {first_day:%d %b %Y}, inside "
            f"{'the same days last week' if mode == 'last_week' else _days(n) + ' before this period'}.",
        )
    sentence = f"compared with {what}"
    return Comparison(mode, current, baseline, _partial(sentence, current, today) if partial else sentence)


def _partial(sentence: str, current: Filters, today: dt.date) -> str:
    """The sentence for a period that ends today: the change is over its complete days."""
    complete = "the complete day" if current.days == 1 else f"the {current.days} complete days"
    return (
        f"change over {complete} ({_span(current)}) {sentence}; today, {today:%d %b}, counts so far and is not compared"
    )
