"""The label catalog: every word a person reads, in one gettext domain (English is the source
text), for the dashboard and the command line alike.

- `_()` / `gettext()` and `ngettext()` translate a message; `N_()` only marks a literal for
  `pybabel extract` (babel.cfg at the repository root writes `core/locale/messages.pot`).
- `label(kind, code)` is an enum value or page code as a person reads it: entry points,
  channels, policies, actions, event types, surfaces, detections, target types, age bands,
  languages, provinces, stages, streams, the Overview's metrics, weekdays. Every kind's
  English words live in `LABELS` below, and nowhere else.
- `use(lang)` picks the catalog of `locale/<lang>/LC_MESSAGES/messages.mo` for the current
  context (thread or task); English needs no file: NullTranslations returns the source
  text, and so does any message a catalog lacks (a visible English fallback, never blank).
- `rejection_reason(code, **values)` is why a row was rejected (core/reasons.py declares the
  codes and their English words, marked with `N_()`).
- `campaign_time()` writes an instant in campaign time with the zone's name ("1 Dec 2026,
  14:05 ICT"); `zone_place()` names the zone for axis titles ("Cambodia time").

`pulse export` does not use this catalog: its words are frozen for scripts (`SCRIPT_WORDS`).
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
from contextvars import ContextVar, Token
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from core import reasons as rejections
from core import reference as ref

DOMAIN = "messages"
LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"

_current: ContextVar[tuple[str, Path]] = ContextVar("pulse_language", default=(SOURCE_LANGUAGE, LOCALE_DIR))


@cache
def translations(lang: str, locale_dir: Path = LOCALE_DIR) -> _gettext.NullTranslations:
    """The compiled catalog of `lang`, or the source text (English, or no catalog yet)."""
    if lang == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, locale_dir, languages=[lang], fallback=True)


def use(lang: str, locale_dir: Path = LOCALE_DIR) -> Token:
    """Read every following message in `lang` (in this thread or task); returns a token for `reset`."""
    return _current.set((lang, locale_dir))


def reset(token: Token) -> None:
    _current.reset(token)


def language() -> str:
    return _current.get()[0]


_digits: ContextVar[bool] = ContextVar("pulse_khmer_digits", default=False)
KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def use_digits(khmer: bool) -> None:
    """Write the numbers of the following messages in Khmer digits (០១២៣…) in this context."""
    _digits.set(khmer)


def bound(fn):
    """`fn` that reads words and digits as the caller does now, from whichever thread runs it:
    Polars runs `map_elements` functions on its own threads, where this context's language is
    not set (they would read English)."""
    lang, khmer = _current.get(), _digits.get()

    def run(*args):
        token, digits_token = _current.set(lang), _digits.set(khmer)
        try:
            return fn(*args)
        finally:
            _current.reset(token)
            _digits.reset(digits_token)

    return run


def digits(text: str) -> str:
    """`text` with its digits in the chosen script (Khmer digits only when asked for)."""
    return text.translate(KHMER_DIGITS) if _digits.get() else text


def gettext(message: str) -> str:
    return translations(*_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(*_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 (gettext's name for it)
    """Mark a literal for extraction; it is translated where it is read (`label`, `_`)."""
    return message


_ = gettext

UNKNOWN_WORD = N_("Unknown")

# English source words of every code a page shows, by kind.
LABELS: dict[str, dict[str | int, str]] = {
    "entry_point": {
        "search_intervention": N_("Search intervention"),
        "hashtag_page": N_("Hashtag page"),
        "wellness_hub": N_("Wellness Hub"),
        "video_banner": N_("Video banner"),
        "wellbeing_guide": N_("Well-being guide"),
        "other": N_("Other"),
    },
    "channel": {
        "phone": N_("Phone"),
        "chat": N_("Chat"),
        "web": N_("Web"),
        "messaging": N_("Messaging"),
        "other": N_("Other"),
    },
    "policy": {
        "self_harm": N_("Self-harm"),
        "suicide": N_("Suicide"),
        "bullying_harassment": N_("Bullying and harassment"),
        "hate_speech": N_("Hate speech"),
        "misinformation": N_("Misinformation"),
        "dangerous_acts": N_("Dangerous acts"),
        "adult_content": N_("Adult content"),
        "violent_content": N_("Violent content"),
        "spam": N_("Spam"),
        "other": N_("Other"),
        "none": N_("No policy stated"),
    },
    "action": {
        "report": N_("Reports"),
        "block": N_("Blocks"),
        "unblock": N_("Unblocks"),
        "comment_filter_on": N_("Comment filters on"),
        "comment_filter_off": N_("Comment filters off"),
        "removal": N_("Removals"),
        "restore": N_("Restores"),
    },
    "event_type": {
        "view": N_("Views"),
        "like": N_("Likes"),
        "comment": N_("Comments"),
        "share": N_("Shares"),
        "favorite": N_("Favourites"),
        "follow": N_("Follows"),
        "post": N_("Posts"),
        "hub_visit": N_("Hub visits"),
        "guide_view": N_("Guide views"),
        "tip_video_view": N_("Tip-video views"),
        "screen_time_limit_set": N_("Screen-time limits set"),
    },
    "surface": {
        "for_you": N_("For You feed"),
        "following": N_("Following feed"),
        "hashtag_page": N_("Hashtag page"),
        "search": N_("Search"),
        "wellness_hub": N_("Wellness Hub"),
        "profile": N_("Profile"),
        "other": N_("Other"),
    },
    "detection": {"proactive": N_("Found by the platform"), "user_report": N_("Reported by a user")},
    "target_type": {"video": N_("Video"), "comment": N_("Comment"), "account": N_("Account"), "live": N_("Live")},
    "age_band": {
        "18-24": N_("18–24"),
        "25-34": N_("25–34"),
        "35-44": N_("35–44"),
        "45-54": N_("45–54"),
        "55+": N_("55 and over"),
        ref.UNKNOWN: UNKNOWN_WORD,
    },
    "language": {"km": N_("Khmer"), "en": N_("English"), "other": N_("Other"), ref.UNKNOWN: UNKNOWN_WORD},
    # Province names are proper names; the Khmer issue translates them like any other word.
    "province": {code: name for code, name, _ in ref.PROVINCES} | {ref.UNKNOWN: UNKNOWN_WORD},
    "stage": {"shown": N_("Shown"), "clicked": N_("Tapped"), "contacted": N_("Contacted")},
    "stream": {"engagement": N_("Engagement"), "referral": N_("Helpline referrals"), "safety": N_("Safety")},
    "metric": {
        "views": N_("Views of campaign videos"),
        "hub_visits": N_("Wellness Hub visits"),
        "helpline_clicks": N_("Helpline card taps"),
        "reports": N_("Reports"),
    },
    "weekday": {
        1: N_("Monday"),
        2: N_("Tuesday"),
        3: N_("Wednesday"),
        4: N_("Thursday"),
        5: N_("Friday"),
        6: N_("Saturday"),
        7: N_("Sunday"),
    },
    "weekday_short": {1: N_("Mon"), 2: N_("Tue"), 3: N_("Wed"), 4: N_("Thu"), 5: N_("Fri"), 6: N_("Sat"), 7: N_("Sun")},
    "role": {"policy": N_("policy"), "admin": N_("admin"), "partner": N_("partner")},
    "ledger_status": {"unreadable": N_("Could not be read"), "loaded": N_("Read, with unknown columns")},
    "audit_action": {
        "sign_in": N_("Signed in"),
        "sign_in_failed": N_("Sign-in failed"),
        "sign_in_locked": N_("Sign-in refused: locked"),
        "sign_in_refused": N_("Single sign-on refused"),
        "session_expired": N_("Session expired"),
        "session_ended": N_("Session ended"),
        "sign_out": N_("Signed out"),
        "export": N_("Download"),
        "account_added": N_("Account added"),
        "account_removed": N_("Account removed"),
        "password_reset": N_("Password reset"),
        "account_unlocked": N_("Account unlocked"),
    },
    "measure": {
        "shown": N_("Shown"),
        "clicked": N_("Tapped"),
        "contacted": N_("Contacted"),
        "tip_video_views": N_("Tip video views"),
    },
    "dimension": {
        "total": N_("Whole week"),
        "day": N_("Day"),
        "entry_point": N_("Entry point"),
        "channel": N_("Channel"),
        "province": N_("Province"),
        "age_band": N_("Age band"),
        "language": N_("Language"),
    },
}
# Names of provinces are marked for extraction here, one literal each, so the catalog holds them.
_PROVINCE_WORDS = (
    N_("Banteay Meanchey"),
    N_("Battambang"),
    N_("Kampong Cham"),
    N_("Kampong Chhnang"),
    N_("Kampong Speu"),
    N_("Kampong Thom"),
    N_("Kampot"),
    N_("Kandal"),
    N_("Koh Kong"),
    N_("Kratie"),
    N_("Mondulkiri"),
    N_("Phnom Penh"),
    N_("Preah Vihear"),
    N_("Prey Veng"),
    N_("Pursat"),
    N_("Ratanakiri"),
    N_("Siem Reap"),
    N_("Preah Sihanouk"),
    N_("Stung Treng"),
    N_("Svay Rieng"),
    N_("Takeo"),
    N_("Oddar Meanchey"),
    N_("Kep"),
    N_("Pailin"),
    N_("Tbong Khmum"),
)
assert set(_PROVINCE_WORDS) == {name for _, name, _ in ref.PROVINCES}


def label(kind: str, code: str | int | None) -> str:
    """A code as a person reads it, in the current language. A missing code reads "Unknown";
    a code the catalog does not know is shown as it is (visible, never blank)."""
    if code is None:
        return gettext(UNKNOWN_WORD)
    word = LABELS[kind].get(code)
    return gettext(word) if word is not None else str(code)


def labels(kind: str) -> dict[str | int, str]:
    """Every code of a kind with its word, in the current language (for Polars `replace`)."""
    return {code: gettext(word) for code, word in LABELS[kind].items()}


def rejection_reason(code: str | None, **values: str) -> str | None:
    """Why a row was rejected, by its code (core/reasons.py), in the current language: its
    message, and its detail in parentheses with the row's values filled in ("missing (required
    for view)"). None for a code that is not declared (a row stored before codes: show its text)."""
    reason = rejections.BY_CODE.get(code) if code is not None else None
    if reason is None:
        return None
    message = gettext(reason.message)
    if reason.detail is None:
        return message
    return f"{message} ({gettext(reason.detail).format(**{p: values.get(p, '') for p in rejections.PLACEHOLDERS})})"


