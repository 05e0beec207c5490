"""A small warehouse with hand-known figures, built by the real refresh."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from core.datadir import DataDir
from core.settings import Settings
from pipelines.refresh import refresh
from tests.test_refresh import write_file

DAY = "2026-10-12T05:00:00Z"  # 12 Oct 2026, noon in Phnom Penh


def eng(
    i: int,
    user: str,
    event_type: str,
    province: str = "KH-12",
    age: str = "18-24",
    language: str = "km",
    tags: str = "#MentalWell",
    **extra,
) -> dict:
    row = {
        "event_id": f"e{i}",
        "event_time": DAY,
        "user_id": user,
        "event_type": event_type,
        "video_id": "v1",
        "hashtags": tags,
        "province": province,
        "age_band": age,
        "language": language,
        "creator_id": None,
    }
    return {**row, **extra}


def build(root: Path) -> DataDir:
    """Expected on the Overview for launch..today, all segments:
    unique reach 4, views 5, engaged 2 (50.0%), posts 2 by 2 creators, Hub visitors 2,
    helpline taps 3, reports 2. With province KH-17 only: reach 1, views 1, engaged 1."""
    d = DataDir(root).ensure()
    rows = [
        eng(1, "u1", "view"),
        eng(2, "u1", "view"),
        eng(3, "u2", "view"),
        eng(4, "u3", "view"),
        eng(5, "u4", "view", province="Siem Reap", age="25-34", language="en"),
        eng(6, "u5", "view", tags="#fyp"),  # not a campaign video
        eng(7, "u1", "like"),
        eng(8, "u4", "share", province="KH-17", age="25-34", language="en"),
        eng(9, "u6", "post", creator_id="c1"),
        eng(10, "u7", "post", creator_id="c2"),
        eng(11, "u1", "hub_visit", video_id=None, tags=None),
        eng(12, "u2", "hub_visit", video_id=None, tags=None),
        eng(13, "u1", "hub_visit", video_id=None, tags=None),
    ]
    write_file(d, "engagement/2026/10/12/engagement.csv", rows)
    shown = [
        {
            "event_id": f"r{i}",
            "event_time": DAY,
            "user_id": f"p{i}",
            "partner_id": "tpo-cambodia",
            "stage": "shown",
            "entry_point": "search_intervention",
            "channel": "phone",
            "province": "KH-12",
        }
        for i in range(12)
    ]
    clicked = [{**r, "event_id": f"c{i}", "stage": "clicked"} for i, r in enumerate(shown[:3])]
    contacted = [{**clicked[0], "event_id": "k0", "stage": "contacted"}]
    write_file(d, "referral/2026-W42/referrals.jsonl", shown + clicked + contacted)
    write_file(
        d,
        "safety/2026-10/safety.jsonl",
        [
            {
                "event_id": "s1",
                "event_time": DAY,
                "user_id": "u1",
                "action": "report",
                "target_type": "video",
                "target_id": "v9",
                "policy": "bullying_harassment",
                "province": "KH-12",
            },
            {
                "event_id": "s2",
                "event_time": DAY,
                "user_id": "u2",
                "action": "report",
                "target_type": "comment",
                "target_id": "c9",
                "policy": "bullying_harassment",
                "province": "KH-12",
            },
            {
                "event_id": "s3",
                "event_time": DAY,
                "user_id": None,
                "action": "removal",
                "target_type": "video",
                "target_id": "v9",
                "policy": "bullying_harassment",
                "detection": "proactive",
                "views_at_action": 0,
                "province": "KH-12",
            },
        ],
    )
    result = refresh(Settings(), d, settle_seconds=0, now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
    assert result.published and sum(c.quarantined for c in result.streams.values()) == 0
    return d


# Accounts the dashboard tests sign in with: name -> (role, partner, password).
ACCOUNTS = {
    "policy-test": ("policy", None, "policy test password"),
    "admin-test": ("admin", None, "admin test password"),
    "tpo-test": ("partner", "tpo-cambodia", "tpo test password"),
    "arom-test": ("partner", "arom-station", "arom test password"),
}


def add_accounts(root: Path, accounts: dict[str, tuple[str, str | None, str]] = ACCOUNTS) -> None:
    """Create the accounts in the data dir through the real `pulse users add --password-stdin`."""
    import os
    import subprocess

    from tests.conftest import PULSE

    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    for name, (role, partner, password) in accounts.items():
        args = [str(PULSE), "--data-dir", str(root), "users", "add", name, "--role", role, "--password-stdin"]
        if partner:
            args += ["--partner", partner]
        p = subprocess.run(args, input=password + "\n", capture_output=True, text=True, env=env, timeout=60)
        assert p.returncode == 0, p.stderr
