"""Accounts (admin only): who can sign in, locked accounts, and the audit log."""

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import auth, state
from queries import accounts, audit

ident = auth.identity()
if ident.role != "admin":  # app.py never routes others here; this is a second lock
    st.error("Only admins can see accounts.")
    st.stop()

d = state.data_dir()
s = state.settings()
names = {p.id: p.name for p in s.partners}
now = dt.datetime.now(dt.UTC)

st.title("Accounts")
st.caption(
    "Local accounts are managed with `pulse users add|list|remove|reset-password`. "
    f"After {s.auth.max_failed_sign_ins} failed sign-ins an account is locked for {s.auth.lockout_minutes} minutes."
)

rows = accounts.list_accounts(d)
if not rows:
    st.info("No local accounts yet. Add one with `pulse users add NAME --role policy`.")
else:
    table = pl.DataFrame(
        {
            "Account": [a.name for a in rows],
            "Role": [a.role for a in rows],
            "Partner": [names.get(a.partner_id, a.partner_id) if a.partner_id else "" for a in rows],
            # a lock resets the count: a locked account reads the count that locked it
            "Failed sign-ins": [
                f"{s.auth.max_failed_sign_ins} (locked)" if a.is_locked(now) else str(a.count_failed_sign_ins)
                for a in rows
            ],
            "Locked until": [
                f"{a.locked_until.astimezone(s.tz):%d %b %H:%M}" if a.is_locked(now) else "" for a in rows
            ],
            "Created": [f"{a.created_at.astimezone(s.tz):%d %b %Y}" for a in rows],
        }
    )
    # the partner's whole name: a default-width column cut it to "Transcultural Psychosocial Organ"
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={"Partner": st.column_config.TextColumn(width="large")},
    )

    locked = [a.name for a in rows if a.is_locked(now)]
    left, right = st.columns(2)
    with left, st.form("unlock"):
        who = st.selectbox(
            "Unlock an account",
            locked,
            placeholder="Choose a locked account" if locked else "No account is locked",
            index=None,
        )
        if st.form_submit_button("Unlock", disabled=not locked) and who:
            accounts.unlock(d, who)
            audit.record(d, who, audit.ACCOUNT_UNLOCKED, f"by {ident.name} in the dashboard")
            st.rerun()
    with right, st.form("remove"):
        others = [a.name for a in rows if a.name != ident.name]
        who = st.selectbox("Remove an account", others, index=None, placeholder="Choose an account")
        sure = st.checkbox("Yes, remove it: its open sessions end on their next click")
        if (
            st.form_submit_button("Remove", type="secondary", icon=":material/delete:", disabled=not others)
            and who
            and sure
        ):
            accounts.remove(d, who)
            audit.record(d, who, audit.ACCOUNT_REMOVED, f"by {ident.name} in the dashboard")
            st.rerun()

st.subheader("Audit log")
st.caption("Sign-ins, sign-outs, expired sessions and exports, latest first (no passwords, no user-level data).")
entries = audit.entries(d, limit=200)
if not entries:
    st.info("Nothing recorded yet.")
else:
    st.dataframe(
        pl.DataFrame(
            {
                "When": [f"{e.at.astimezone(s.tz):%Y-%m-%d %H:%M:%S}" for e in entries],
                "Account": [e.account or "" for e in entries],
                "Action": [e.action.replace("_", " ") for e in entries],
                "Detail": [e.detail for e in entries],
            }
        ),
        hide_index=True,
        width="stretch",
    )
