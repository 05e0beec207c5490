"""Accounts (admin only): who can sign in, locked accounts, and the audit log."""

import datetime as dt

import polars as pl
import streamlit as st

from core import accounts, audit, labels
from core.labels import _
from dashboard import auth, state, widgets

ident = auth.identity()
if ident.role != "admin":  # app.py never routes others here; this is a second lock
    st.error(_("Only admins can see accounts."))
    st.stop()

d = state.data_dir()
s = state.settings()
names = {p.id: p.name for p in s.partners}
now = dt.datetime.now(dt.UTC)

st.title(_("Accounts"))
st.caption(
    _(
        "Local accounts are managed with `pulse users add|list|remove|reset-password`. "
        "After {n} failed sign-ins in a row with one name from one address, that name is "
        "locked from that address for {minutes} minutes (it still signs in from elsewhere); "
        "Unlock clears it from every address."
    ).format(n=s.auth.max_failed_sign_ins, minutes=s.auth.lockout_minutes)
)


def language_name(lang: str | None) -> str:
    return labels.label("language", lang) if lang else _("The browser's")


rows = accounts.list_accounts(d)
if not rows:
    st.info(_("No local accounts yet. Add one with `pulse users add NAME --role policy`."))
else:
    table = pl.DataFrame(
        {
            _("Account"): [a.name for a in rows],
            _("Role"): [labels.label("role", a.role) for a in rows],
            _("Partner"): [names.get(a.partner_id, a.partner_id) if a.partner_id else "" for a in rows],
            # a lock resets the count: a locked account reads the count that locked it
            _("Failed sign-ins"): [
                _("{n} (locked)").format(n=s.auth.max_failed_sign_ins)
                if a.is_locked(now)
                else str(a.count_failed_sign_ins)
                for a in rows
            ],
            _("Locked until"): [labels.campaign_time(a.locked_until, s.tz) if a.is_locked(now) else "" for a in rows],
            _("Created"): [labels.campaign_date(a.created_at.astimezone(s.tz).date()) for a in rows],
            _("Language"): [language_name(a.language) for a in rows],
        }
    )
    # the partner's whole name: a default-width column cut it to "Transcultural Psychosocial Organ"
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={_("Partner"): st.column_config.TextColumn(width="large")},
    )

    locked = [a.name for a in rows if a.is_locked(now)]
    left, right = st.columns(2)
    with left, st.form("unlock"):
        who = st.selectbox(
            _("Unlock an account"),
            locked,
            placeholder=_("Choose a locked account") if locked else _("No account is locked"),
            index=None,
        )
        if st.form_submit_button(_("Unlock"), disabled=not locked) and who:
            accounts.unlock(d, who)
            audit.record(d, who, audit.ACCOUNT_UNLOCKED, f"by {ident.name} in the dashboard")
            st.rerun()
    with right, st.form("remove"):
        others = [a.name for a in rows if a.name != ident.name]
        who = st.selectbox(_("Remove an account"), others, index=None, placeholder=_("Choose an account"))
        sure = st.checkbox(_("Yes, remove it: its open sessions end on their next click"))
        if (
            st.form_submit_button(_("Remove"), type="secondary", icon=":material/delete:", disabled=not others)
            and who
            and sure
        ):
            accounts.remove(d, who)
            audit.record(d, who, audit.ACCOUNT_REMOVED, f"by {ident.name} in the dashboard")
            st.rerun()
    with st.form("language"):
        left, right = st.columns(2)
        who = left.selectbox(
            _("Default language of an account"), [a.name for a in rows], index=None, placeholder=_("Choose an account")
        )
        lang = right.selectbox(_("Language after sign-in"), [None, *accounts.LANGUAGES], format_func=language_name)
        if st.form_submit_button(_("Set the language")) and who:
            accounts.set_language(d, who, lang)
            st.rerun()

st.subheader(_("Audit log"))
st.caption(_("Sign-ins, sign-outs, expired sessions and exports, latest first (no passwords, no user-level data)."))
entries = audit.entries(d, limit=200)
if not entries:
    st.info(_("Nothing recorded yet."))
else:
    log = pl.DataFrame(
        {
            _("When"): [labels.campaign_time(e.at, s.tz, seconds=True) for e in entries],
            _("Account"): [e.account or "" for e in entries],
            _("Action"): [labels.label("audit_action", e.action) for e in entries],
            _("Detail"): [e.detail for e in entries],
        }
    )
    st.dataframe(log, hide_index=True, width="stretch")
    # a typed name can be anything (e.g. =HYPERLINK(...)): the export quotes formula-like cells
    widgets.export_button(log, f"audit_log_{now:%Y%m%d}.csv", "Download the audit log (CSV)")
