"""The benchmarks run at a tiny scale and report figures (timings are never asserted)."""

from __future__ import annotations

import json

import pytest

from benchmarks import demo_data, suite


@pytest.mark.slow
def test_pulse_bench_runs_at_a_tiny_scale_and_writes_its_json(pulse, tmp_path) -> None:
    out = tmp_path / "bench.json"
    r = pulse("bench", "--rows", "3000", "--lake-up-to", "6000", "--no-browser", "--no-prefect", "--json", str(out))
    assert r.code == 0, r.err
    figures = json.loads(out.read_text())
    assert figures["rows"] == 3000
    assert set(figures["full_load"]) == {"parquet", "csv", "csv.gz"}
    for f in figures["full_load"].values():
        assert f["rows"] > 2_900
        assert f["ours_s"] > 0 and f["duckdb_s"] > 0 and f["polars_s"] > 0 and f["ours_peak_rss_gb"] > 0
    assert [p["rows"] for p in figures["scaling"]] == [3000, 6000]  # --lake-up-to: one lake beyond --rows
    assert figures["scaling"][1]["full_load_s"] > 0 and figures["scaling"][1]["warehouse_mb"] > 0
    for point in figures["scaling"]:
        assert point["incremental"]["rows"] > 9_000
        assert point["incremental"]["hourly"]["rows"] == 10_000
    assert set(figures["pages"]["pages"]) == {"overview", "audience", "hub", "referrals", "safety", "data-health"}
    assert "Full load" in r.out and "Scaling" in r.out and "overview" in r.out


def test_scale_points_stop_at_the_rows_asked_for() -> None:
    from benchmarks.refresh import scale_points

    assert scale_points(3_000) == [3_000]
    assert scale_points(3_000_000) == [1_000_000, 3_000_000]
    assert scale_points(10_000_000) == [1_000_000, 3_000_000, 10_000_000]
    assert scale_points(30_000_000) == [1_000_000, 3_000_000, 10_000_000, 30_000_000]
    assert scale_points(5_000_000) == [1_000_000, 3_000_000, 5_000_000]
    assert scale_points(10_000_000, 30_000_000) == [1_000_000, 3_000_000, 10_000_000, 30_000_000]
    assert scale_points(3_000, 6_000) == [3_000, 6_000]
    assert scale_points(3_000_000, 1_000) == [1_000_000, 3_000_000]  # never below --rows


def test_report_prints_every_section(tmp_path) -> None:
    # the shape pulse bench prints, from a small handmade result (no timing is asserted)
    fmt = {
        "file_mb": 1.0, "rows": 10, "duckdb_s": 1.0, "duckdb_peak_rss_gb": 0.1, "polars_s": 1.0,
        "polars_peak_rss_gb": 0.1, "ours_s": 2.0, "ours_rows_per_s": 5, "ours_peak_rss_gb": 0.2,
        "ratio_to_duckdb": 2.0, "ratio_to_polars": 2.0, "warehouse_mb": 1.0, "ours_timings": {},
        "duckdb_lake_s": 1.6, "ratio_to_duckdb_lake": 1.25,
    }  # fmt: skip
    r = {
        "rows": 10,
        "machine": {"cpus": 2, "memory_gb": 1.0, "python": "3.11", "load_average_at_start": [0.5, 0, 0]},
        "full_load": {"parquet": fmt},
        "scaling": [{"rows": 10, "full_load_s": 2.0, "warehouse_mb": 1.0,
                     "incremental": {"s": 1.0, "refresh_call_s": 0.5, "written_mb": 0.8, "written_per_byte_brought": 4.0,
                                     "hourly": {"s": 0.9, "refresh_call_s": 0.4, "written_mb": 0.6,
                                                "written_per_byte_brought": 3.5}},
                     "incremental_to_full_load": 0.5, "incremental_to_first": 1.0}],
        "replay_s": 0.1,
        "prefect": {"ephemeral": {"trivial_flow_s": 8.0, "pulse_refresh_nothing_new_s": 9.5, "ours_beyond_prefect_s": 1.5}},
        "pages": {"scale": 0.1, "events": 10, "refresh_s": 1.0, "pages": {}},
        "total_s": 1.0,
    }  # fmt: skip
    text = suite.report(r)
    assert "2.00x" in text and "ours beyond Prefect +1.50 s" in text and "0.500" in text
    assert "DuckLake table 1.60 s: ours 1.25x" in text and "4.0x" in text  # the lake's bare load, bytes written
    assert "1.00      0.50" in text  # the incremental run, and its refresh call alone
    assert "0.90      0.40" in text and "3.5x" in text  # the hourly one


def test_demo_data_benchmark_runs_at_a_tiny_scale() -> None:
    r = demo_data.run(scale=0.02, days=14)
    assert r["rows"] > 1_000 and r["ratio"] > 0


