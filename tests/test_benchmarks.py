"""The benchmarks run at a tiny scale and report figures (timings are never asserted)."""

from __future__ import annotations

from benchmarks import demo_data, refresh


def test_refresh_benchmark_runs_at_a_tiny_scale() -> None:
    r = refresh.run(rows=3_000, with_prefect=False)
    assert set(r["formats"]) == {"parquet", "csv", "csv.gz"}
    for f in r["formats"].values():
        assert f["rows_in_file"] > 2_900
        assert f["ours_s"] > 0 and f["duckdb_s"] > 0 and f["ratio"] > 0
    assert r["incremental"]["rows"] > 9_000
    assert "ratio" in refresh.report(r)


def test_demo_data_benchmark_runs_at_a_tiny_scale() -> None:
    r = demo_data.run(scale=0.02, days=14)
    assert r["rows"] > 1_000 and r["ratio"] > 0


def test_pages_benchmark_runs_at_a_tiny_scale() -> None:
    from benchmarks import pages

    r = pages.run(scale=0.05, browser=False)
    assert set(r["pages"]) == {"overview", "audience", "hub", "referrals", "safety", "data-health"}
    assert all(v["default_median_ms"] > 0 and v["narrow_p95_ms"] > 0 for v in r["pages"].values())
    assert "overview" in pages.report(r)
