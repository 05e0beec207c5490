"""Partner portal (placeholder: the partner pages replace this body)."""

import streamlit as st

from dashboard import auth, state

ident = auth.identity()
partner = next(p for p in state.settings().partners if p.id == ident.partner_id)

st.title(f"Your referrals · {partner.name}")
st.caption("Helpline referrals to your organisation; counts below the privacy threshold show as <N.")
