"""Page state: settings, the data dir, the published snapshot, and the filters that live in
the URL. `filters()` is the one place that reads and writes `st.query_params`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import streamlit as st

from core import labels
from core.datadir import DataDir
from core.labels import _
from core.reference import AGE_BANDS, PROVINCES
from core.settings import Settings, load_settings
from dashboard import layout
from queries import pages, partner
from queries.filters import COMPARISONS, Comparison, Filters, compare, span
from queries.warehouse import published_snapshot_id

LANGUAGE_NAMES = labels.LABELS["language"]  # English source words; read them with labels.label("language", …)
PROVINCE_NAMES = labels.LABELS["province"]


def settings() -> Settings:
    """The campaign config (PULSE_CONFIG or ./campaign.toml), read on every run: it is small."""
    return load_settings()


def data_dir() -> DataDir:
    """PULSE_DATA_DIR (set by `pulse dashboard`) or ./data."""
    return DataDir.resolve()


def snapshot_id() -> str | None:
    """The published snapshot, looked up on every run: a refresh shows on the next interaction."""
    return published_snapshot_id(data_dir())


def words() -> str:
    """The language and digits of this run ('km', 'km ០'): part of every cache key."""
    return labels.language() + ("" if labels.digits("0") == "0" else " " + labels.digits("0"))


def load(query: str, snapshot: str | None, f: Filters | None, *args: Any) -> Any:
    """Run one `queries.pages` function on the published snapshot, cached per data dir,
    snapshot, language, filters and arguments (a new snapshot is a new cache key; a result may
    hold words, so one language's result is never served to a session in another)."""
    return _load(query, str(data_dir().root), snapshot, words(), f, *args)


@st.cache_resource(max_entries=2, on_release=pages.Readers.close)
def _readers(root: str, snapshot: str | None) -> pages.Readers:
    """Connections to one published snapshot, shared by every session (a refresh's new
    snapshot is a new key; the one before it is closed once two newer ones were used)."""
    return pages.Readers(DataDir(Path(root)), snapshot)


@st.cache_data(show_spinner=False, max_entries=512)
def _load(query: str, root: str, snapshot: str | None, lang: str, f: Filters | None, *args: Any) -> Any:
    fn = getattr(pages, query)
    with _readers(root, snapshot).connection() as con:
        return fn(con, *args) if f is None else fn(con, settings(), f, *args)


def load_partner(query: str, snapshot: str | None, partner_id: str, *args: Any) -> Any:
    """Run one `queries.partner` function for one partner, cached per data dir, snapshot,
    partner and arguments: a cached result is only ever returned for the same partner id,
    and the partner id comes from the signed-in identity, never from the browser."""
    return _load_partner(query, str(data_dir().root), snapshot, words(), partner_id, *args)


@st.cache_data(show_spinner=False, max_entries=256)
def _load_partner(query: str, root: str, snapshot: str | None, lang: str, partner_id: str, *args: Any) -> Any:
    fn = getattr(partner, query)
    with _readers(root, snapshot).connection() as con:
        return fn(con, partner_id, *args)


def _parse_date(text: str | None, fallback: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(text) if text else fallback
    except ValueError:
        return fallback


def _parse_list(text: str | None, allowed: list[str]) -> list[str]:
    return [v for v in (text or "").split(",") if v in allowed]


SHARED = ("from", "to", "province", "age", "language", "compare", "lang", "digits")  # kept by every page
DISPLAY = ("lang", "digits")  # the interface's language and digits: kept by the portal and the sign-in form too
STORE_KEY = "pulse_view"  # this session's shared parameters; not a widget key, so a page change keeps it
NOTICE_KEY = "pulse_period_notice"  # why the period asked for is not the period shown
FILTER_KEYS = ("f_start", "f_end", "f_province", "f_age", "f_language", "f_compare")


def shared_params() -> dict[str, str]:
    """The filters every page keeps (`SHARED`), as URL parameters: this session's, or on its
    first run the URL's. Sidebar links carry them, so a page change, a reload and a copied
    link all show the same view."""
    state = st.session_state
    if STORE_KEY not in state:
        q = st.query_params
        state[STORE_KEY] = {k: q[k] for k in SHARED if q.get(k)}
    return dict(state[STORE_KEY])


def keep_url(own: dict[str, str] | None = None) -> None:
    """Write the shared filters (and a page's own parameters) to the URL."""
    st.query_params.from_dict({**shared_params(), **{k: v for k, v in (own or {}).items() if v}})


def data_range() -> tuple[dt.date, dt.date] | None:
    """The first and last day with data in the published snapshot."""
    return load("data_range", snapshot_id(), None)


def _span(a: dt.date, b: dt.date) -> str:
    return span(a, b)


def settle() -> None:
    """Move the stored view's period inside the data's days (saying so when a period that was
    asked for moved) and keep the whole view in the URL. `app.py` calls it before drawing the
    sidebar links, so they carry the view as this run shows it."""
    s = settings()
    start, end = _settled(Filters.default(s), data_range())
    st.session_state[STORE_KEY] = {**shared_params(), "from": start.isoformat(), "to": end.isoformat()}
    keep_url()


def _settled(default: Filters, bounds: tuple[dt.date, dt.date] | None) -> tuple[dt.date, dt.date]:
    state, p = st.session_state, shared_params()
    start = _parse_date(p.get("from"), default.start)
    end = _parse_date(p.get("to"), default.end)
    start, end = min(start, end), max(start, end)
    asked = "from" in p or "to" in p
    if bounds:
        lo, hi = bounds
        if end < lo or start > hi:
            shown = (max(lo, min(default.start, hi)), min(hi, max(default.end, lo)))
            if asked:
                state[NOTICE_KEY] = _(
                    "There is no data for {asked}: the data runs from {data}. Showing {shown} instead."
                ).format(asked=_span(start, end), data=_span(lo, hi), shown=_span(*shown))
            start, end = shown
        elif start < lo or end > hi:
            cut = (max(start, lo), min(end, hi))
            if asked:
                state[NOTICE_KEY] = _(
                    "The data runs from {data}, so the period asked for, {asked}, is shown as {shown}."
                ).format(data=_span(lo, hi), asked=_span(start, end), shown=_span(*cut))
            start, end = cut
    return start, end


def _restore(default: Filters, bounds: tuple[dt.date, dt.date] | None) -> None:
    """Set the filter widgets from the stored view (Streamlit drops or resets a widget's own
    state on a page change), with the period inside the data's days."""
    state, p = st.session_state, shared_params()
    state.f_start, state.f_end = _settled(default, bounds)
    state.f_province = _parse_list(p.get("province"), PROVINCE_CODES)
    state.f_age = _parse_list(p.get("age"), AGE_CODES)
    state.f_language = _parse_list(p.get("language"), list(LANGUAGE_NAMES))
    state.f_compare = p.get("compare") if p.get("compare") in COMPARISONS else "previous"


def _changed(dates: bool = False) -> None:
    """Widget callback: a person changed a filter; the session's view takes it (Streamlit may
    drop or reset a widget's own state on another page, never this view)."""
    state = st.session_state
    if dates:
        state.pop(NOTICE_KEY, None)
    values = {
        "from": state.get("f_start"),
        "to": state.get("f_end"),
        "province": state.get("f_province"),
        "age": state.get("f_age"),
        "language": state.get("f_language"),
        "compare": state.get("f_compare"),
    }
    _store(
        {
            k: v.isoformat() if isinstance(v, dt.date) else ",".join(v) if isinstance(v, list) else v
            for k, v in values.items()
            if v is not None
        },
        url=False,
    )


def _reset() -> None:
    state = st.session_state
    for key in (*FILTER_KEYS, NOTICE_KEY):
        state.pop(key, None)
    state[STORE_KEY] = display_params()  # "Reset filters" keeps the language


PROVINCE_CODES = [p[0] for p in PROVINCES] + ["unknown"]
AGE_CODES = [*AGE_BANDS, "unknown"]


def filters() -> Filters:
    """Sidebar filters, kept in this session's view and in the URL, so they survive page
    changes, reloads and copied links. The date pickers are bounded by the data's first and
    last day; a period outside them is moved inside and the page says so."""
    s = settings()
    default = Filters.default(s)
    bounds = data_range()
    state = st.session_state
    _restore(default, bounds)  # every run: the view is the truth, the widgets show it
    lo, hi = bounds or (None, None)
    with st.sidebar:
        st.header(_("Filters"))
        st.date_input(
            _("From"), key="f_start", format="YYYY-MM-DD", min_value=lo, max_value=hi, on_change=_changed, args=(True,)
        )
        st.date_input(
            _("To"), key="f_end", format="YYYY-MM-DD", min_value=lo, max_value=hi, on_change=_changed, args=(True,)
        )
        st.multiselect(
            _("Province"),
            PROVINCE_CODES,
            key="f_province",
            format_func=lambda c: labels.label("province", c),
            placeholder=_("All provinces"),
            on_change=_changed,
        )
        st.multiselect(
            _("Age band"),
            AGE_CODES,
            key="f_age",
            format_func=lambda c: labels.label("age_band", c),
            placeholder=_("All ages"),
            on_change=_changed,
        )
        st.multiselect(
            _("Language"),
            list(LANGUAGE_NAMES),
            key="f_language",
            format_func=lambda c: labels.label("language", c),
            placeholder=_("All languages"),
            on_change=_changed,
        )
        st.button(_("Reset filters"), on_click=_reset)
    start, end = state.f_start, state.f_end
    if start > end:
        start, end = end, start
    notice = state.get(NOTICE_KEY)
    if notice:
        st.warning(notice, icon=":material/event_busy:")
    f = Filters(start, end, tuple(state.f_province), tuple(state.f_age), tuple(state.f_language))
    layout.print_header(_("Filters: {view}").format(view=describe(f)))
    _store(
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "province": ",".join(state.f_province),
            "age": ",".join(state.f_age),
            "language": ",".join(state.f_language),
        }
    )
    return f


def _store(values: dict[str, str], url: bool = True) -> None:
    view = {**shared_params(), **values}
    st.session_state[STORE_KEY] = {k: v for k, v in view.items() if v}
    if url:
        keep_url()


def comparison(f: Filters) -> Comparison:
    """The "Compare with" choice (in the sidebar and the URL, `compare`) made into a
    `Comparison` for the period `f` (queries/filters.py `compare`)."""
    s = settings()
    state = st.session_state
    p = shared_params()
    state.f_compare = p.get("compare") if p.get("compare") in COMPARISONS else "previous"
    st.sidebar.selectbox(
        _("Compare with"),
        list(COMPARISONS),
        key="f_compare",
        format_func=lambda c: _(COMPARISONS[c]),
        on_change=_changed,
    )
    _store({"compare": state.f_compare})
    bounds = data_range()
    first = bounds[0] if bounds else f.start
    return compare(f, state.f_compare, s.launch, s.today(), first)


def partner_view(weeks: list[dt.date], present: dict[str, list[str]]) -> tuple[dt.date, str, list[str]]:
    """The partner portal's week, breakdown and "show only" values, initialised from the URL
    (`week`, `by`, `only`) once per session and written back to it. Only this partner's
    released weeks and present values can be chosen; anything else in the URL is dropped."""
    state = st.session_state
    if "p_week" not in state:
        q = st.query_params
        wanted = _parse_date(q.get("week"), weeks[0])
        state.p_week = wanted if wanted in weeks else weeks[0]
        state.p_by = q.get("by") if q.get("by") in partner.DIMENSIONS else "entry_point"
        state.p_only = _parse_list(q.get("only"), present[state.p_by])
    if state.p_week not in weeks:  # a new snapshot cannot remove a week, but be safe
        state.p_week = weeks[0]
    left, right = st.columns([1, 2])
    left.selectbox(_("Week"), weeks, key="p_week", format_func=week_label)
    right.segmented_control(
        _("Break down by"),
        partner.DIMENSIONS,
        key="p_by",
        format_func=partner.dimension_name,
        on_change=lambda: state.update(p_only=[]),
    )
    by = state.p_by or "entry_point"
    offered = [v for v in present[by] if by != "day" or v in partner.week_days(state.p_week)]
    state.p_only = [v for v in state.p_only if v in offered]
    st.multiselect(
        _("Show only"),
        offered,
        key="p_only",
        format_func=lambda c: partner.label(by, c),
        placeholder=_("Every {breakdown} with referrals").format(breakdown=partner.dimension_name(by).lower()),
    )
    params = {**display_params(), "week": state.p_week.isoformat(), "by": by, "only": ",".join(state.p_only)}
    st.query_params.from_dict({k: v for k, v in params.items() if v})
    return state.p_week, by, list(state.p_only)


def week_label(week: dt.date) -> str:
    end = week + dt.timedelta(days=6)
    return _("{start} – {end}").format(
        start=labels.digits(_("{day} {month}").format(day=week.day, month=labels.label("month_short", week.month))),
        end=labels.campaign_date(end),
    )


def describe(f: Filters) -> str:
    """One line naming the period and segments, for captions and file names."""
    parts = [
        _("{start} – {end}").format(start=labels.campaign_date(f.start), end=labels.campaign_date(f.end))
        + (" " + _("(today so far)") if f.end >= settings().today() else "")
    ]
    if f.provinces:
        parts.append(", ".join(labels.label("province", p) for p in f.provinces))
    if f.age_bands:
        parts.append(_("ages {bands}").format(bands=", ".join(labels.label("age_band", a) for a in f.age_bands)))
    if f.languages:
        parts.append(", ".join(labels.label("language", x) for x in f.languages))
    return " · ".join(parts)


# --- the interface's language ------------------------------------------------------------

LANGUAGES = ("km", "en")
AUTONYMS = {"km": "ខ្មែរ", "en": "English"}  # each language in its own script, on the switch
LANG_KEY = "pulse_lang"  # the sidebar's language switch
SIGN_IN_LANG_KEY = "pulse_lang_sign_in"  # the sign-in form's
DIGITS_KEY = "pulse_digits"


def display_params() -> dict[str, str]:
    """`lang` and `digits` of this session's view (the URL's on its first run)."""
    p = shared_params()
    return {k: p[k] for k in DISPLAY if p.get(k)}


def accepted_language(header: str | None) -> str | None:
    """The first of `LANGUAGES` a browser's Accept-Language asks for, by its q weights
    ('km-KH,km;q=0.9,en;q=0.5' → 'km'); None when it names neither."""
    ranked = []
    for i, part in enumerate((header or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and q > 0:
            ranked.append((-q, i, primary))
    return min(ranked)[2] if ranked else None


def _browser_language() -> str | None:
    try:
        return accepted_language(st.context.headers.get("Accept-Language"))
    except Exception:  # no browser behind this run (a bare script run)
        return None


def language() -> str:
    """The language of this run: the view's `lang` (the URL, the switch, or the account's default
    taken at sign-in), else the browser's Accept-Language, else English."""
    lang = shared_params().get("lang")
    return lang if lang in LANGUAGES else _browser_language() or labels.SOURCE_LANGUAGE


def khmer_digits() -> bool:
    return shared_params().get("digits") == "khmer"


def use_language() -> str:
    """Read every word and number of this run in the session's language (a context variable of
    the run's own thread: two sessions never share it). `app.py` calls it first."""
    lang = language()
    labels.use(lang)
    labels.use_digits(khmer_digits())
    return lang


def adopt_account_language(lang: str | None) -> None:
    """At sign-in: the account's default language, unless the URL or the switch chose one."""
    if lang in LANGUAGES and "lang" not in shared_params():
        _store({"lang": lang}, url=False)


def _language_changed(key: str) -> None:
    value = st.session_state.get(key)
    if value in LANGUAGES:
        _store({"lang": value})
    if value == "en":
        _store({"digits": ""})


def _digits_changed() -> None:
    _store({"digits": "khmer" if st.session_state.get(DIGITS_KEY) else ""})


def language_switch(key: str = LANG_KEY) -> None:
    """ខ្មែរ | English, and with Khmer, "Khmer digits" (`?lang=km|en`, `?digits=khmer`)."""
    state = st.session_state
    state[key] = language()
    st.segmented_control(
        _("Language of the dashboard"),
        LANGUAGES,
        key=key,
        format_func=AUTONYMS.get,
        on_change=_language_changed,
        args=(key,),
        label_visibility="collapsed",
    )
    if language() == "km" and key == LANG_KEY:
        state[DIGITS_KEY] = khmer_digits()
        st.toggle(_("Khmer digits"), key=DIGITS_KEY, on_change=_digits_changed)
