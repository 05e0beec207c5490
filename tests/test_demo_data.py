"""`pulse demo-data`: deterministic, realistic, and carrying every kind of bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl
import pytest

from core.datadir import DataDir
from core.reference import AGE_BANDS, POLICIES, PROVINCES
from core.settings import Settings
from pipelines.demo_data import BAD_KINDS, DemoSpec, write_demo_data
from tests.conftest import read_landing_file

END = dt.date(2026, 11, 24)
LAUNCH = dt.date(2026, 10, 10)
TZ = "Asia/Phnom_Penh"


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def parse_times(col: str = "event_time") -> pl.Expr:
    """Test-side parser for the four shapes demo-data writes: Z, offset, naive UTC, epoch."""
    s = pl.col(col)
    return pl.coalesce(
        pl.when(s.str.contains(r"^\d+$")).then(
            pl.from_epoch(s.cast(pl.Int64, strict=False), time_unit="s").dt.replace_time_zone("UTC")
        ),
        s.str.to_datetime("%Y-%m-%dT%H:%M:%SZ", strict=False, time_zone="UTC"),
        s.str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", strict=False).dt.convert_time_zone("UTC"),
        s.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_zone="UTC"),
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    d = DataDir(tmp_path_factory.mktemp("demo")).ensure()
    manifest = write_demo_data(Settings(), d, DemoSpec(days=60, scale=1.0, seed=7, end=END))
    frames: dict[str, list[pl.DataFrame]] = {"engagement": [], "referral": [], "safety": []}
    for f in manifest["files"]:
        df = read_landing_file(d.landing / f["path"])
        first = 2 if f["format"].startswith("csv") else 1
        frames[f["stream"]].append(df.with_columns(_path=pl.lit(f["path"]), _line=pl.int_range(pl.len()) + first))
    streams = {
        s: pl.concat(fs, how="diagonal").with_columns(utc=parse_times(), local=parse_times().dt.convert_time_zone(TZ))
        for s, fs in frames.items()
    }
    return d, manifest, streams


def test_same_seed_same_bytes_different_seed_different(tmp_path: Path) -> None:
    spec = DemoSpec(days=21, scale=0.2, seed=11, end=END)
    digests = []
    for name, s in [("a", spec), ("b", spec), ("c", DemoSpec(days=21, scale=0.2, seed=12, end=END))]:
        d = DataDir(tmp_path / name).ensure()
        write_demo_data(Settings(), d, s)
        digests.append(tree_digest(d.landing))
    assert digests[0] == digests[1]
    assert len(digests[0]) > 40
    assert digests[0].keys() == digests[2].keys()
    assert all(digests[0][k] != digests[2][k] for k in digests[0])


def test_about_100k_events_and_half_a_percent_bad(demo) -> None:
    _, manifest, streams = demo
    total = sum(m["rows"] for m in manifest["streams"].values())
    assert 90_000 <= total <= 110_000
    for stream, m in manifest["streams"].items():
        assert len(streams[stream]) == m["rows"], stream  # the manifest matches the files
    bad = sum(m["bad_rows"] for m in manifest["streams"].values())
    assert 0.004 <= bad / total <= 0.007


def test_launch_day_spike_and_decay(demo) -> None:
    _, _, s = demo
    daily = (
        s["engagement"]
        .filter(pl.col("local").dt.year() == 2026)
        .group_by(day=pl.col("local").dt.date())
        .len()
        .sort("day")
    )
    by_day = dict(zip(daily["day"], daily["len"], strict=False))
    launch = by_day[LAUNCH]
    assert all(n < launch for day, n in by_day.items() if day != LAUNCH)
    assert launch > 3 * by_day[LAUNCH - dt.timedelta(days=1)]  # a spike, not a step
    first_week = sum(by_day[LAUNCH + dt.timedelta(days=i)] for i in range(1, 8))
    last_week = sum(by_day[END - dt.timedelta(days=i)] for i in range(7))
    assert first_week > 1.5 * last_week  # decay after launch


def test_weekly_rhythm_and_evening_peak(demo) -> None:
    _, _, s = demo
    later = s["engagement"].filter(
        pl.col("local").dt.date() > LAUNCH + dt.timedelta(days=14), pl.col("local").dt.date() <= END
    )
    per_day = later.group_by(day=pl.col("local").dt.date()).len().with_columns(weekend=pl.col("day").dt.weekday() >= 6)
    mean = per_day.group_by("weekend").agg(pl.col("len").mean()).sort("weekend")["len"].to_list()
    assert mean[1] > 1.15 * mean[0]  # weekends busier than weekdays
    hours = s["engagement"].group_by(h=pl.col("local").dt.hour()).len()
    by_hour = dict(zip(hours["h"], hours["len"], strict=False))
    assert sum(by_hour[h] for h in (19, 20, 21, 22)) > 4 * sum(by_hour[h] for h in (2, 3, 4, 5))
    assert max(by_hour, key=by_hour.get) in (19, 20, 21, 22)


def test_provinces_ages_languages(demo) -> None:
    _, _, s = demo
    names = {name.lower(): code for code, name, _ in PROVINCES}
    names.update({f"{name.lower()} province": code for code, name, _ in PROVINCES})
    codes = (
        s["engagement"]
        .select(
            pl.col("province")
            .str.to_lowercase()
            .replace_strict({**names, **{c.lower(): c for c, _, _ in PROVINCES}}, default=None)
        )
        .to_series()
        .value_counts(sort=True)
    )
    assert set(codes["province"].drop_nulls()) == {c for c, _, _ in PROVINCES}
    assert codes["province"][0] == "KH-12"  # Phnom Penh largest
    smallest = set(codes.drop_nulls().tail(4)["province"])
    assert "KH-23" in smallest  # Kep is among the smallest
    ages = s["engagement"]["age_band"].value_counts(sort=True)
    assert ages["age_band"][0] == "18-24"
    assert set(ages["age_band"].drop_nulls()) == set(AGE_BANDS) | {"13-17"}  # 13-17 is a planted bad row
    langs = s["engagement"]["language"].value_counts(sort=True)
    assert langs["language"].to_list()[:2] == ["km", "en"]
    assert {"km-KH", "en-US", "fr"} <= set(langs["language"].drop_nulls())
    assert s["engagement"]["language"].null_count() > 0


def test_hashtags_in_real_shapes_khmer_intact(demo) -> None:
    d, manifest, s = demo
    tags = s["engagement"]["hashtags"].drop_nulls()
    assert tags.str.contains("(?i)mentalwell").mean() > 0.7
    assert tags.str.contains("សុខភាពផ្លូវចិត្ត").any()
    assert (~tags.str.contains("(?i)mentalwell|សុខ")).any()  # unrelated videos too
    csv = next(f for f in manifest["files"] if f["stream"] == "engagement" and f["format"] == "csv")
    assert b"#MentalWell" in (d.landing / csv["path"]).read_bytes()
    jsonl = next(f for f in manifest["files"] if f["format"] == "jsonl" and f["stream"] == "engagement")
    assert "សុខភាពផ្លូវចិត្ត".encode() in (d.landing / jsonl["path"]).read_bytes()


def test_partners_and_the_helpline_funnel(demo) -> None:
    _, _, s = demo
    partners = set(Settings().partner_ids)
    ref = s["referral"].filter(
        pl.col("partner_id").is_in(partners), pl.col("stage").is_in(["shown", "clicked", "contacted"])
    )
    assert set(ref["partner_id"]) == partners
    tips = s["engagement"].filter(pl.col("event_type") == "tip_video_view")
    assert set(tips["partner_id"].drop_nulls()) >= partners
    for partner in partners:
        stages = dict(ref.filter(pl.col("partner_id") == partner)["stage"].value_counts().iter_rows())
        assert stages["shown"] > 4 * stages["clicked"] > 4 * stages["contacted"] > 0, partner
    cells = (
        ref.filter(pl.col("stage") == "clicked")
        .group_by("partner_id", "province", week=pl.col("local").dt.week())
        .len()
    )
    assert (cells["len"] < 10).mean() > 0.5  # most partner x province x week cells are small


def test_safety_mix(demo) -> None:
    _, _, s = demo
    saf = s["safety"]
    removals = saf.filter(pl.col("action") == "removal")
    assert (removals["detection"] == "proactive").mean() > 0.75
    assert (removals["views_at_action"] == "0").sum() > 0
    assert 0 < saf.filter(pl.col("action") == "restore").height < removals.height * 0.15
    assert set(POLICIES) <= set(saf["policy"].drop_nulls())
    assert removals["user_id"].null_count() == removals.height  # the platform acts, no user


def test_every_bad_kind_is_planted_where_the_manifest_says(demo) -> None:
    _, manifest, s = demo
    kinds = {(k.stream, k.name): k for k in BAD_KINDS}
    for stream, m in manifest["streams"].items():
        assert set(m["bad_by_kind"]) == {name for st, name in kinds if st == stream}
        assert all(n >= 2 for n in m["bad_by_kind"].values()), m["bad_by_kind"]
    located = {stream: df.select("_path", "_line", pl.all().exclude("_path", "_line")) for stream, df in s.items()}
    for row in manifest["bad_rows"]:
        kind = kinds[(row["stream"], row["kind"])]
        hit = located[row["stream"]].filter(pl.col("_path") == row["path"], pl.col("_line") == row["line"])
        assert hit.height == 1, row
        r = hit.row(0, named=True)
        for column, value in kind.mutate.items():
            if column == "_time":
                assert {
                    "missing": r["event_time"] in (None, ""),
                    "invalid": r["utc"] is None and bool(r["event_time"]),
                    "future": r["utc"] is not None and r["utc"].year >= 2030,
                }[value], (row, r)
            elif value is None:
                assert r[column] in (None, ""), (row, r)
            elif value == "@long":
                assert len(r[column]) > 128, row
            else:
                assert r[column] == str(value), (row, r)


def test_duplicates_files_formats_and_odd_columns(demo) -> None:
    d, manifest, s = demo
    for stream, m in manifest["streams"].items():
        ids = s[stream]["event_id"].drop_nulls()
        assert len(ids) - ids.n_unique() == m["duplicate_rows"], stream
    eng = s["engagement"].filter(pl.col("event_id").is_not_null() & pl.col("event_id").is_duplicated())
    assert eng.group_by("event_id").agg(pl.col("_path").n_unique())["_path"].max() == 2  # across files too
    dup = manifest["duplicate_file"]
    assert (d.landing / dup["path"]).read_bytes() == (d.landing / dup["copy_of"]).read_bytes()
    with pytest.raises(pl.exceptions.ComputeError):
        pl.read_parquet(d.landing / manifest["unreadable_file"]["path"])
    for stream in ("engagement", "referral", "safety"):
        formats = {f["format"] for f in manifest["files"] if f["stream"] == stream}
        assert {"csv", "csv.gz", "jsonl.gz", "parquet"} <= formats and formats & {"jsonl", "ndjson"}, stream
    assert {f["time_format"] for f in manifest["files"]} == {"iso_z", "iso_offset", "naive_utc", "epoch"}
    assert any(f["extra_columns"] == ["app_version"] for f in manifest["files"])
    headers = [
        (d.landing / f["path"]).read_text(encoding="utf-8").split("\n", 1)[0]
        for f in manifest["files"]
        if f["format"] == "csv"
    ]
    odd = [h for h in headers if h != h.lower()]
    assert odd and all(h.startswith("Event_Id,EVENT_TIME,") for h in odd)


def test_cli_prints_what_it_wrote(pulse, tmp_path: Path) -> None:
    r = pulse("--data-dir", str(tmp_path / "d"), "demo-data", "--scale", "0.05", "--end", "2026-11-24")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith(
        f"Wrote demo data to {tmp_path / 'd' / 'landing'} (2026-09-26 to 2026-11-24, seed 20261010, scale 0.05)"
    )
    assert lines[1].split() == ["stream", "files", "rows", "bad", "rows", "dup", "rows"]
    assert [ln.split()[0] for ln in lines[2:5]] == ["engagement", "referral", "safety"]
    assert "unreadable file planted: safety/" in r.out and "duplicate file planted:  referral/" in r.out