def _landing_counts(folder) -> dict[str, int]:
    """What the landing files hold, counted from the files themselves."""
    import polars as pl

    rows = pl.concat([pl.read_parquet(f, columns=["event_id"]) for f in sorted(folder.glob("*.parquet"))])
    with_id = rows.filter(pl.col("event_id").is_not_null())
    return {
        "files": len(list(folder.glob("*.parquet"))),
        "rows": rows.height,
        "without_event_id": rows.height - with_id.height,
        "resent": with_id.height - with_id["event_id"].n_unique(),
    }


@pytest.mark.slow
def test_pulse_bench_scale_out_loads_the_same_files_with_ours_and_with_dlt(pulse, tmp_path) -> None:
    from benchmarks import scale_out

    out = tmp_path / "scale-out.json"
    r = pulse("bench", "--scale-out", "--rows", "3000", "--json", str(out))
    assert r.code == 0, r.err
    so = json.loads(out.read_text())["scale_out"]
    # the same files again (the benchmark removed its own), counted independently of it
    scale_out.write_landing(tmp_path / "landing", 3000)
    counts = _landing_counts(tmp_path / "landing")
    assert counts == {"files": 9, "rows": 3036, "without_event_id": 2, "resent": 36}
    assert {k: so["landing"][k] for k in counts} == counts
    assert so["landing"]["bad"] == 30
    contenders = so["contenders"]
    ours = ["ours", "ours_served", "ours_no_prefect", "ours_workers_2", "postgres_s3_1_worker", "postgres_s3_2_workers"]
    assert list(contenders) == [*ours, "dlt"]
    for key in ours:  # every landing row once: loaded or quarantined, however and wherever it was staged
        c = contenders[key]
        assert c["measured"], c
        assert (c["loaded"], c["quarantined"], c["duplicates"], c["kept"]) == (2970, 30, 36, 3000), key
    for key in ours[3:]:
        assert contenders[key]["timings"]["stage_workers_s"] > 0, key
    # the peer's merge keeps one row per event_id: the landing less the re-sent rows, less the
    # rows without an event_id (which it drops: a merge key cannot be null)
    assert contenders["dlt"]["merged"] == contenders["dlt"]["kept"] == 3036 - 36 - 2
    assert contenders["dlt"]["merged"] == contenders["ours"]["kept"] - so["landing"]["without_event_id"]
    assert contenders["dlt"]["marts"]["mart_engagement_daily"] > 0
    for c in (v for v in contenders.values() if v["measured"]):
        assert set(c) >= {"s", "peak_rss_gb", "rows_per_s", "ratio_to_peer"}
    lines = r.out.splitlines()
    assert any(line.strip().startswith("ours: PostgreSQL + S3, --workers 2") and "not measured" not in line
               for line in lines)  # fmt: skip
    assert "Scale-out: the same 3,036 landing rows (9 Parquet files" in r.out
    assert "ours 2,970 loaded + 30 quarantined (36 duplicates dropped); dlt 2,998 merged" in r.out


@pytest.mark.slow
def test_the_dlt_peer_runs_alone_and_counts_every_merged_row_in_the_product_marts(tmp_path) -> None:
    import subprocess
    import sys

    import duckdb

    from benchmarks import scale_out

    scale_out.write_landing(tmp_path / "landing", 3000)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.dlt_peer", "--landing", str(tmp_path / "landing"), "--out", str(tmp_path / "peer")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["merged"] == 2998 and not out["has_failed_jobs"]
    con = duckdb.connect(str(tmp_path / "peer" / "peer.duckdb"), read_only=True)
    # every merged row is in the product's own daily and hourly marts, bad rows included (no quarantine)
    assert con.sql("select sum(count_events) from mart_engagement_daily").fetchall() == [(2998,)]
    assert con.sql("select sum(count_events) from mart_activity_hourly").fetchall() == [(2998,)]
    assert (
        con.sql("select sum(count_events) from mart_engagement_daily where event_type = 'dislike'").fetchall()[0][0]
        == 2
    )
    assert con.sql("select count(*) from user_numbers").fetchall()[0][0] > 0
    assert set(out["marts"]) == {
        "mart_engagement_daily", "mart_referral_daily", "mart_safety_daily", "mart_activity_hourly",
        "mart_campaign_creators", "mart_engagement_people_daily", "mart_people_returns", "mart_people_movers",
        "mart_hub_daily", "mart_totals_daily",
    }  # fmt: skip


def test_the_pages_benchmark_without_chromium_keeps_its_query_figures_and_says_why(monkeypatch, tmp_path) -> None:
    """A machine without Chromium: the first renders are "not measured" with the reason, and the
    queries' figures are kept (a 10M-row `pulse bench` used to end in a traceback there, losing
    every figure of its 38 minutes)."""
    from benchmarks import pages

    monkeypatch.setattr(pages, "CHROMIUM", str(tmp_path / "no-chromium"))
    r = pages.run(0.02, browser=True, work=tmp_path)
    assert r["renders_not_measured"] == f"{tmp_path / 'no-chromium'} is missing (.ci/setup --browser installs it)"
    assert set(r["pages"]) == {"overview", "audience", "hub", "referrals", "safety", "data-health"}
    assert all(v["default_median_ms"] > 0 and "first_render_ms" not in v for v in r["pages"].values())
    assert "first renders not measured: " in pages.report(r)
