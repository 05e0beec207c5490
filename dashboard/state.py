"""Page state: settings, the data dir, the published snapshot, and the filters that live in
the URL. `filters()` is the one place that reads and writes `st.query_params`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import streamlit as st

from queries import labels, pages, partner
from queries.datadir import DataDir
from queries.filters import Filters
from queries.labels import _
from queries.reference import AGE_BANDS, PROVINCES
from queries.settings import Settings, load_settings
from queries.warehouse import current_snapshot, snapshot_id_of

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
    path = current_snapshot(data_dir())
    return snapshot_id_of(path) if path else None


def load(query: str, snapshot: str | None, f: Filters | None, *args: Any) -> Any:
    """Run one `queries.pages` function on the published snapshot, cached per data dir,
    snapshot, filters and arguments (a new snapshot is a new cache key)."""
    return _load(query, str(data_dir().root), snapshot, f, *args)


@st.cache_data(show_spinner="Loading figures…", max_entries=512)
def _load(query: str, root: str, snapshot: str | None, f: Filters | None, *args: Any) -> Any:
    fn = getattr(pages, query)
    with pages.reader(DataDir(Path(root))) as con:
        return fn(con, *args) if f is None else fn(con, settings(), f, *args)


def load_partner(query: str, snapshot: str | None, partner_id: str, *args: Any) -> Any:
    """Run one `queries.partner` function for one partner, cached per data dir, snapshot,
    partner and arguments: a cached result is only ever returned for the same partner id,
    and the partner id comes from the signed-in identity, never from the browser."""
    return _load_partner(query, str(data_dir().root), snapshot, partner_id, *args)


@st.cache_data(show_spinner="Loading your figures…", max_entries=256)
def _load_partner(query: str, root: str, snapshot: str | None, partner_id: str, *args: Any) -> Any:
    fn = getattr(partner, query)
    with pages.reader(DataDir(Path(root))) as con:
        return fn(con, partner_id, *args)


def _parse_date(text: str | None, fallback: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(text) if text else fallback
    except ValueError:
        return fallback


def _parse_list(text: str | None, allowed: list[str]) -> list[str]:
    return [v for v in (text or "").split(",") if v in allowed]


def filters() -> Filters:
    """Sidebar filters, initialised from the URL once per session and written back to it on
    every run, so they survive page changes and a copied URL reopens the same view."""
    s = settings()
    default = Filters.default(s)
    provinces = [p[0] for p in PROVINCES] + ["unknown"]
    ages = [*AGE_BANDS, "unknown"]
    languages = list(LANGUAGE_NAMES)
    state = st.session_state
    if "f_start" not in state:
        q = st.query_params
        state.f_start = _parse_date(q.get("from"), default.start)
        state.f_end = _parse_date(q.get("to"), default.end)
        state.f_province = _parse_list(q.get("province"), provinces)
        state.f_age = _parse_list(q.get("age"), ages)
        state.f_language = _parse_list(q.get("language"), languages)
    with st.sidebar:
        st.header(_("Filters"))
        st.date_input(_("From"), key="f_start", format="YYYY-MM-DD")
        st.date_input(_("To"), key="f_end", format="YYYY-MM-DD")
        st.multiselect(
            _("Province"),
            provinces,
            key="f_province",
            format_func=lambda c: labels.label("province", c),
            placeholder=_("All provinces"),
        )
        st.multiselect(
            _("Age band"),
            ages,
            key="f_age",
            format_func=lambda c: labels.label("age_band", c),
            placeholder=_("All ages"),
        )
        st.multiselect(
            _("Language"),
            languages,
            key="f_language",
            format_func=lambda c: labels.label("language", c),
            placeholder=_("All languages"),
        )
        if st.button(_("Reset filters")):
            for key in ("f_start", "f_end", "f_province", "f_age", "f_language"):
                del state[key]
            st.query_params.clear()
            st.rerun()
    start, end = state.f_start, state.f_end
    if start > end:
        start, end = end, start
    st.query_params.from_dict(
        {
            k: v
            for k, v in {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "province": ",".join(state.f_province),
                "age": ",".join(state.f_age),
                "language": ",".join(state.f_language),
            }.items()
            if v
        }
    )
    return Filters(start, end, tuple(state.f_province), tuple(state.f_age), tuple(state.f_language))


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
    state.p_only = [v for v in state.p_only if v in present[by]]
    st.multiselect(
        _("Show only"),
        present[by],
        key="p_only",
        format_func=lambda c: partner.label(by, c),
        placeholder=_("Every {breakdown} with referrals").format(breakdown=partner.dimension_name(by).lower()),
    )
    params = {"week": state.p_week.isoformat(), "by": by, "only": ",".join(state.p_only)}
    st.query_params.from_dict({k: v for k, v in params.items() if v})
    return state.p_week, by, list(state.p_only)


def week_label(week: dt.date) -> str:
    end = week + dt.timedelta(days=6)
    return _("{start} – {end}").format(
        start=_("{day} {month}").format(day=week.day, month=labels.label("month_short", week.month)),
        end=labels.campaign_date(end),
    )


def describe(f: Filters) -> str:
    """One line naming the period and segments, for captions and file names."""
    parts = [_("{start} – {end}").format(start=labels.campaign_date(f.start), end=labels.campaign_date(f.end))]
    if f.provinces:
        parts.append(", ".join(labels.label("province", p) for p in f.provinces))
    if f.age_bands:
        parts.append(_("ages {bands}").format(bands=", ".join(labels.label("age_band", a) for a in f.age_bands)))
    if f.languages:
        parts.append(", ".join(labels.label("language", x) for x in f.languages))
    return " · ".join(parts)
