"""Wellbeing Pulse dashboard: `pulse dashboard` runs `streamlit run dashboard/server.py`, which serves this script."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from core import labels
from core.labels import N_, _, ngettext
from dashboard import auth, layout, state
from queries.status import freshness

st.set_page_config(page_title="Wellbeing Pulse", page_icon=":material/favorite:", layout="wide")
# no CSV download or copy from Streamlit's own table toolbar: only the app's audited, suppressed downloads
st.set_option("client.disableDataExport", True)
LANG = state.use_language()  # this run's words and numbers: ?lang=, the switch, the account's default or the browser's


def pages_for(ident: auth.Identity) -> list[st.Page]:
    """The pages a role may open. A URL naming any other page falls back to the first page
    (Streamlit's "page not found"), so a partner never runs a policy page's script."""
    if ident.is_partner:
        return [st.Page("views/partner_portal.py", title=_("Your referrals"), icon=":material/support_agent:",
                        url_path="portal", default=True)]  # fmt: skip
    pages = [
        st.Page(
            "views/overview.py", title=_("Overview"), icon=":material/dashboard:", url_path="overview", default=True
        ),
        st.Page("views/audience.py", title=_("Audience"), icon=":material/groups:", url_path="audience"),
        st.Page("views/hub.py", title=_("Digital Wellness Hub"), icon=":material/spa:", url_path="hub"),
        st.Page(
            "views/referrals.py", title=_("Helpline referrals"), icon=":material/support_agent:", url_path="referrals"
        ),
        st.Page("views/safety.py", title=_("Safety"), icon=":material/shield:", url_path="safety"),
        st.Page("views/alerts.py", title=_("Alerts"), icon=":material/notifications:", url_path="alerts"),
    ]
    if ident.role == "admin":
        pages += [
            st.Page(
                "views/data_health.py", title=_("Data health"), icon=":material/monitor_heart:", url_path="data-health"
            ),
            st.Page("views/accounts.py", title=_("Accounts"), icon=":material/manage_accounts:", url_path="accounts"),
        ]
    return [*pages, st.Page("views/glossary.py", title=_("Glossary"), icon=":material/menu_book:", url_path="glossary")]


def freshness_banner(ident: auth.Identity) -> None:
    """How old the published data is; red when the last success is older than two scheduled
    intervals, with the last failure's reason when a run failed since."""
    s = state.settings()
    fresh = freshness(state.data_dir(), s)
    if fresh is None:
        return
    minutes = int(fresh.age.total_seconds() // 60)
    ago = (
        ngettext("{n} min ago", "{n} min ago", minutes).format(n=minutes)
        if minutes < 120
        else ngettext("{n} h ago", "{n} h ago", minutes // 60).format(n=minutes // 60)
        if minutes < 2880
        else ngettext("{n} day ago", "{n} days ago", fresh.age.days).format(n=fresh.age.days)
    )
    failed = (
        " "
        + _("The last run failed at {when}: {reason}").format(
            when=labels.campaign_time(fresh.failure_at, s.tz), reason=fresh.failure_reason
        )
        if fresh.failure_at
        else ""
    )
    if fresh.is_stale:
        where = _("see Data health") if ident.role == "admin" else _("an administrator has been told on Data health")
        st.error(
            _(
                "The data was last refreshed {ago} ({when}), longer than two scheduled intervals. "
                "Figures may be out of date; {where}."
            ).format(ago=ago, when=labels.campaign_time(fresh.last_success, s.tz), where=where)
            + failed,
            icon=":material/schedule:",
        )
    else:
        st.caption(_("Data refreshed {ago}").format(ago=ago) + (" ·" + failed if failed else ""))


def about_this_data() -> None:
    """The technical facts behind every figure, at the bottom of the page: the snapshot, when
    it was refreshed, the timezone of every day and hour."""
    s = state.settings()
    fresh = freshness(state.data_dir(), s)
    with st.expander(_("About this data")):
        lines = [
            _("Days and hours are in campaign time: {zone} ({tz}, {abbreviation}).").format(
                zone=labels.zone_place(s.tz), tz=s.timezone, abbreviation=labels.zone_abbreviation(s.tz)
            ),
            _("Snapshot {id}.").format(id=state.snapshot_id()),
        ]
        if fresh is not None:
            lines.append(_("Last refreshed {when}.").format(when=labels.campaign_time(fresh.last_success, s.tz)))
        st.markdown("  \n".join(lines))


URL_PATHS = (
    "overview",
    "audience",
    "hub",
    "referrals",
    "safety",
    "alerts",
    "data-health",
    "accounts",
    "glossary",
    "portal",
)
labels.use_zone(state.settings().tz)
FOR_WHOM = {
    "data-health": N_("administrators"),
    "accounts": N_("administrators"),
    "portal": N_("partner organisations"),
}
NAV_NOTICE_KEY = "pulse_nav_notice"  # why the page asked for is not the one shown


def refused_pages(ident: auth.Identity, pages: list[st.Page]) -> list[st.Page]:
    """Hidden pages at the URL paths this role may not open: each says so and switches to the
    role's first page (a function, never the other page's script)."""
    home = pages[0]
    allowed = {home.url_path or "", *(p.url_path for p in pages)}
    allowed |= {"portal"} if ident.is_partner else {"overview"}
    where = _("your portal") if ident.is_partner else _("the Overview")

    def refuse(path: str) -> st.Page:
        def run() -> None:
            st.session_state[NAV_NOTICE_KEY] = _("That page is for {whom}; here is {where}.").format(
                whom=_(FOR_WHOM.get(path, N_("policy staff"))), where=where
            )
            st.switch_page(home, query_params=state.display_params() if ident.is_partner else state.shared_params())

        return st.Page(run, title="Wellbeing Pulse", url_path=path, visibility="hidden")

    return [refuse(path) for path in URL_PATHS if path not in allowed]


ident = auth.require_identity(URL_PATHS)  # the sign-in form and st.stop() until someone is signed in
pages = pages_for(ident)
# the sidebar links are the app's own (layout.nav_links): Streamlit's would drop the filters in the URL
nav = st.navigation([*pages, *refused_pages(ident, pages)], position="hidden")
st.session_state[auth.PAGE_KEY] = nav.title
layout.chrome(LANG)
st.sidebar.markdown(f"**{state.settings().name}**  \n#MentalWell-Being · " + _("Cambodia"))
if not ident.is_partner and state.snapshot_id() is not None:
    state.settle()  # the period inside the data's days, the view in the URL, before the links
# the links carry the view as it is now: every change of a filter reaches it in a callback, before this run
with st.sidebar:
    layout.nav_links(pages, state.display_params() if ident.is_partner else state.shared_params())
    state.language_switch()
auth.sidebar(ident)
if state.snapshot_id() is None:
    st.title("Wellbeing Pulse")
    st.info(
        _(
            "Nothing has been published yet. Run `pulse refresh` (or `.ci/start`) to load the landing zone, "
            "then reload this page."
        ),
        icon=":material/hourglass_empty:",
    )
    st.stop()
if not ident.is_partner:  # a partner's figures are released weeks; refresh health is not its business
    freshness_banner(ident)
notice = st.session_state.pop(NAV_NOTICE_KEY, None)
if notice:
    st.info(notice, icon=":material/info:")
layout.copy_link()
layout.print_header(
    _("{name} · {page} · printed {when}").format(
        name=state.settings().name,
        page=nav.title,
        when=labels.campaign_time(dt.datetime.now(dt.UTC), state.settings().tz),
    )
)
nav.run()
if not ident.is_partner:
    about_this_data()
