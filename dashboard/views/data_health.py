"""Data health: what is published, how fresh, and what was rejected."""

import polars as pl
import streamlit as st

from dashboard import state
from dashboard.widgets import download
from queries.status import snapshot_status

s = state.settings()
snap = state.snapshot_id()
status = snapshot_status(state.data_dir(), s)

st.title("Data health")
st.caption(f"Snapshot {status['snapshot_id']} · last refresh {status['last_refresh']}")
cols = st.columns(3)
for col, (stream, v) in zip(cols, status["streams"].items(), strict=True):
    with col:
        st.metric(
            f"{stream.title()} rows",
            f"{v['rows']:,}",
            border=True,
            help=f"{v['first_day']} to {v['last_day']}; {v['quarantined']:,} rows quarantined.",
        )

st.subheader("Rejected rows (quarantine)")
q = state.load("quarantine_by_reason", snap, None)
if q.is_empty():
    st.success("No row has been rejected.")
else:
    by_reason = q.group_by("stream", "reason").agg(pl.col("count_rows").sum()).sort("count_rows", descending=True)
    st.dataframe(by_reason, hide_index=True, column_config={"count_rows": st.column_config.NumberColumn("Rows")})
    with st.expander("By file"):
        st.dataframe(q, hide_index=True)
    download(q, "quarantine_by_reason", None)

st.subheader("Unreadable files and unknown columns")
u = state.load("unreadable_files", snap, None)
if u.is_empty():
    st.success("Every file could be read and named only known columns.")
else:
    st.dataframe(u.with_columns(pl.col("unknown_columns").list.join(", ")), hide_index=True)
