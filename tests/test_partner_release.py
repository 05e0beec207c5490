"""Partner releases end to end: the real refresh freezes protected weeks, `pulse export` and
the portal read only them, and an attacker holding every export of a month, from different
date ranges and two snapshots, cannot pin any `<N` figure to fewer than N values."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

import polars as pl
import pytest

from core import audit
from core.datadir import DataDir
from core.reference import CHANNELS, ENTRY_POINTS
from core.settings import Settings
from pipelines.refresh import refresh
from pipelines.releases import weeks_due
from queries import partner
from queries.warehouse import published
from tests.attacker import attack
from tests.test_refresh import write_file

N = 10
PARTNERS = ("tpo-cambodia", "arom-station")
WEEKS = (dt.date(2026, 10, 12), dt.date(2026, 10, 19), dt.date(2026, 10, 26))
PROVINCES = ("KH-12", "KH-17", "KH-2", "KH-3", "KH-23")


def referral_rows(seed: int, weeks: tuple[dt.date, ...], per_week: int, prefix: str) -> list[dict]:
    """Skewed, seeded referral events: a few big segments and many small ones."""
    rng = random.Random(seed)
    rows = []
    for partner_id in PARTNERS:
        for week in weeks:
            for i in range(rng.randint(per_week // 2, per_week)):
                stage = rng.choices(("shown", "clicked", "contacted"), weights=(6, 3, 1))[0]
                at = dt.datetime.combine(week, dt.time(3), dt.UTC) + dt.timedelta(hours=rng.randint(0, 160))
                rows.append(
                    {
                        "event_id": f"{prefix}-{partner_id}-{week}-{i}",
                        "event_time": at.isoformat(),
                        "user_id": f"u{rng.randint(1, 500)}",
                        "partner_id": partner_id,
                        "stage": stage,
                        "entry_point": rng.choices(ENTRY_POINTS, weights=(30, 10, 8, 4, 2, 1))[0],
                        "channel": rng.choices(CHANNELS, weights=(20, 10, 3, 2, 1))[0],
                        "province": rng.choices(PROVINCES, weights=(30, 8, 4, 2, 1))[0],
                        "age_band": rng.choice(("18-24", "25-34", "35-44")),
                        "language": rng.choices(("km", "en"), weights=(9, 1))[0],
                    }
                )
    return rows


def tip_rows(seed: int, weeks: tuple[dt.date, ...], prefix: str) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "event_id": f"{prefix}-tip-{partner_id}-{week}-{i}",
            "event_time": (dt.datetime.combine(week, dt.time(5), dt.UTC) + dt.timedelta(hours=i)).isoformat(),
            "user_id": f"v{i}",
            "event_type": "tip_video_view",
            "video_id": f"tip-{partner_id}",
            "partner_id": partner_id,
            "province": rng.choice(PROVINCES),
            "age_band": "unknown",
            "language": "km",
        }
        for partner_id in PARTNERS
        for week in weeks
        for i in range(rng.randint(5, 40))
    ]


def truth(rows: list[dict], tz: str = "Asia/Phnom_Penh") -> pl.DataFrame:
    """The real count of every (partner, week, measure, dimension, category) cell."""
    df = (
        pl.DataFrame(rows)
        .with_columns(
            day=pl.col("event_time").str.to_datetime(time_zone="UTC").dt.convert_time_zone(tz).dt.date(),
            measure=pl.col("stage"),
        )
        .with_columns(week_start=pl.col("day").dt.truncate("1w"), day=pl.col("day").cast(pl.String))
    )
    parts = [
        df.group_by("partner_id", "week_start", "measure", dim)
        .len("count")
        .rename({dim: "category"})
        .with_columns(dimension=pl.lit(dim))
        for dim in ("day", "entry_point", "channel", "province", "age_band", "language")
    ]
    total = df.group_by("partner_id", "week_start", "measure").len("count")
    parts.append(total.with_columns(dimension=pl.lit("total"), category=pl.lit("all")))
    return pl.concat(parts, how="diagonal_relaxed")


def exports(d: DataDir, settings: Settings, partner_id: str) -> list[dict[str, str]]:
    """Every cut of a month a curious partner could ask for: whole month, single weeks,
    a week minus a day, overlapping ranges."""
    ranges = [
        (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        (dt.date(2026, 10, 12), dt.date(2026, 10, 18)),
        (dt.date(2026, 10, 12), dt.date(2026, 10, 17)),
        (dt.date(2026, 10, 13), dt.date(2026, 10, 25)),
        (dt.date(2026, 10, 19), dt.date(2026, 11, 1)),
    ]
    rows = []
    with published(d) as con:
        for start, end in ranges:
            rows += (
                partner.report(con, settings, partner_id, start, end).with_columns(pl.all().cast(pl.String)).to_dicts()
            )
    return rows


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    """Two snapshots: the first load, then late events for an already released week and a
    new week. Returns the data dir, both snapshots' exports and the events loaded."""
    d = DataDir(tmp_path_factory.mktemp("release")).ensure()
    s = Settings()
    first_ref, first_tip = referral_rows(1, WEEKS, 120, "a"), tip_rows(2, WEEKS, "a")
    write_file(d, "referral/first.jsonl", first_ref)
    write_file(d, "engagement/first.jsonl", first_tip)
    r1 = refresh(s, d, settle_seconds=0, now=dt.datetime(2026, 11, 3, 12, tzinfo=dt.UTC))
    assert r1.published and sum(c.quarantined for c in r1.streams.values()) == 0
    snapshot_1 = {p: exports(d, s, p) for p in PARTNERS}
    late = (WEEKS[0], dt.date(2026, 11, 2))
    second_ref = referral_rows(3, late, 40, "b")
    write_file(d, "referral/second.jsonl", second_ref)
    r2 = refresh(s, d, settle_seconds=0, now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
    assert r2.published
    snapshot_2 = {p: exports(d, s, p) for p in PARTNERS}
    return d, s, snapshot_1, snapshot_2, first_ref, first_tip, second_ref


def test_weeks_are_released_only_after_they_end_and_the_grace_period() -> None:
    s = Settings()  # launch Sat 10 Oct 2026, weeks start on Monday, release 24 h after Sunday midnight
    sunday_midnight = dt.datetime(2026, 10, 12, tzinfo=s.tz)
    assert weeks_due(s, sunday_midnight + dt.timedelta(hours=23, minutes=59)) == []
    assert weeks_due(s, sunday_midnight + dt.timedelta(hours=24)) == [dt.date(2026, 10, 5)]
    assert weeks_due(s, dt.datetime(2026, 10, 27, tzinfo=s.tz))[-1] == dt.date(2026, 10, 19)


def test_released_figures_are_the_true_counts_protected(warehouse) -> None:
    d, s, _, _, first_ref, first_tip, _ = warehouse
    real = truth(first_ref)
    tips = truth([{**r, "stage": "tip_video_views", "entry_point": None, "channel": None} for r in first_tip])
    real = pl.concat([real, tips]).filter(pl.col("category").is_not_null())
    with published(d) as con:
        stored = con.sql(
            "select partner_id, week_start, measure, dimension, category, count_value, status from partner_releases "
            "where week_start < '2026-11-02'"
        ).pl()
    joined = stored.join(real, on=["partner_id", "week_start", "measure", "dimension", "category"], how="left")
    assert (joined["count_value"] == joined["count"].fill_null(0)).all()
    assert set(joined["status"]) >= {"shown", "small", "hidden"}
    assert joined.filter((pl.col("status") == "shown") & (pl.col("count_value") < N)).is_empty()
    assert joined.filter((pl.col("status") == "small") & (pl.col("count_value") >= N)).is_empty()
    assert joined.filter((pl.col("status") == "hidden") & (pl.col("count_value") < N)).is_empty()


def test_a_released_week_never_changes_when_late_events_arrive(warehouse) -> None:
    d, _, snapshot_1, snapshot_2, _, _, second_ref = warehouse
    assert any(r["event_time"] < "2026-10-19" for r in second_ref)  # late events for week 1 were loaded
    for p in PARTNERS:
        old = [r for r in snapshot_1[p] if r["week_start"] == str(WEEKS[0])]
        new = [r for r in snapshot_2[p] if r["week_start"] == str(WEEKS[0])]
        assert old and old == new
    with published(d) as con:  # the week of 2 Nov was released by the second refresh
        assert dt.date(2026, 11, 2) in partner.released_weeks(con, PARTNERS[0])


def test_every_exported_figure_is_at_least_min_cell_or_hidden(warehouse) -> None:
    _, _, snapshot_1, snapshot_2, _, _, _ = warehouse
    for rows in [*snapshot_1.values(), *snapshot_2.values()]:
        for r in rows:
            v = r["value"]
            assert v in (f"<{N}", "hidden", "withheld") or int(v) >= N, r


def test_an_export_holds_nothing_about_another_partner(warehouse) -> None:
    _, s, _, snapshot_2, _, _, _ = warehouse
    names = {p.id: p.name for p in s.partners}
    for p in PARTNERS:
        text = "".join(str(r) for r in snapshot_2[p])
        for other in set(names) - {p}:
            assert other not in text and names[other] not in text


def test_the_attacker_cannot_pin_any_small_figure(warehouse) -> None:
    """All exports of a month, different ranges and two snapshots, solved together."""
    _, _, snapshot_1, snapshot_2, _, _, _ = warehouse
    for p in PARTNERS:
        ranges = attack(snapshot_1[p] + snapshot_2[p], N)
        assert len(ranges) > 100
        pinned = {c: r for c, r in ranges.items() if r[1] - r[0] + 1 < N}
        assert not pinned, f"{p}: {len(pinned)} cells pinned, e.g. {next(iter(pinned.items()))}"


def test_the_attacker_would_pin_primary_suppression_alone(warehouse) -> None:
    """The attack is real: with `<N` only (no complementary hiding) it recovers cells."""
    d, s, _, _, _, _, _ = warehouse
    with published(d) as con:
        stored = con.sql(
            "select week_start::varchar as week_start, measure, dimension as breakdown, category, count_value "
            "from partner_releases where partner_id = 'tpo-cambodia'"
        ).pl()
    naive = stored.with_columns(
        breakdown=pl.when(pl.col("breakdown") == "total").then(pl.lit("Whole week")).otherwise("breakdown"),
        value=pl.when(pl.col("count_value") < N).then(pl.lit(f"<{N}")).otherwise(pl.col("count_value").cast(pl.String)),
    ).to_dicts()
    ranges = attack(naive, N)
    assert any(hi - lo + 1 < N for lo, hi in ranges.values())


def test_pulse_export_writes_the_report_and_fails_in_one_line(warehouse, pulse) -> None:
    d, s, _, snapshot_2, _, _, _ = warehouse
    args = ("--data-dir", str(d.root), "export", "--partner", "tpo-cambodia")
    r = pulse(*args, "--from", "2026-10-01", "--to", "2026-10-31", "--out", "-")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert rows == snapshot_2["tpo-cambodia"][: len(rows)]  # exports() asks for 1–31 Oct first
    assert {r["week_start"] for r in rows} == {"2026-10-05", *map(str, WEEKS)}
    logged = [e.detail for e in audit.entries(d) if e.action == audit.EXPORT]
    assert logged[0] == "pulse export --partner tpo-cambodia --from 2026-10-01 --to 2026-10-31 -> -"
    unknown = pulse(*args[:2], "export", "--partner", "nobody", "--out", "-")
    assert unknown.code == 1 and unknown.err.count("\n") == 1 and "unknown partner 'nobody'" in unknown.err
    empty = pulse("--data-dir", str(Path(d.root).parent / "empty"), "export", "--partner", "tpo-cambodia", "--out", "-")
    assert empty.code == 1 and "run 'pulse refresh'" in empty.err and empty.err.count("\n") == 1
