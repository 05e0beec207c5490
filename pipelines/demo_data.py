"""Realistic synthetic landing files for all three streams, vectorised with numpy and Polars.

What makes it realistic (each property has a test):
- a launch-day spike on the launch date and a decay after it, a weekly rhythm (weekends
  higher) and an evening peak in the campaign timezone;
- provinces weighted by population (Phnom Penh largest and boosted as the most connected),
  age bands skewed young, mostly Khmer with some English and other tags;
- hashtags in the shapes posts carry them: `#MentalWell-Being` arrives as `#MentalWell`,
  Khmer tags, unrelated tags;
- partner tip videos; a helpline funnel shown >> clicked >> contacted;
- safety actions across policies, mostly proactive removals, some restores;
- about 0.5% bad rows covering every rule of CONTRACT §2-3, duplicate events within and
  across files, one unreadable file and one exact duplicate file under another name.

Same spec and seed, same bytes: gzip headers carry no time and every random draw comes
from a numpy Generator seeded per stream.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from core.datadir import DataDir
from core.reference import (
    AGE_BANDS,
    PROVINCES,
    VIDEO_EVENT_TYPES,
)
from core.settings import Settings

# Events per stream at scale 1 (about 100,000 in all, before restores, funnel steps and duplicates).
ENGAGEMENT_PER_SCALE = 85_000
REFERRAL_SHOWN_PER_SCALE = 6_000
SAFETY_PER_SCALE = 5_500
BAD_ROW_RATE = 0.005
DUPLICATE_ROW_RATE = 0.002

WEEKDAY_FACTOR = np.array([0.90, 0.88, 0.93, 0.96, 1.05, 1.30, 1.25])  # Monday .. Sunday
# Share of the day's events per local hour: quiet nights, a lunch bump, an evening peak.
HOUR_PROFILE = np.array(
    [
        1.6,
        0.9,
        0.5,
        0.3,
        0.3,
        0.6,
        1.4,
        2.6,
        3.2,
        3.3,
        3.5,
        3.9,
        4.6,
        4.2,
        3.8,
        3.8,
        4.1,
        4.8,
        5.9,
        7.4,
        8.6,
        8.9,
        7.2,
        4.2,
    ]
)

FORMATS = {
    "engagement": ("parquet", "csv.gz", "jsonl.gz", "csv", "ndjson", "parquet", "jsonl"),
    "referral": ("csv", "jsonl", "parquet", "csv.gz", "jsonl.gz"),
    "safety": ("jsonl", "csv", "parquet", "jsonl.gz", "csv.gz"),
}
TIME_FORMATS = ("iso_z", "iso_offset", "naive_utc", "epoch")

# Hashtags as exporters deliver them: the hyphen ends a tag, so #MentalWell-Being -> #MentalWell.
CAMPAIGN_TAGS = (
    ("MentalWell", "selfcare"),
    ("MentalWell",),
    ("mentalwellbeing", "fyp"),
    ("MentalWellBeingComesFirst", "Cambodia"),
    ("សុខភាពផ្លូវចិត្ត", "MentalWell"),
    ("សុខុមាលភាពផ្លូវចិត្ត",),
    ("MENTALWELL", "ស្ត្រេស", "fyp"),
    ("MentalWell", "WorldMentalHealthDay"),
)
OTHER_TAGS = (("fyp", "Cambodia"), ("ភ្នំពេញ", "food"), ("khmersong",), ("comedy", "fyp"))
ALL_TAGS = (*CAMPAIGN_TAGS, *OTHER_TAGS)

ENGAGEMENT_TYPE_WEIGHTS = dict(
    view=0.60,
    like=0.12,
    comment=0.03,
    share=0.025,
    favorite=0.02,
    follow=0.01,
    post=0.006,
    hub_visit=0.06,
    guide_view=0.03,
    tip_video_view=0.075,
    screen_time_limit_set=0.014,
)
HUB_TYPES = ("hub_visit", "guide_view", "tip_video_view", "screen_time_limit_set")
SURFACE_WEIGHTS = dict(
    for_you=0.55,
    following=0.10,
    hashtag_page=0.12,
    search=0.08,
    wellness_hub=0.05,
    profile=0.05,
    other=0.05,
)
ENTRY_WEIGHTS = dict(
    search_intervention=0.34,
    wellness_hub=0.24,
    hashtag_page=0.15,
    video_banner=0.15,
    wellbeing_guide=0.09,
    other=0.03,
)
CLICK_RATE = dict(
    search_intervention=0.17,
    wellness_hub=0.14,
    hashtag_page=0.08,
    video_banner=0.07,
    wellbeing_guide=0.12,
    other=0.06,
)
PARTNER_WEIGHTS = (0.36, 0.20, 0.18, 0.26)  # in config order; extra partners share the rest
CONTACT_RATE = (0.34, 0.22, 0.18, 0.30)
SAFETY_ACTION_WEIGHTS = dict(
    report=0.45,
    block=0.25,
    unblock=0.04,
    comment_filter_on=0.12,
    comment_filter_off=0.03,
    removal=0.11,
)
POLICY_WEIGHTS = dict(
    self_harm=0.07,
    suicide=0.03,
    bullying_harassment=0.28,
    hate_speech=0.09,
    misinformation=0.08,
    dangerous_acts=0.05,
    adult_content=0.06,
    violent_content=0.05,
    spam=0.24,
    other=0.05,
)
RESTORE_RATE = 0.07
OTHER_LANGUAGE_TAGS = ("fr", "zh-Hans", "th", "vi", "ko")


@dataclass(frozen=True)
class DemoSpec:
    days: int
    scale: float
    seed: int
    end: dt.date

    @property
    def start(self) -> dt.date:
        return self.end - dt.timedelta(days=self.days - 1)


@dataclass(frozen=True)
class BadKind:
    """A kind of bad row: which rows may carry it and how it breaks them."""

    stream: str
    name: str
    rule: str  # the CONTRACT rule it breaks, for people reading the manifest
    mutate: dict[str, Any]  # column -> new value (None = missing); "_time" handled at format time
    base: Callable[[pl.DataFrame], pl.Series] | None = None  # rows it may be planted on


def _is(column: str, value: str) -> Callable[[pl.DataFrame], pl.Series]:
    return lambda df: df[column] == value


COMMON_KINDS = (
    ("event_id_missing", "event_id is required", {"event_id": None}),
    ("event_id_too_long", "event_id is 1-128 characters", {"event_id": "@long"}),
    ("event_time_missing", "event_time is required", {"_time": "missing"}),
    ("event_time_invalid", "event_time is ISO-8601 or epoch seconds", {"_time": "invalid"}),
    ("event_time_future", "no event more than 1 day in the future", {"_time": "future"}),
    ("province_invalid", "province is KH-1..KH-25 or an English name", {"province": "Atlantis"}),
    ("age_band_invalid", "age_band is one of 18-24 .. 55+", {"age_band": "13-17"}),
)

BAD_KINDS: tuple[BadKind, ...] = (
    *(BadKind("engagement", n, r, m) for n, r, m in COMMON_KINDS),
    BadKind("engagement", "user_id_missing", "user_id is required", {"user_id": None}),
    BadKind("engagement", "event_type_invalid", "event_type is an enum", {"event_type": "dislike"}),
    BadKind(
        "engagement",
        "video_id_missing",
        "video_id is required for views",
        {"video_id": None},
        _is("event_type", "view"),
    ),
    BadKind(
        "engagement",
        "creator_id_missing",
        "creator_id is required for posts",
        {"creator_id": None},
        _is("event_type", "post"),
    ),
    BadKind("engagement", "surface_invalid", "surface is an enum", {"surface": "smart_tv"}),
    BadKind(
        "engagement",
        "watch_time_negative",
        "watch_time_ms is an int >= 0",
        {"watch_time_ms": -1200},
        _is("event_type", "view"),
    ),
    BadKind(
        "engagement",
        "watch_time_not_view",
        "watch_time_ms is for views and tip-video views only",
        {"watch_time_ms": 5000},
        _is("event_type", "like"),
    ),
    BadKind(
        "engagement",
        "partner_unknown",
        "partner_id is a config slug",
        {"partner_id": "unknown-ngo"},
        _is("event_type", "tip_video_view"),
    ),
    BadKind("referral", "user_id_missing", "user_id is required", {"user_id": None}),
    BadKind("referral", "event_time_invalid", "event_time is ISO-8601 or epoch seconds", {"_time": "invalid"}),
    BadKind("referral", "province_invalid", "province is KH-1..KH-25 or an English name", {"province": "KH-99"}),
    BadKind("referral", "partner_missing", "partner_id is required", {"partner_id": None}),
    BadKind("referral", "partner_unknown", "partner_id is a config slug", {"partner_id": "helpline-x"}),
    BadKind("referral", "stage_invalid", "stage is shown, clicked or contacted", {"stage": "called"}),
    BadKind("referral", "entry_point_invalid", "entry_point is an enum", {"entry_point": "push_notification"}),
    BadKind("referral", "channel_invalid", "channel is an enum", {"channel": "fax"}),
    BadKind("safety", "event_id_missing", "event_id is required", {"event_id": None}),
    BadKind(
        "safety",
        "user_id_missing",
        "user_id is required except for removal/restore",
        {"user_id": None},
        _is("action", "report"),
    ),
    BadKind("safety", "action_invalid", "action is an enum", {"action": "mute"}),
    BadKind("safety", "target_type_invalid", "target_type is an enum", {"target_type": "sound"}),
    BadKind("safety", "target_id_missing", "target_id is required", {"target_id": None}),
    BadKind("safety", "policy_missing", "policy is required for reports", {"policy": None}, _is("action", "report")),
    BadKind("safety", "policy_invalid", "policy is an enum", {"policy": "rudeness"}, _is("action", "report")),
    BadKind(
        "safety",
        "detection_not_removal",
        "detection is for removals only",
        {"detection": "proactive"},
        _is("action", "report"),
    ),
    BadKind(
        "safety",
        "detection_invalid",
        "detection is proactive or user_report",
        {"detection": "ai"},
        _is("action", "removal"),
    ),
    BadKind(
        "safety",
        "views_at_action_negative",
        "views_at_action is an int >= 0",
        {"views_at_action": -3},
        _is("action", "removal"),
    ),
    BadKind(
        "safety",
        "views_at_action_not_removal",
        "views_at_action is for removals only",
        {"views_at_action": 120},
        _is("action", "block"),
    ),
)


@dataclass
class _Calendar:
    """The days of the demo window with their local midnights and activity weights."""

    spec: DemoSpec
    settings: Settings
    days: list[dt.date] = field(init=False)
    midnight_utc: np.ndarray = field(init=False)  # epoch seconds of each local midnight
    since_launch: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        tz = self.settings.tz
        self.days = [self.spec.start + dt.timedelta(days=i) for i in range(self.spec.days)]
        self.midnight_utc = np.array(
            [int(dt.datetime.combine(d, dt.time(), tzinfo=tz).timestamp()) for d in self.days], dtype=np.int64
        )
        self.since_launch = np.array([(d - self.settings.launch).days for d in self.days])

    def weights(self, pre_launch: float, peak: float, decay_days: float, floor: float) -> np.ndarray:
        """Daily activity: a low baseline before launch, a spike on launch day, decay to a floor."""
        rel = self.since_launch
        w = np.where(rel < 0, pre_launch, floor + peak * np.exp(-np.clip(rel, 0, None) / decay_days))
        w = w * np.where(rel == 0, 1.8, 1.0)  # the launch event itself
        weekday = np.array([d.weekday() for d in self.days])
        w = w * WEEKDAY_FACTOR[weekday]
        return w / w.sum()

    def sample_times(self, rng: np.random.Generator, n: int, day_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (day index, epoch seconds UTC) for n events."""
        day = rng.choice(len(self.days), size=n, p=day_weights)
        hour = rng.choice(24, size=n, p=HOUR_PROFILE / HOUR_PROFILE.sum())
        t = self.midnight_utc[day] + hour * 3600 + rng.integers(0, 3600, size=n)
        return day, t