# --- time ------------------------------------------------------------------------------

# Short names of zones whose tz database abbreviation is only an offset ("+07").
ZONE_ABBREVIATIONS = {
    "Asia/Phnom_Penh": "ICT",
    "Asia/Bangkok": "ICT",
    "Asia/Vientiane": "ICT",
    "Asia/Ho_Chi_Minh": "ICT",
}


def zone_abbreviation(tz: ZoneInfo, at: dt.datetime | None = None) -> str:
    at = (at or dt.datetime.now(dt.UTC)).astimezone(tz)
    name = at.strftime("%Z")
    if name[:1] in "+-" or not name:
        return ZONE_ABBREVIATIONS.get(tz.key, f"UTC{name[:3]}" if name else "UTC")
    return name


def zone_place(tz: ZoneInfo) -> str:
    """'Cambodia time': the zone as a person names it (Babel's CLDR territory of the zone)."""
    from babel import Locale
    from babel.core import get_global

    territory = get_global("zone_territories").get(tz.key)
    place = Locale.parse(language()).territories.get(territory) if territory else None
    return _("{place} time").format(place=place) if place else tz.key


_zone: ContextVar[str] = ContextVar("pulse_zone", default="Asia/Phnom_Penh")


def use_zone(tz: ZoneInfo) -> None:
    """The campaign timezone that `day_title()` and `hour_title()` name (the dashboard sets it
    from the config on every run)."""
    _zone.set(tz.key)


