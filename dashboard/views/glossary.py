"""Glossary: one sentence for every figure."""

import streamlit as st

st.title("What every figure means")
st.markdown(
    """
**Campaign video** — a video whose hashtags include a tracked tag or alias from `campaign.toml`
(`#MentalWell-Being` arrives as `#MentalWell`).

**Unique reach** — distinct people who viewed at least one campaign video in the period.

**Views** — views of campaign videos.

**Engagement rate by reach** — distinct people who liked, commented, shared or favorited a campaign
video, divided by unique reach.

**Campaign posts / distinct creators** — campaign videos posted, and the distinct creators who posted them.

**Wellness Hub visitors** — distinct people who opened the Digital Wellness Hub.

**Helpline taps** — times a user tapped a partner organisation's helpline card.

**Tap rate** — tapped ÷ shown. **Contact rate** — contacted (confirmed by the partner) ÷ tapped.

**`<10`** — a count between 1 and 9 (the configured minimum cell), hidden to protect people seeking help.

**Reports / blocks** — reports and blocks made by users. **Comment filters** — users switching comment
filters on or off.

**Proactive rate** — removals found by the platform before any report ÷ all removals.

**Zero-view removal rate** — removals with no views at the time ÷ removals whose view count is known.

**Restore rate** — removals reversed on appeal ÷ removals.

**Change** — the difference with the period of equal length just before the selected one.

Days are days in the campaign timezone (Asia/Phnom_Penh); every figure counts events, never shows one person.
"""
)
