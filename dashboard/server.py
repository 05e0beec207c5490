"""The dashboard's web server: `pulse dashboard` runs `streamlit run dashboard/server.py`.

Streamlit's own server (Starlette under uvicorn) for `app.py`, with `dashboard.downloads.Guard`
in front of it: download URLs only for the signed-in session that made them, no
`/_stcore/metrics`, and security headers on every response (see dashboard/downloads.py).
"""

import streamlit as st
from starlette.middleware import Middleware

from dashboard.downloads import Guard

app = st.App("app.py", middleware=[Middleware(Guard)])