@dataclass
class _Users:
    """A pool of viewers with a stable province (as a code or a name, the way each user's
    exports spell it), age band and language, kept as strings per user."""

    table: pl.DataFrame  # user_id, province, age_band, language

    @classmethod
    def make(cls, rng: np.random.Generator, n: int) -> _Users:
        pop = np.array([p[2] for p in PROVINCES], dtype=float)
        pop[11] *= 2.2  # Phnom Penh: the most connected province
        province = rng.choice(len(PROVINCES), size=n, p=pop / pop.sum())
        province[rng.random(n) < 0.02] = -1
        style = rng.choice(4, size=n, p=[0.6, 0.25, 0.1, 0.05])  # code, name, lower case, "… Province"
        spellings = [
            *(code for code, _, _ in PROVINCES),
            *(name for _, name, _ in PROVINCES),
            *(name.lower() for _, name, _ in PROVINCES),
            *(f"{name} Province" for _, name, _ in PROVINCES),
        ]
        age = rng.choice(len(AGE_BANDS), size=n, p=[0.43, 0.33, 0.14, 0.07, 0.03])
        age[rng.random(n) < 0.015] = -1
        language = rng.choice(5, size=n, p=[0.80, 0.11, 0.04, 0.02, 0.03])
        language = np.where(language == 4, 4 + rng.integers(0, len(OTHER_LANGUAGE_TAGS), size=n), language)
        language[rng.random(n) < 0.02] = -1
        step = 10**10  # unique, random-looking 19-digit ids like a platform's
        raw = 6_800_000_000_000_000_000 + np.arange(n, dtype=np.int64) * step + rng.integers(0, step, size=n)
        table = pl.DataFrame(
            {
                "user_id": pl.Series(rng.permutation(raw)).cast(pl.String),
                "province": _labels(np.where(province < 0, -1, style * len(PROVINCES) + province), spellings),
                "age_band": _labels(age, AGE_BANDS),
                "language": _labels(language, ("km", "en", "km-KH", "en-US", *OTHER_LANGUAGE_TAGS)),
            }
        )
        return cls(table)

    def pick(self, rng: np.random.Generator, n: int, skew: float = 2.0) -> np.ndarray:
        """Users for n events: a few heavy users, a long tail."""
        return (self.table.height * rng.random(n) ** skew).astype(np.int64)

    def columns(self, who: np.ndarray) -> dict[str, pl.Series]:
        return self.table[who].to_dict()