def day_title() -> str:
    """'Day (Cambodia time)': the title of every daily axis."""
    return _("Day ({zone})").format(zone=zone_place(ZoneInfo(_zone.get())))


def hour_title() -> str:
    return _("Hour of day ({zone})").format(zone=zone_place(ZoneInfo(_zone.get())))


def campaign_time(at: dt.datetime, tz: ZoneInfo, seconds: bool = False) -> str:
    """'1 Dec 2026, 14:05 ICT': an instant in campaign time, with the zone's name."""
    local = at.astimezone(tz)
    return digits(
        _("{day} {month} {year}, {time} {zone}").format(
            day=local.day,
            month=label("month_short", local.month),
            year=local.year,
            time=f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}",
            zone=zone_abbreviation(tz, at),
        )
    )


def campaign_date(day: dt.date) -> str:
    """'1 Dec 2026'."""
    return digits(_("{day} {month} {year}").format(day=day.day, month=label("month_short", day.month), year=day.year))


def month_year(month: dt.date) -> str:
    """'October 2026'."""
    return digits(_("{month} {year}").format(month=label("month", month.month), year=month.year))


LABELS["month"] = {
    1: N_("January"),
    2: N_("February"),
    3: N_("March"),
    4: N_("April"),
    5: N_("May"),
    6: N_("June"),
    7: N_("July"),
    8: N_("August"),
    9: N_("September"),
    10: N_("October"),
    11: N_("November"),
    12: N_("December"),
}
LABELS["month_short"] = {
    1: N_("Jan"),
    2: N_("Feb"),
    3: N_("Mar"),
    4: N_("Apr"),
    5: N_("May"),
    6: N_("Jun"),
    7: N_("Jul"),
    8: N_("Aug"),
    9: N_("Sep"),
    10: N_("Oct"),
    11: N_("Nov"),
    12: N_("Dec"),
}


