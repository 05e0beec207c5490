"""Glossary: one sentence for every figure and every word the pages use."""

import streamlit as st

from core import labels
from core.labels import _
from dashboard import state

s = state.settings()
n = s.privacy.min_cell

st.title(_("What every figure means"))
TERMS = [
    (
        _("Campaign video"),
        _(
            "A video whose hashtags include a tracked tag or alias from the campaign settings "
            "(#MentalWell-Being arrives as #MentalWell)."
        ),
    ),
    (_("Unique reach"), _("Distinct people who viewed at least one campaign video in the period.")),
    (_("Views"), _("Views of campaign videos.")),
    (
        _("Engagement rate by reach"),
        _("Distinct people who liked, commented, shared or favorited a campaign video, divided by unique reach."),
    ),
    (
        _("Campaign posts / distinct creators"),
        _("Campaign videos posted, and the distinct creators who posted them."),
    ),
    (_("Wellness Hub visitors"), _("Distinct people who opened the Digital Wellness Hub.")),
    (_("Guide views"), _("Times someone opened a well-being guide in the Digital Wellness Hub.")),
    (_("Tip-video views"), _("Views of the tip videos made with a partner organisation.")),
    (
        _("Screen-time limits set"),
        _("Times someone set a daily screen-time limit from the Digital Wellness Hub."),
    ),
    (_("Helpline taps"), _("Times someone tapped a partner organisation's helpline card.")),
    (
        _("Shown, tapped, contacted"),
        _(
            "The helpline funnel: the card was shown, someone tapped it, and the partner confirmed that the "
            "contact reached them."
        ),
    ),
    (
        _("Entry point"),
        _("Where the helpline card was shown: {values}.").format(
            values=", ".join(labels.labels("entry_point").values())
        ),
    ),
    (
        _("Channel"),
        _("How the person reached the helpline: {values}.").format(values=", ".join(labels.labels("channel").values())),
    ),
    (_("Tap rate"), _("Tapped ÷ shown.")),
    (_("Contact rate"), _("Contacted (confirmed by the partner) ÷ tapped.")),
    (
        f"<{n}",
        _(
            "Fewer than {n}, zero included: any count from 0 to {last}, not shown to protect people seeking help."
        ).format(n=n, last=n - 1),
    ),
    (
        _("hidden"),
        _(
            "A count of {n} or more, hidden so that a <{n} count in the same table cannot be worked out by "
            "subtracting the others from the total."
        ).format(n=n),
    ),
    (
        _("withheld"),
        _(
            "Not published: a table in which no choice of hidden cells protects its small counts (only its total "
            "is shown), or a rate built on a count that reads <{n} or hidden."
        ).format(n=n),
    ),
    (
        _("Reports / blocks"),
        _("Reports and blocks made by users."),
    ),
    (_("Comment filters"), _("Users switching comment filters on or off.")),
    (_("Proactive rate"), _("Removals found by the platform before any report ÷ all removals.")),
    (
        _("Zero-view removal rate"),
        _("Removals with no views at the time ÷ removals whose view count is known."),
    ),
    (_("Restore rate"), _("Removals reversed on appeal ÷ removals.")),
    (_("Unknown"), _("The export did not say (no province, age band or language given).")),
    (_("Change"), _("The difference with the period of equal length just before the selected one.")),
]
st.markdown("\n\n".join(f"**{term}** — {meaning}" for term, meaning in TERMS))
st.markdown(
    _(
        "Days are days in campaign time ({zone}, {abbreviation}); every figure counts events, never shows one person."
    ).format(zone=labels.zone_place(s.tz), abbreviation=labels.zone_abbreviation(s.tz))
)