def _labels(idx: np.ndarray, labels: tuple[str, ...] | list[str]) -> pl.Series:
    """Map integer codes to strings (negative = missing), vectorised."""
    s = pl.Series(idx.astype(np.int64))
    return (
        pl.DataFrame({"i": s})
        .select(
            pl.when(pl.col("i") < 0)
            .then(None)
            .otherwise(
                pl.col("i").replace_strict(range(len(labels)), list(labels), default=None, return_dtype=pl.String)
            )
        )
        .to_series()
    )


def _masked(values: np.ndarray, keep: np.ndarray) -> pl.Series:
    """Strings where keep is true, missing elsewhere."""
    strings = pl.Series(np.where(keep, values, "").astype(str), dtype=pl.String)
    return pl.select(pl.when(pl.Series(keep)).then(strings)).to_series()


def _choice(rng: np.random.Generator, weights: dict[str, float], n: int) -> tuple[np.ndarray, list[str]]:
    keys = list(weights)
    p = np.array([weights[k] for k in keys])
    return rng.choice(len(keys), size=n, p=p / p.sum()), keys


def _prefixed(prefix: str, idx: np.ndarray) -> pl.Series:
    return pl.select(pl.lit(prefix) + pl.Series(idx).cast(pl.String)).to_series()


# --- streams ---------------------------------------------------------------------------


