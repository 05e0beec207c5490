"""Why a landing row is rejected (CONTRACT §3): one declared list of reasons, read by both sides.

Each reason is data: a `code` (what the validation SQL emits, pipelines/sql/validate_*.sql and
pipelines/validate.py), the `field` it is about, a `message` (what is wrong) and an optional
`detail` (why, in parentheses), whose `{placeholders}` are filled from the row's own values
(`{earliest}` is `validation.earliest`; `{event_type}` and `{action}` the typed values of the row,
PLACEHOLDERS below). The write side stores a rejected row's codes (quarantine_rows.code, .codes)
and its English text `field: message (detail)` (quarantine_rows.reason, .reasons), rendered in
pipelines/sql/stage_quarantine.sql from `rejection_reasons` (see `rows()`); `pulse refresh
--json` counts them by `summary()` ("video_id: missing"). The dashboard reads the message and
the detail through the label catalog (`core.labels.rejection_reason`): `N_()` marks them for
`pybabel extract`, the English text is the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


def N_(message: str) -> str:  # noqa: N802 (gettext's name: pybabel extracts it; core.labels translates)
    return message


@dataclass(frozen=True)
class Reason:
    code: str  # '<field>.<what>': what the validation SQL emits
    field: str  # the landing field it is about ('row' for a JSON line that is not an object)
    message: str  # what is wrong, English (the catalog's source text)
    detail: str | None = None  # why, English, with {placeholders} filled from the row

    def text(self, **values: str) -> str:
        """The stored English text: 'video_id: missing (required for view)'."""
        detail = f" ({self.detail.format(**values)})" if self.detail else ""
        return f"{self.field}: {self.message}{detail}"

    def summary(self) -> str:
        """The per-reason key of `pulse refresh --json`: 'video_id: missing' (no detail)."""
        return f"{self.field}: {self.message}"


_LONG_ID = N_("longer than 256 characters")
_UNKNOWN = N_("unknown value")
_MISSING = N_("missing")
_NOT_PARTNER = N_("not a partner in the campaign config")
_NOT_WHOLE = N_("not a whole number >= 0")
_ONLY_REMOVALS = N_("only allowed on removals")

# Every reason a row can be rejected for, in the order the contract lists the fields.
REASONS: Final[tuple[Reason, ...]] = (
    Reason("row.not_json", "row", N_("not valid JSON")),
    Reason("row.not_object", "row", N_("not a JSON object")),
    Reason("event_id.missing", "event_id", _MISSING),
    Reason("event_id.too_long", "event_id", N_("longer than 128 characters")),
    Reason("event_id.control_characters", "event_id", N_("contains control characters")),
    Reason("event_time.missing", "event_time", _MISSING),
    Reason("event_time.unreadable", "event_time", N_("not ISO-8601 or epoch seconds")),
    Reason("event_time.before_earliest", "event_time", N_("before validation.earliest"), "{earliest}"),
    Reason("event_time.future", "event_time", N_("more than 1 day in the future")),
    Reason("user_id.missing", "user_id", _MISSING),
    Reason("user_id.missing_not_platform", "user_id", _MISSING, N_("only removal and restore may leave it empty")),
    Reason("user_id.too_long", "user_id", _LONG_ID),
    Reason("province.unknown", "province", N_("not a code KH-1..KH-25 or a province name")),
    Reason("age_band.unknown", "age_band", N_("not one of 18-24, 25-34, 35-44, 45-54, 55+")),
    # engagement
    Reason("event_type.missing", "event_type", _MISSING),
    Reason("event_type.unknown", "event_type", _UNKNOWN),
    Reason("video_id.missing", "video_id", _MISSING, N_("required for {event_type}")),
    Reason("video_id.too_long", "video_id", _LONG_ID),
    Reason("creator_id.missing", "creator_id", _MISSING, N_("required for post")),
    Reason("creator_id.too_long", "creator_id", _LONG_ID),
    Reason("hashtags.too_long", "hashtags", N_("longer than 2,048 characters")),
    Reason("surface.unknown", "surface", _UNKNOWN),
    Reason("watch_time_ms.not_whole", "watch_time_ms", _NOT_WHOLE),
    Reason("watch_time_ms.not_allowed", "watch_time_ms", N_("only allowed on views and tip-video views")),
    # engagement and referral
    Reason("partner_id.missing", "partner_id", _MISSING),
    Reason("partner_id.too_long", "partner_id", _LONG_ID),
    Reason("partner_id.unknown", "partner_id", _NOT_PARTNER),
    # referral
    Reason("stage.missing", "stage", _MISSING),
    Reason("stage.unknown", "stage", N_("not one of shown, clicked, contacted")),
    Reason("entry_point.unknown", "entry_point", _UNKNOWN),
    Reason("channel.unknown", "channel", _UNKNOWN),
    # safety
    Reason("action.missing", "action", _MISSING),
    Reason("action.unknown", "action", _UNKNOWN),
    Reason("target_type.missing", "target_type", _MISSING),
    Reason("target_type.unknown", "target_type", _UNKNOWN),
    Reason("target_id.missing", "target_id", _MISSING),
    Reason("target_id.too_long", "target_id", _LONG_ID),
    Reason("policy.missing", "policy", _MISSING, N_("required for {action}")),
    Reason("policy.unknown", "policy", _UNKNOWN),
    Reason("detection.not_allowed", "detection", _ONLY_REMOVALS),
    Reason("detection.unknown", "detection", N_("not proactive or user_report")),
    Reason("views_at_action.not_whole", "views_at_action", _NOT_WHOLE),
    Reason("views_at_action.not_allowed", "views_at_action", _ONLY_REMOVALS),
)
BY_CODE: Final = {r.code: r for r in REASONS}

# The values a detail may name: what pipelines/sql/stage_quarantine.sql fills in (validation.earliest,
# and the typed event_type and action of the row) and the Data health page reads back.
PLACEHOLDERS: Final = ("earliest", "event_type", "action")


def rows() -> list[tuple[str, str, str]]:
    """(code, field, English template) of every reason, for the `rejection_reasons` table the
    staging SQL renders the stored text from: the template is `text()` with its placeholders kept."""
    return [(r.code, r.field, r.text(**{p: "{" + p + "}" for p in PLACEHOLDERS})) for r in REASONS]


def naming(placeholder: str) -> list[str]:
    """The codes whose detail names `{placeholder}` (the Data health page reads those values back)."""
    return [r.code for r in REASONS if r.detail and "{" + placeholder + "}" in r.detail]