# --- the frozen words of `pulse export` -----------------------------------------------------

# `pulse export` (the CLI) is parsed by scripts: its words stay exactly as they were when the
# catalog was introduced (tests/data/export_tpo_2026-10-12.csv). Never translate or reword these;
# the Khmer issue adds `--lang` for a translated export.
SCRIPT_WORDS: dict[str, dict[str, str]] = {
    "province": {code: name for code, name, _ in ref.PROVINCES} | {ref.UNKNOWN: "Unknown"},
    "language": {"km": "Khmer", "en": "English", "other": "Other", ref.UNKNOWN: "Unknown"},
    "entry_point": {e: e.replace("_", " ").capitalize() for e in ref.ENTRY_POINTS},
    "channel": {c: c.capitalize() for c in ref.CHANNELS},
    "age_band": {a: a for a in ref.AGE_BANDS} | {ref.UNKNOWN: "Unknown"},
    "measure": {"shown": "Shown", "clicked": "Tapped", "contacted": "Contacted", "tip_video_views": "Tip video views"},
    "dimension": {
        "total": "Whole week",
        "day": "Day",
        "entry_point": "Entry point",
        "channel": "Channel",
        "province": "Province",
        "age_band": "Age band",
        "language": "Language",
    },
}


def script_word(dimension: str, category: str) -> str:
    """A category as `pulse export` writes it (frozen): 'Mon 12 Oct' for days."""
    if dimension == "day":
        return f"{dt.date.fromisoformat(category):%a %d %b}"
    if dimension == "total":
        return "Whole week"
    return SCRIPT_WORDS[dimension].get(category, category)


def warm_up() -> None:
    """Load Babel's CLDR data and every compiled catalog once (the dashboard's server calls
    this at start-up, so the first page drawn does not pay for it)."""
    tz = ZoneInfo(_zone.get())
    for lang in (SOURCE_LANGUAGE, *(p.name for p in LOCALE_DIR.iterdir() if p.is_dir())):
        token = use(lang)
        try:
            zone_place(tz)
        finally:
            reset(token)