def _engagement(
    rng: np.random.Generator, cal: _Calendar, users: _Users, settings: Settings, scale: float
) -> pl.DataFrame:
    n = max(1, round(ENGAGEMENT_PER_SCALE * scale))
    day, t = cal.sample_times(rng, n, cal.weights(pre_launch=0.10, peak=1.0, decay_days=6.0, floor=0.32))
    etype, type_keys = _choice(rng, ENGAGEMENT_TYPE_WEIGHTS, n)
    # The Digital Wellness Hub opened with the campaign: before launch those events are views.
    hub_codes = [type_keys.index(h) for h in HUB_TYPES]
    etype = np.where(np.isin(etype, hub_codes) & (cal.since_launch[day] < 0), type_keys.index("view"), etype)
    code = {name: type_keys.index(name) for name in type_keys}

    n_videos = max(50, round(600 * scale**0.7))
    partners = settings.partner_ids
    tips_per_partner = 6
    video = (n_videos * rng.random(n) ** 2.5).astype(np.int64)
    tip_partner = rng.choice(len(partners), size=n, p=_partner_weights(len(partners)))
    tip = rng.integers(0, tips_per_partner, size=n)
    is_view = etype == code["view"]
    is_tip = (etype == code["tip_video_view"]) | (is_view & (rng.random(n) < 0.04))
    is_video_event = np.isin(etype, [code[t] for t in VIDEO_EVENT_TYPES])

    video_id = pl.select(
        pl.when(pl.Series(~is_video_event))
        .then(None)
        .when(pl.Series(is_tip))
        .then(pl.lit("tip_") + _labels(tip_partner, partners) + "_" + pl.Series(tip).cast(pl.String))
        .otherwise(pl.lit("v") + (pl.Series(video) + 7_301_000_000).cast(pl.String))
    ).to_series()
    creator = pl.select(
        pl.when(pl.Series(~is_video_event))
        .then(None)
        .when(pl.Series(is_tip))
        .then(_labels(tip_partner, partners))
        .otherwise(pl.lit("cr") + (pl.Series(video) % max(10, n_videos // 3)).cast(pl.String))
    ).to_series()
    partner_id = pl.select(pl.when(pl.Series(is_tip)).then(_labels(tip_partner, partners))).to_series()

    # A video keeps its hashtags; 85% of videos carry a campaign tag. Kept as an index into
    # ALL_TAGS until written, where it becomes a string (CSV) or a list (JSON, Parquet).
    campaign_video = (video * 2654435761 % 100) < 85
    tag_idx = np.where(
        is_tip, 0, np.where(campaign_video, video % len(CAMPAIGN_TAGS), len(CAMPAIGN_TAGS) + video % len(OTHER_TAGS))
    )
    hashtags = pl.select(pl.when(pl.Series(is_video_event)).then(pl.Series(tag_idx, dtype=pl.Int16))).to_series()

    surf, surf_keys = _choice(rng, SURFACE_WEIGHTS, n)
    surf[np.isin(etype, hub_codes)] = surf_keys.index("wellness_hub")
    surf[rng.random(n) < 0.02] = -1
    surface = _labels(surf, surf_keys)

    # Views and tip-video views carry a watch time (most of them; tip videos are watched
    # longer). One draw for both, so adding tip videos changed no other value of the data.
    watch = np.round(rng.lognormal(np.log(9_000), 0.9, size=n)).astype(np.int64)
    has_watch = rng.random(n)
    is_tip_view = etype == code["tip_video_view"]
    watch = np.where(is_tip_view, watch * 3, watch)
    watch_ms = pl.select(
        pl.when(pl.Series((is_view & (has_watch > 0.1)) | (is_tip_view & (has_watch > 0.2)))).then(pl.Series(watch))
    ).to_series()

    who = users.pick(rng, n)
    cols = users.columns(who)
    return pl.DataFrame(
        {
            "event_id": _prefixed("eng-", np.arange(n) + 10_000_000 * (rng.integers(1, 90))),
            "t": t,
            "user_id": cols["user_id"],
            "event_type": _labels(etype, type_keys),
            "video_id": video_id,
            "creator_id": creator,
            "hashtags": hashtags,
            "surface": surface,
            "watch_time_ms": watch_ms,
            "partner_id": partner_id,
            "province": cols["province"],
            "age_band": cols["age_band"],
            "language": cols["language"],
            "_file": day,
        }
    )


def _partner_weights(k: int) -> np.ndarray:
    w = np.array(PARTNER_WEIGHTS[:k] + (0.15,) * max(0, k - len(PARTNER_WEIGHTS)))
    return w / w.sum()


def _referral(
    rng: np.random.Generator, cal: _Calendar, users: _Users, settings: Settings, scale: float
) -> pl.DataFrame:
    n = max(1, round(REFERRAL_SHOWN_PER_SCALE * scale))
    day, t = cal.sample_times(rng, n, cal.weights(pre_launch=0.25, peak=0.6, decay_days=10.0, floor=0.6))
    partners = settings.partners
    partner = rng.choice(len(partners), size=n, p=_partner_weights(len(partners)))
    entry, entry_keys = _choice(rng, ENTRY_WEIGHTS, n)
    entry_names = np.array(entry_keys)[entry]
    # Each partner answers on its own channels; a few arrive as 'other' or missing.
    channel_pick = rng.random(n)
    channel = np.empty(n, dtype=object)
    for i, p in enumerate(partners):
        mask = partner == i
        channel[mask] = np.array(p.channels, dtype=object)[(channel_pick[mask] * len(p.channels)).astype(int)]
    odd = rng.random(n)
    channel[odd < 0.03] = "other"
    has_channel = odd <= 0.98

    click_p = np.array([CLICK_RATE[k] for k in entry_keys])[entry]  # per entry point, not per row
    clicked = rng.random(n) < click_p
    contact_p = np.array(CONTACT_RATE[: len(partners)] + (0.25,) * max(0, len(partners) - len(CONTACT_RATE)))[partner]
    contacted = clicked & (rng.random(n) < contact_p)

    who = users.pick(rng, n, skew=1.3)
    stage_rows = [
        (np.ones(n, dtype=bool), "shown", np.zeros(n, dtype=np.int64)),
        (clicked, "clicked", rng.integers(5, 120, size=n)),
        (contacted, "contacted", rng.integers(60, 3_600, size=n)),
    ]
    frames = []
    offset = np.zeros(n, dtype=np.int64)
    base = 20_000_000 * int(rng.integers(1, 40))
    for k, (mask, stage, delay) in enumerate(stage_rows):
        offset = offset + delay
        idx = np.flatnonzero(mask)
        cols = users.columns(who[idx])
        frames.append(
            pl.DataFrame(
                {
                    "event_id": _prefixed("ref-", base + k * 5_000_000 + idx),
                    "t": t[idx] + offset[idx],
                    "user_id": cols["user_id"],
                    "partner_id": _labels(partner[idx], [p.id for p in partners]),
                    "stage": pl.Series([stage] * len(idx), dtype=pl.String),
                    "entry_point": pl.Series(entry_names[idx], dtype=pl.String),
                    "channel": _masked(channel[idx], has_channel[idx]),
                    "province": cols["province"],
                    "age_band": cols["age_band"],
                    "language": cols["language"],
                    "_file": day[idx] // 7,
                    "_day": day[idx],
                }
            )
        )
    df = _plant_tap_drop(pl.concat(frames), cal, partners[0].id).drop("_day")
    missing_entry = pl.Series(rng.random(len(df)) < 0.02)
    return df.with_columns(pl.when(missing_entry).then(None).otherwise(pl.col("entry_point")).alias("entry_point"))


def _safety(rng: np.random.Generator, cal: _Calendar, users: _Users, scale: float) -> pl.DataFrame:
    n = max(1, round(SAFETY_PER_SCALE * scale))
    day, t = cal.sample_times(rng, n, cal.weights(pre_launch=0.45, peak=0.7, decay_days=8.0, floor=0.6))
    act, act_keys = _choice(rng, SAFETY_ACTION_WEIGHTS, n)
    actions = np.array(act_keys, dtype=object)[act]

    # Restores: a few removals are reversed on appeal one to five days later, inside the window.
    removal_idx = np.flatnonzero(actions == "removal")
    restored = removal_idx[rng.random(len(removal_idx)) < RESTORE_RATE]
    delay_days = rng.integers(1, 6, size=len(restored))
    keep = day[restored] + delay_days < len(cal.days)
    restored, delay_days = restored[keep], delay_days[keep]
    src = np.concatenate([np.arange(n), restored])
    m = len(src)
    actions = np.concatenate([actions, np.full(len(restored), "restore", dtype=object)])
    day = np.concatenate([day, day[restored] + delay_days])
    t = np.concatenate([t, t[restored] + delay_days * 86_400 + rng.integers(0, 3_600, size=len(restored))])

    ttype_draw = rng.random(n)
    ttype = np.where(
        ttype_draw < 0.5, "video", np.where(ttype_draw < 0.8, "comment", np.where(ttype_draw < 0.95, "account", "live"))
    ).astype(object)
    ttype[np.isin(actions[:n], ["block", "unblock", "comment_filter_on", "comment_filter_off"])] = "account"
    ttype = ttype[src]
    tnum = rng.integers(1, 40_000 * max(1, round(scale)), size=n)[src]
    prefix = {"video": "v", "comment": "cmt", "account": "acct", "live": "live"}
    target = pl.Series(ttype, dtype=pl.String).replace_strict(prefix) + pl.Series(tnum + 7_301_000_000).cast(pl.String)

    pol, pol_keys = _choice(rng, POLICY_WEIGHTS, n)
    policy = np.array(pol_keys, dtype=object)[pol][src]
    needs_policy = np.isin(actions, ["report", "removal", "restore"])
    is_removal = actions == "removal"
    proactive = rng.random(n)[src] < 0.86
    detection = np.where(proactive, "proactive", "user_report")
    zero_views = rng.random(n)[src] < np.where(proactive, 0.58, 0.05)
    views = np.where(zero_views, 0, np.round(rng.lognormal(np.log(400), 1.4, size=n)[src])).astype(np.int64)
    views_at_action = pl.select(
        pl.when(pl.Series(is_removal & (rng.random(m) > 0.1))).then(pl.Series(views))
    ).to_series()

    platform = np.isin(actions, ["removal", "restore"])
    who = users.pick(rng, m, skew=1.5)
    cols = users.columns(who)
    user_id = pl.select(pl.when(pl.Series(platform)).then(None).otherwise(cols["user_id"])).to_series()
    return pl.DataFrame(
        {
            "event_id": _prefixed("saf-", np.arange(m) + 30_000_000 * int(rng.integers(1, 30))),
            "t": t,
            "user_id": user_id,
            "action": pl.Series(actions, dtype=pl.String),
            "target_type": pl.Series(ttype, dtype=pl.String),
            "target_id": target,
            "policy": _masked(policy, needs_policy),
            "detection": _masked(detection, is_removal),
            "views_at_action": views_at_action,
            "province": cols["province"],
            "age_band": cols["age_band"],
            "language": cols["language"],
            "_file": day,
        }
    )


# --- surges for the alerts (pipelines/alerts.py) to find --------------------------------

SURGE_PROVINCE = "KH-17"  # Siem Reap
SURGE_REPORTS = 30  # extra self-harm reports on the day before the last
SURGE_DAYS_BEFORE_END = 1
DROP_DAYS = 7  # the first partner's helpline taps and contacts stop for the last week


def planted_surges(spec: DemoSpec, settings: Settings) -> dict[str, dict[str, Any]]:
    """What the demo plants for the alerts, as the manifest records it."""
    end = spec.end
    return {
        "self_harm_reports": {
            "metric": "reports_self_harm",
            "place": SURGE_PROVINCE,
            "day": (end - dt.timedelta(days=SURGE_DAYS_BEFORE_END)).isoformat(),
            "extra_reports": SURGE_REPORTS,
        },
        "helpline_taps_drop": {
            "metric": "helpline_taps",
            "partner_id": settings.partners[0].id,
            "place": "all",
            "first_day": (end - dt.timedelta(days=DROP_DAYS - 1)).isoformat(),
            "last_day": end.isoformat(),
        },
    }


def _plant_tap_drop(df: pl.DataFrame, cal: _Calendar, partner_id: str) -> pl.DataFrame:
    """No taps or contacts reach the first partner in the last week (a broken helpline card)."""
    last_week = pl.col("_day") >= len(cal.days) - DROP_DAYS
    gone = (pl.col("partner_id") == partner_id) & pl.col("stage").is_in(["clicked", "contacted"]) & last_week
    return df.filter(~gone)


def _plant_report_surge(df: pl.DataFrame, cal: _Calendar, users: _Users, seed: int) -> pl.DataFrame:
    """Self-harm reports surge in one province on one day (a harmful video going round)."""
    if len(cal.days) <= SURGE_DAYS_BEFORE_END:
        return df
    rng = np.random.default_rng([seed, 99])
    day = len(cal.days) - 1 - SURGE_DAYS_BEFORE_END
    n = SURGE_REPORTS
    cols = users.columns(users.pick(rng, n, skew=1.0))
    surge = pl.DataFrame(
        {
            "event_id": _prefixed("saf-surge-", np.arange(n)),
            "t": cal.midnight_utc[day] + rng.integers(17 * 3600, 23 * 3600, size=n),
            "user_id": cols["user_id"],
            "action": pl.Series(["report"] * n, dtype=pl.String),
            "target_type": pl.Series(["video"] * n, dtype=pl.String),
            "target_id": pl.Series([f"v73019{k % 3:05d}" for k in range(n)], dtype=pl.String),
            "policy": pl.Series(["self_harm"] * n, dtype=pl.String),
            "detection": pl.Series([None] * n, dtype=pl.String),
            "views_at_action": pl.Series([None] * n, dtype=df.schema["views_at_action"]),
            "province": pl.Series([SURGE_PROVINCE] * n, dtype=pl.String),
            "age_band": cols["age_band"],
            "language": cols["language"],
            "_file": pl.Series([day] * n, dtype=df.schema["_file"]),
        }
    )
    return pl.concat([df, surge.cast(df.schema)])


# --- bad rows and duplicates -----------------------------------------------------------


def _plant(rng: np.random.Generator, df: pl.DataFrame, stream: str) -> tuple[pl.DataFrame, dict[str, int], int]:
    """Break about 0.5% of rows (every kind at least twice) and add re-sent duplicate rows."""
    kinds = [k for k in BAD_KINDS if k.stream == stream]
    n = len(df)
    per_kind = max(2, round(BAD_ROW_RATE * n / len(kinds)))
    used = np.zeros(n, dtype=bool)
    kind_col = np.full(n, "", dtype=object)
    counts: dict[str, int] = {}
    for kind in kinds:
        ok = (kind.base(df).to_numpy() if kind.base else np.ones(n, dtype=bool)) & ~used
        candidates = np.flatnonzero(ok)
        chosen = rng.choice(candidates, size=min(per_kind, len(candidates)), replace=False)
        used[chosen] = True
        kind_col[chosen] = kind.name
        counts[kind.name] = len(chosen)
    df = df.with_columns(_bad=pl.Series(kind_col, dtype=pl.String), _time=pl.lit(None, dtype=pl.String))
    for kind in kinds:
        hit = pl.col("_bad") == kind.name
        updates = []
        for column, value in kind.mutate.items():
            if column == "_time" and value == "future":
                updates.append(pl.when(hit).then(pl.col("t") + 4 * 365 * 86_400).otherwise(pl.col("t")).alias("t"))
            elif value == "@long":
                updates.append(
                    pl.when(hit).then(pl.col(column) + "-" + pl.lit("x" * 130)).otherwise(pl.col(column)).alias(column)
                )
            else:
                updates.append(
                    pl.when(hit).then(pl.lit(value, dtype=df.schema[column])).otherwise(pl.col(column)).alias(column)
                )
        df = df.with_columns(updates)

    # Exporters re-send events: copies of good rows, half in the same file, half in the next one.
    n_dup = max(3, round(DUPLICATE_ROW_RATE * n))
    src = rng.choice(np.flatnonzero(~used), size=n_dup, replace=False)
    last_file = int(df["_file"].max())
    copies = df[src].with_columns(
        pl.when(pl.Series(rng.random(n_dup) < 0.5))
        .then(pl.col("_file"))
        .otherwise(pl.min_horizontal(pl.col("_file") + 1, pl.lit(last_file)))
        .alias("_file"),
        pl.col("t"),
    )
    return pl.concat([df.with_columns(_dup=pl.lit(False)), copies.with_columns(_dup=pl.lit(True))]), counts, n_dup


# --- writing files ---------------------------------------------------------------------


def _time_column(fmt: str, tz: str) -> pl.Expr:
    ts = pl.from_epoch(pl.col("t"), time_unit="s")
    if fmt == "iso_z":
        out = ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    elif fmt == "iso_offset":
        out = ts.dt.replace_time_zone("UTC").dt.convert_time_zone(tz).dt.strftime("%Y-%m-%dT%H:%M:%S%:z")
    elif fmt == "naive_utc":
        out = ts.dt.strftime("%Y-%m-%d %H:%M:%S")
    else:
        out = pl.col("t").cast(pl.String)
    return (
        pl.when(pl.col("_time") == "missing")
        .then(None)
        .when(pl.col("_time") == "invalid")
        .then(pl.lit("2026-13-45T25:61:00Z"))
        .otherwise(out)
        .alias("event_time")
    )


def _relative_path(stream: str, key: int, cal: _Calendar, ext: str) -> str:
    if stream == "referral":
        first = cal.days[min(key * 7, len(cal.days) - 1)]
        year, week, _ = first.isocalendar()
        return f"referral/{year}-W{week:02d}/helpline_referrals_{year}-W{week:02d}.{ext}"
    d = cal.days[key]
    if stream == "engagement":
        return f"engagement/{d:%Y/%m/%d}/engagement_{d:%Y%m%d}.{ext}"
    return f"safety/{d:%Y-%m}/trust_safety_{d:%Y%m%d}.{ext}"


def _hashtags(ext: str) -> pl.Expr:
    """Hashtags as exports carry them: '#MentalWell #selfcare' in CSV, a list elsewhere."""
    if ext.startswith("csv"):
        shapes: list[Any] = [" ".join(f"#{t}" for t in tags) for tags in ALL_TAGS]
        dtype: pl.DataType = pl.String()
    else:
        shapes, dtype = [list(tags) for tags in ALL_TAGS], pl.List(pl.String)
    return pl.col("hashtags").replace_strict(range(len(ALL_TAGS)), shapes, return_dtype=dtype)


def _encode(df: pl.DataFrame, ext: str) -> bytes | None:
    """The file's bytes for text formats (None for parquet, written directly)."""
    if ext == "parquet":
        return None
    raw = (df.write_csv() if ext.startswith("csv") else df.write_ndjson()).encode("utf-8")
    return gzip.compress(raw, compresslevel=1, mtime=0) if ext.endswith(".gz") else raw


def _write_stream(
    df: pl.DataFrame, stream: str, cal: _Calendar, d: DataDir, settings: Settings
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Write one file per partition (day or week), two at a time: Polars and zlib release the GIL."""
    df = df.sort("_file", "t", "_dup", maintain_order=True)  # one sort; each file is then a slice
    sizes = df.group_by("_file", maintain_order=True).len()
    starts = np.concatenate([[0], np.cumsum(sizes["len"].to_numpy())[:-1]])
    jobs = [
        (i, int(key), df.slice(int(start), int(n)))
        for i, (key, n, start) in enumerate(zip(sizes["_file"], sizes["len"], starts, strict=False))
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda job: _write_file(*job, stream, cal, d, settings), jobs))
    return [f for f, _ in results], [row for _, rows in results for row in rows]


def _write_file(
    i: int, key: int, part: pl.DataFrame, stream: str, cal: _Calendar, d: DataDir, settings: Settings
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    formats = FORMATS[stream]
    ext = formats[i % len(formats)]
    time_fmt = "iso_z" if ext == "parquet" else TIME_FORMATS[i % (4 if ext.startswith("csv") else 3)]
    out = part.with_columns(_time_column(time_fmt, settings.timezone))
    columns = [
        "event_id",
        "event_time",
        *[c for c in part.columns if not c.startswith("_") and c not in ("t", "event_id")],
    ]
    extra: list[str] = []
    if stream == "engagement" and i % 5 == 2:
        out = out.with_columns(app_version=pl.lit("34.8.") + (pl.col("t") % 7).cast(pl.String))
        extra.append("app_version")
    if stream == "safety" and i == 4:
        out = out.with_columns(reviewer_queue=pl.lit("kh-queue"))
        extra.append("reviewer_queue")
    table = out.select(columns + extra)
    if "hashtags" in columns:
        table = table.with_columns(_hashtags(ext))
    if ext.startswith("csv") and i % 3 == 1:
        table = table.rename({c: c.upper() if j % 2 else c.title() for j, c in enumerate(table.columns)})
    rel = _relative_path(stream, key, cal, ext)
    path = d.landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _encode(table, ext)
    if data is None:
        table.write_parquet(path, compression="zstd", statistics=False)
    else:
        path.write_bytes(data)
    first_line = 2 if ext.startswith("csv") else 1
    bad = out.with_row_index("_row").filter(pl.col("_bad") != "")
    bad_rows = [
        {"stream": stream, "kind": k, "path": rel, "line": int(r) + first_line}
        for k, r in zip(bad["_bad"].to_list(), bad["_row"].to_list(), strict=False)
    ]
    meta = {
        "path": rel,
        "stream": stream,
        "format": ext,
        "time_format": time_fmt,
        "rows": len(table),
        "extra_columns": extra,
    }
    return meta, bad_rows


def _plant_files(d: DataDir, files: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One exact copy of a referral file under another name, one truncated parquet file."""
    ref = next(f for f in files if f["stream"] == "referral")
    src = d.landing / ref["path"]
    dup_rel = str(
        Path(ref["path"]).with_name(Path(ref["path"]).name.replace("helpline_referrals", "helpline_referrals_resend"))
    )
    shutil.copyfile(src, d.landing / dup_rel)
    saf = next(f for f in files if f["stream"] == "safety" and f["format"] == "parquet")
    data = (d.landing / saf["path"]).read_bytes()
    bad_rel = saf["path"].replace(".parquet", "_partial.parquet")
    (d.landing / bad_rel).write_bytes(data[: len(data) // 2])
    return (
        {"path": dup_rel, "copy_of": ref["path"], "rows": ref["rows"]},
        {"path": bad_rel, "reason": "truncated parquet (upload cut off half way)"},
    )


def write_demo_data(settings: Settings, d: DataDir, spec: DemoSpec) -> dict[str, Any]:
    """Write the landing files and the manifest; return the manifest."""
    started = time.perf_counter()
    cal = _Calendar(spec, settings)
    users = _Users.make(np.random.default_rng([spec.seed, 0]), max(1_000, round(30_000 * spec.scale)))
    makers = {
        "engagement": lambda rng: _engagement(rng, cal, users, settings, spec.scale),
        "referral": lambda rng: _referral(rng, cal, users, settings, spec.scale),
        "safety": lambda rng: _plant_report_surge(_safety(rng, cal, users, spec.scale), cal, users, spec.seed),
    }
    all_files: list[dict[str, Any]] = []
    all_bad: list[dict[str, Any]] = []
    streams: dict[str, Any] = {}
    for k, (stream, make) in enumerate(makers.items(), start=1):
        rng = np.random.default_rng([spec.seed, k])
        df, bad_counts, n_dup = _plant(rng, make(rng), stream)
        files, bad_rows = _write_stream(df, stream, cal, d, settings)
        all_files += files
        all_bad += bad_rows
        streams[stream] = {
            "files": len(files),
            "rows": len(df),
            "bad_rows": sum(bad_counts.values()),
            "duplicate_rows": n_dup,
            "good_events": len(df) - sum(bad_counts.values()) - n_dup,
            "bad_by_kind": bad_counts,
        }
    duplicate_file, unreadable_file = _plant_files(d, all_files)
    manifest = {
        "seed": spec.seed,
        "scale": spec.scale,
        "days": spec.days,
        "first_day": spec.start.isoformat(),
        "last_day": spec.end.isoformat(),
        "timezone": settings.timezone,
        "streams": streams,
        "bad_kinds": {f"{k.stream}:{k.name}": k.rule for k in BAD_KINDS},
        "duplicate_file": duplicate_file,
        "unreadable_file": unreadable_file,
        "surges": planted_surges(spec, settings),
        "files": all_files,
        "bad_rows": all_bad,
    }
    d.demo_manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    manifest["seconds"] = time.perf_counter() - started
    return manifest
