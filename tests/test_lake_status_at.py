"""`pulse status --at TIME` (issue 16): what was published then, from the lake's snapshot of
that time; before the first refresh or older than `warehouse.keep_days`, one clear line."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from core.datadir import DataDir
from core.lake import connect_lake
from core.settings import Settings
from pipelines.housekeeping import prune_data_dir
from pipelines.refresh import refresh
from tests.test_crash_and_concurrency import KEY, batches, consistent, land

__all__ = ["batches"]
PHNOM_PENH = ZoneInfo("Asia/Phnom_Penh")


@pytest.fixture
def two_refreshes(batches, tmp_path, monkeypatch: pytest.MonkeyPatch):
    """A then B refreshed into a lake under tmp_path/data: (data dir, counts after A, after B,
    snapshot times by id)."""
    monkeypatch.setenv("PULSE_HMAC_KEY", KEY)
    src, a, b = batches
    d = DataDir(tmp_path / "data").ensure()
    land(src, d, a)
    refresh(Settings(), d, settle_seconds=0)
    after_a = consistent(d)
    land(src, d, b)
    refresh(Settings(), d, settle_seconds=0)
    con = connect_lake(Settings(), d)
    try:
        times = dict(
            con.sql("select snapshot_id, snapshot_time from ducklake_snapshots(current_database())").fetchall()
        )
    finally:
        con.close()
    assert sorted(times) == [0, 1, 2]
    return d, after_a, consistent(d), times


def rows(st: dict) -> tuple[int, ...]:
    return tuple(st["streams"][s]["rows"] for s in ("engagement", "referral", "safety"))


def test_status_at_a_time_shows_what_was_published_then(two_refreshes, pulse) -> None:
    d, after_a, after_b, times = two_refreshes
    assert after_a != after_b
    now = pulse("status", "--json", "--data-dir", "data")
    assert now.code == 0, now.err
    latest = json.loads(now.out)
    assert (latest["snapshot_id"], rows(latest), latest["refreshes_published"]) == ("2", after_b, 2)

    between = times[1] + (times[2] - times[1]) / 2
    res = pulse("status", "--json", "--at", between.astimezone(PHNOM_PENH).isoformat(), "--data-dir", "data")
    assert res.code == 0, res.err
    then = json.loads(res.out)
    assert (then["snapshot_id"], rows(then), then["refreshes_published"]) == ("1", after_a, 1)
    assert set(then) == set(latest) | {"at", "snapshot_time"}
    assert dt.datetime.fromisoformat(then["snapshot_time"]) == times[1]
    assert then["at"] == between.astimezone(PHNOM_PENH).isoformat()
    assert then["streams"]["engagement"]["quarantined"] <= latest["streams"]["engagement"]["quarantined"]

    # a date is the end of that day in the campaign timezone: today's is the latest snapshot
    today = dt.datetime.now(PHNOM_PENH).date().isoformat()
    res = pulse("status", "--json", "--at", today, "--data-dir", "data")
    assert res.code == 0, res.err
    assert (json.loads(res.out)["snapshot_id"], rows(json.loads(res.out))) == ("2", after_b)
    human = pulse("status", "--at", between.isoformat(), "--data-dir", "data")
    assert human.code == 0 and human.out.startswith(
        f"Published snapshot 1 at {between.isoformat()} (committed {times[1].isoformat()}): "
    ), human.out


def test_status_at_a_time_before_the_first_refresh_or_expired_is_one_line(two_refreshes, pulse) -> None:
    d, after_a, after_b, times = two_refreshes
    first = times[1].isoformat()
    res = pulse("status", "--at", "2026-01-01", "--data-dir", "data")
    assert (res.code, res.out) == (1, "")
    assert res.err == (
        f"Error: nothing was published at 2026-01-01T23:59:59.999999+07:00; the first refresh was published at {first}\n"
    )
    just_before = (times[1] - dt.timedelta(microseconds=1)).isoformat()
    res = pulse("status", "--json", "--at", just_before, "--data-dir", "data")
    assert (res.code, res.err) == (
        1,
        f"Error: nothing was published at {just_before}; the first refresh was published at {first}\n",
    )
    for bad in ("yesterday", "2026-11-30T12:00", "2026-13-01"):
        res = pulse("status", "--at", bad, "--data-dir", "data")
        assert res.code == 2 and res.err.count("\n") == 1, res.err
        assert res.err.startswith("Error: Invalid value for '--at': ") and repr(bad) in res.err, res.err

    # 30 days on, snapshot 1 (older than warehouse.keep_days) is expired: no time travel to it
    prune_data_dir(Settings(), d, now=times[2] + dt.timedelta(days=30, milliseconds=-1))
    between = (times[1] + (times[2] - times[1]) / 2).isoformat()
    res = pulse("status", "--at", between, "--data-dir", "data")
    assert (res.code, res.out) == (1, "")
    assert res.err == (
        f"Error: {between} is older than the lake keeps (warehouse.keep_days = 30): "
        f"the oldest snapshot kept is 2, committed at {times[2].isoformat()}\n"
    )
    res = pulse("status", "--json", "--at", times[2].isoformat(), "--data-dir", "data")
    assert res.code == 0 and (json.loads(res.out)["snapshot_id"], rows(json.loads(res.out))) == ("2", after_b)
