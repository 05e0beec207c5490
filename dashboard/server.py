"""The dashboard's web server: `pulse dashboard` runs `streamlit run dashboard/server.py`.

Streamlit's own server (Starlette under uvicorn) for `app.py`, with `dashboard.downloads.Guard`
in front of it: download URLs only for the signed-in session that made them, no
`/_stcore/metrics`, and security headers on every response (see dashboard/downloads.py).
"""

# Imported here, once, when the server starts, so that the first person to sign in does not
# wait for them: Altair (the charts) takes a few hundred ms to import, pandas (which Streamlit
# imports on a page's first table) half a second or more, Babel's CLDR data (dates, the zone's
# name) a few hundred ms to load on first use.
import pandas  # noqa: F401
import streamlit as st
from starlette.middleware import Middleware

from core import labels
from dashboard import charts  # noqa: F401
from dashboard.downloads import Guard

labels.warm_up()

app = st.App("app.py", middleware=[Middleware(Guard)])
