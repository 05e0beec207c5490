"""What a page is filtered by: a campaign-day range and audience segments."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.labels import N_, _, digits, label, ngettext
from core.settings import Settings


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


COMPARISONS = {  # English source words; read them with `_()`
    "previous": N_("Previous period of equal length"),
    "last_week": N_("Same days last week"),
    "prelaunch": N_("Pre-launch daily average"),
    "none": N_("No comparison"),
}


def day_month(d: dt.date) -> str:
    """'02 Nov'."""
    return digits(_("{day} {month}").format(day=f"{d:%d}", month=label("month_short", d.month)))


def day_month_year(d: dt.date) -> str:
    """'02 Nov 2026'."""
    return digits(_("{day} {month} {year}").format(day=f"{d:%d}", month=label("month_short", d.month), year=d.year))


def span(a: dt.date, b: dt.date) -> str:
    """'02 Nov 2026', or '25 Oct – 31 Oct 2026'."""
    return day_month_year(a) if a == b else _("{start} – {end}").format(start=day_month(a), end=day_month_year(b))


def _span(f: Filters) -> str:
    return span(f.start, f.end)


def _days(n: int) -> str:
    return digits(ngettext("the day", "the {n} days", n).format(n=n))


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
        return digits(f"{100 * (now - before) / before:+.1f}%")


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
                _("Today is not over: its figures count so far and are not compared with a complete day."),
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
                _("Changes are not shown: there is no data from before the launch on {launch}.").format(
                    launch=day_month_year(launch)
                ),
            )
        baseline = dataclasses.replace(current, start=first_day, end=launch - dt.timedelta(days=1))
        sentence = _("per day, compared with the daily average before launch ({span})").format(span=_span(baseline))
        return Comparison(
            mode, current, baseline, _partial(sentence, current, today) if partial else sentence, per_day=True
        )
    if mode == "last_week":
        week = dt.timedelta(days=7)
        baseline = dataclasses.replace(current, start=current.start - week, end=current.end - week)
        what = _("the same days last week ({span})").format(span=_span(baseline))
    else:
        baseline = current.previous()
        what = _("{days} before ({span})").format(days=_days(n), span=_span(baseline))
    if current.start >= launch > baseline.start:
        which = (
            _("{days} before this period").format(days=_days(n)) if mode == "previous" else _("the same days last week")
        )
        one = n == 1 and mode == "previous"
        if baseline.end < launch:
            verb = _("lies before") if one else _("lie before")
        else:
            verb = _("lies partly before") if one else _("lie partly before")
        return Comparison(
            mode,
            current,
            None,
            "",
            _(
                "Changes are not shown: {which} ({span}) {verb} the launch on {launch}, "
                "when the campaign had not started. Compare with the pre-launch daily average instead."
            ).format(which=which, span=_span(baseline), verb=verb, launch=day_month_year(launch)),
        )
    if baseline.start < first_day:
        return Comparison(
            mode,
            current,
            None,
            "",
            _("Changes are not shown: the data starts on {first}, inside {which}.").format(
                first=day_month_year(first_day),
                which=_("the same days last week")
                if mode == "last_week"
                else _("{days} before this period").format(days=_days(n)),
            ),
        )
    sentence = _("compared with {what}").format(what=what)
    return Comparison(mode, current, baseline, _partial(sentence, current, today) if partial else sentence)


def _partial(sentence: str, current: Filters, today: dt.date) -> str:
    """The sentence for a period that ends today: the change is over its complete days."""
    complete = ngettext("the complete day", "the {n} complete days", current.days).format(n=current.days)
    return _("change over {complete} ({span}) {sentence}; today, {today}, counts so far and is not compared").format(
        complete=complete, span=_span(current), sentence=sentence, today=day_month(today)
    )
