"""Hostile and careless landing files (issue 14, points 2, 4, 5 and 12): a decompression
bomb, files over the line and file limits, names that look like glob patterns, symbolic
links, Parquet columns of unusable types, empty files. Real files, real DuckDB snapshots;
the bomb through the real `pulse refresh` with its peak RSS measured."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli.data import refresh_line, refresh_table
from core.datadir import DataDir
from core.settings import Settings, load_settings
from pipelines import refresh as r
from pipelines.refresh import RefreshResult
from queries.warehouse import published
from tests.conftest import PULSE, REPO
from tests.test_refresh import NOW, view, write_file

GiB = 1 << 30
RSS_BUDGET_KB = 3_000_000  # 3 GB: the normal load's budget (README "Benchmarks")


def refresh(d: DataDir, settings: Settings | None = None) -> RefreshResult:
    return r.refresh(settings or Settings(), d, settle_seconds=0, now=NOW)


def ledger(d: DataDir) -> list[tuple]:
    with published(d) as con:
        return con.sql("select path, status, reason, rows_read, rows_loaded from file_ledger order by path").fetchall()


def assert_accounted(result: RefreshResult) -> None:
    for stream, c in result.streams.items():
        assert c.read == c.loaded + c.duplicates + c.quarantined, stream


def zeros_gzip(path: Path, size: int) -> None:
    """`size` zero bytes, gzip-compressed a block at a time (a few MB on disk, no GiB in memory)."""
    block = bytes(1 << 20)
    z = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip member
    with path.open("wb") as out:
        for _ in range(size // len(block)):
            out.write(z.compress(block))
        out.write(z.flush())


# --- 2. a decompression bomb, and the line and file limits ------------------------------


def _tree_rss_kb(root: int) -> int:
    """Largest resident set among `root` and its descendants, from /proc (kB)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    worst, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        worst = max(worst, int(line.split()[1]))
        except OSError:
            continue
    return worst


def run_measured(cmd: list[str], cwd: Path, env: dict[str, str], budget_kb: int = RSS_BUDGET_KB):
    """Run `cmd` under a wrapper process that reports its children's peak RSS (the command and
    everything it started); a watchdog kills the whole tree past `budget_kb` (the test fails
    then, instead of the machine swapping). Returns stdout, stderr, ru_maxrss and polled kB."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(p.returncode)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", wrapper, *cmd],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    polled = {"max_kb": 0, "killed": False}

    def watch() -> None:
        while proc.poll() is None:
            rss = _tree_rss_kb(proc.pid)
            polled["max_kb"] = max(polled["max_kb"], rss)
            if rss > budget_kb:
                polled["killed"] = True
                os.killpg(proc.pid, signal.SIGKILL)
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = proc.communicate(timeout=900)
    watcher.join()
    assert not polled["killed"], f"peak RSS passed {budget_kb / 1e6:g} GB ({polled['max_kb']} kB polled); killed"
    assert proc.returncode == 0, err[-3000:]
    return out, err, int(err.strip().splitlines()[-1]), polled["max_kb"]


def test_a_gzip_bomb_is_recorded_unreadable_with_bounded_memory(tmp_path: Path, clean_env) -> None:
    """1 GiB of zeros as .csv.gz and .jsonl.gz (about 1 MB each on disk), through the real
    `pulse refresh`: both recorded unreadable with the limit they broke, the normal file
    loaded, peak RSS of the whole process tree under 3 GB; the next run reads none again."""
    d = DataDir(tmp_path / "data").ensure()
    zeros_gzip(d.landing / "engagement" / "bomb.csv.gz", GiB)
    zeros_gzip(d.landing / "engagement" / "bomb.jsonl.gz", GiB)
    assert (d.landing / "engagement" / "bomb.csv.gz").stat().st_size < 5_000_000
    write_file(d, "engagement/normal.csv", [view(1), view(2)])
    out, err, peak_kb, polled_kb = run_measured(
        [str(PULSE), "refresh", "--json", "--settle", "0", "--data-dir", str(d.root)], tmp_path, clean_env
    )
    print(
        f"peak RSS of pulse refresh on the 1 GiB bombs: {peak_kb / 1e6:.3f} GB (ru_maxrss), "
        f"{polled_kb / 1e6:.3f} GB (polled)"
    )
    assert peak_kb < RSS_BUDGET_KB
    result = json.loads(out)
    assert sorted(result["files"]["unreadable"], key=lambda u: u["path"]) == [
        {"path": "engagement/bomb.csv.gz", "reason": "line 1 is longer than 1 MiB"},
        {"path": "engagement/bomb.jsonl.gz", "reason": "line 1 is longer than 1 MiB"},
    ]
    e = result["engagement"]
    assert (e["read"], e["loaded"], e["duplicates"], e["quarantined"]["total"]) == (2, 2, 0, 0)
    assert [row[:3] for row in ledger(d)] == [
        ("engagement/bomb.csv.gz", "unreadable", "line 1 is longer than 1 MiB"),
        ("engagement/bomb.jsonl.gz", "unreadable", "line 1 is longer than 1 MiB"),
        ("engagement/normal.csv", "loaded", None),
    ]
    again = refresh(d)  # recorded: never read again
    assert again.files["new"] == 0 and again.files["unreadable"] == [] and again.files["skipped_seen"] == 3
    assert not again.published


def test_a_gzip_of_blank_lines_is_counted_not_parsed_with_bounded_memory(tmp_path: Path, clean_env) -> None:
    """256 MiB of newlines between two rows (.csv.gz and .jsonl.gz, 250 KB each): under every
    limit, so read; the blank lines are no rows, and the load (the refresh without Prefect, in
    its own process) stays under 1 GB."""
    d = DataDir(tmp_path / "data").ensure()
    for name, rows in (("blank.csv.gz", [view(1), view(2)]), ("blank.jsonl.gz", [view(3), view(4)])):
        plain = write_file(d, f"engagement/{name.removesuffix('.gz')}", rows)
        *head, last = plain.read_bytes().rstrip(b"\n").split(b"\n")
        plain.unlink()
        z = zlib.compressobj(6, zlib.DEFLATED, 31)
        with (d.landing / "engagement" / name).open("wb") as out:
            out.write(z.compress(b"\n".join(head) + b"\n"))
            for _ in range(256):
                out.write(z.compress(b"\n" * (1 << 20)))
            out.write(z.compress(last + b"\n") + z.flush())
    script = (
        "import sys; from pathlib import Path; from pipelines import refresh as r; "
        "from core.datadir import DataDir; from core.settings import Settings; "
        "r.refresh(Settings(), DataDir(Path(sys.argv[1])), settle_seconds=0)"
    )
    _, _, peak_kb, _ = run_measured([sys.executable, "-c", script, str(d.root)], REPO, clean_env, 1_000_000)
    print(f"peak RSS on 2 x 256 MiB of blank lines: {peak_kb / 1e6:.3f} GB")
    with published(d) as con:
        assert con.sql("select event_id from engagement_events order by 1").fetchall() == [
            ("e1",),
            ("e2",),
            ("e3",),
            ("e4",),
        ]
    assert [(p, s, n) for p, s, _, n, _ in ledger(d)] == [
        ("engagement/blank.csv.gz", "loaded", 2),
        ("engagement/blank.jsonl.gz", "loaded", 2),
    ]


def test_a_file_over_max_file_bytes_from_the_config_is_recorded_unreadable(tmp_path: Path) -> None:
    config = tmp_path / "campaign.toml"
    config.write_text("[validation]\nmax_file_bytes = 1000\n", encoding="utf-8")
    settings = load_settings(config)
    assert settings.validation.max_file_bytes == 1000
    d = DataDir(tmp_path / "data").ensure()
    rows = [view(i) for i in range(20)]  # about 1,900 bytes as CSV, short lines
    write_file(d, "engagement/big.csv.gz", rows)
    write_file(d, "engagement/big.jsonl", rows)
    write_file(d, "engagement/small.csv", rows[:3])
    result = refresh(d, settings)
    assert result.files["unreadable"] == [
        {"path": "engagement/big.csv.gz", "reason": "decompressed size over validation.max_file_bytes (1,000 bytes)"},
        {"path": "engagement/big.jsonl", "reason": "size over validation.max_file_bytes (1,000 bytes)"},
    ]
    c = result.streams["engagement"]
    assert (c.read, c.loaded, c.duplicates, c.quarantined) == (3, 3, 0, 0)
    again = refresh(d, settings)
    assert (again.files["new"], again.files["skipped_seen"], again.files["unreadable"]) == (0, 3, [])


def test_the_default_file_limit_is_10_gib() -> None:
    assert Settings().validation.max_file_bytes == 10 * GiB == 10737418240


def test_a_line_over_1_mib_makes_the_file_unreadable_with_its_line_number(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "data").ensure()
    long_tags = "#x" * (600 * 1024)  # 1.2 MB on one line
    write_file(d, "engagement/long.jsonl", [view(1), view(2, hashtags=long_tags), view(3)])
    write_file(d, "engagement/long.csv", [view(4), view(5), view(6, hashtags=long_tags)])
    just = "x" * (1024 * 1024 - 200)  # a line just under 1 MiB is read (in an unknown column: hashtags
    write_file(d, "engagement/ok.csv", [view(7, note=just)])  # may hold 2,048 characters, CONTRACT §2)
    result = refresh(d)
    assert sorted(result.files["unreadable"], key=lambda u: u["path"]) == [
        {"path": "engagement/long.csv", "reason": "line 4 is longer than 1 MiB"},
        {"path": "engagement/long.jsonl", "reason": "line 2 is longer than 1 MiB"},
    ]
    assert result.streams["engagement"].loaded == 1
    assert_accounted(result)


def test_a_csv_gz_larger_than_one_read_block_loads_every_row_with_its_line(tmp_path: Path) -> None:
    """Streamed in blocks: rows across block boundaries, quoted newlines and Khmer intact."""
    d = DataDir(tmp_path / "data").ensure()
    n = 120_000
    rows = [view(i, hashtags="#MentalWell\n#ស្ងប់" if i % 1000 == 7 else "#MentalWell #fyp") for i in range(n)]
    rows[50_000]["event_type"] = "dislike"  # one bad row, to check its line number
    write_file(d, "engagement/many.csv.gz", rows)
    result = refresh(d)
    c = result.streams["engagement"]
    assert (c.read, c.loaded, c.quarantined) == (n, n - 1, 1)
    with published(d) as con:
        assert con.sql("select line, field from quarantine_rows").fetchall() == [(50_002, "event_type")]
        assert con.sql("select count(*) from engagement_events where list_contains(hashtags, 'ស្ងប់')").fetchall() == [
            (120,)
        ]


# --- 4. file names are literal paths, never glob patterns --------------------------------


@pytest.mark.parametrize("ext", [".csv", ".jsonl", ".csv.gz", ".parquet"])
def test_names_that_look_like_glob_patterns_are_read_literally(tmp_path: Path, ext: str) -> None:
    d = DataDir(tmp_path / "data").ensure()
    write_file(d, f"engagement/export[1]{ext}", [view(1)])
    write_file(d, f"engagement/*{ext}", [view(2)])
    write_file(d, f"engagement/a{ext}", [view(3), view(4)])
    write_file(d, f"engagement/b?{ext}", [view(5)])
    result = refresh(d)
    assert result.files["unreadable"] == []
    assert (result.files["new"], result.files["skipped_seen"]) == (4, 0)
    assert [(p, s, n) for p, s, _, n, _ in ledger(d)] == [
        (f"engagement/*{ext}", "loaded", 1),
        (f"engagement/a{ext}", "loaded", 2),
        (f"engagement/b?{ext}", "loaded", 1),
        (f"engagement/export[1]{ext}", "loaded", 1),
    ]
    c = result.streams["engagement"]
    assert (c.read, c.loaded, c.duplicates) == (5, 5, 0)


# --- 5. symbolic links are never followed out of the landing zone ------------------------


def test_symbolic_links_are_skipped_and_reported_never_read(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "data").ensure()
    key = d.secrets / "hmac.key"
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text("k" * 64 + "\n", encoding="ascii")
    outside = tmp_path / "outside"
    outside.mkdir()
    write_file(d, "engagement/real.csv", [view(1)])
    (outside / "x.csv").write_bytes((d.landing / "engagement" / "real.csv").read_bytes().replace(b"e1,", b"e9,"))
    eng = d.landing / "engagement"
    (eng / "passwd.csv").symlink_to("/etc/passwd")
    (eng / "key.csv").symlink_to(key)
    (eng / "relative.csv").symlink_to("../../secrets/hmac.key")
    (eng / "exports").symlink_to(outside, target_is_directory=True)
    (eng / "etc").symlink_to("/etc", target_is_directory=True)
    (eng / "alias.csv").symlink_to(eng / "real.csv")
    (eng / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    (d.landing / "referral").rmdir()
    (d.landing / "referral").symlink_to(outside, target_is_directory=True)
    result = refresh(d)
    out = "symbolic link pointing outside the landing zone"
    assert result.files["skipped"] == [
        {
            "path": "engagement/alias.csv",
            "reason": "symbolic link to engagement/real.csv inside the landing zone "
            "(not followed: a file is read under its own name)",
        },
        {"path": "engagement/etc", "reason": out},
        {"path": "engagement/exports", "reason": out},
        {"path": "engagement/gone.csv", "reason": "broken symbolic link"},
        {"path": "engagement/key.csv", "reason": out},
        {"path": "engagement/passwd.csv", "reason": out},
        {"path": "engagement/relative.csv", "reason": out},
        {"path": "referral", "reason": out},
    ]
    assert result.to_json()["files"]["skipped"] == result.files["skipped"]
    assert refresh_line(result.to_json()).endswith("(1 new files, 0 already seen, 0 unreadable, 8 skipped, not read).")
    assert (
        "  skipped: engagement/passwd.csv: symbolic link pointing outside the landing zone"
        in refresh_table(result.to_json()).splitlines()
    )
    assert result.files["unreadable"] == [] and result.files["new"] == 1
    assert [row[0] for row in ledger(d)] == ["engagement/real.csv"]
    c = result.streams["engagement"]
    assert (c.read, c.loaded) == (1, 1)
    with published(d) as con:
        assert con.sql("select event_id from engagement_events").fetchall() == [("e1",)]
        assert con.sql("select count(*) from quarantine_rows").fetchall() == [(0,)]
    again = refresh(d)  # still reported, still not read
    assert again.files["skipped"] == result.files["skipped"] and again.files["new"] == 0


def test_a_landing_folder_that_is_itself_a_link_is_the_landing_zone(tmp_path: Path) -> None:
    """An operator may mount the landing zone elsewhere: links inside it are judged against its real place."""
    d = DataDir(tmp_path / "data").ensure()
    real = tmp_path / "mnt" / "landing"
    real.parent.mkdir()
    os.rename(d.landing, real)
    d.landing.symlink_to(real, target_is_directory=True)
    write_file(d, "engagement/a.csv", [view(1)])
    result = refresh(d)
    assert (result.files["new"], result.files["skipped"]) == (1, [])


# --- 12. Parquet columns of unusable types, empty files ----------------------------------


def _parquet(path: Path, extra: dict[str, pa.Array] | None = None, **replace: pa.Array) -> None:
    rows = [view(1), view(2)]
    cols = {k: pa.array([r[k] for r in rows]) for k in rows[0]}
    cols.update(replace)
    cols.update(extra or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(cols), path)


def test_unknown_parquet_columns_of_any_type_are_ignored(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "data").ensure()
    _parquet(
        d.landing / "engagement" / "extra.parquet",
        extra={
            "Blob": pa.array([b"\x00\xff", b"\x01"], type=pa.binary()),
            "attrs": pa.array([[("k", "v")], []], type=pa.map_(pa.string(), pa.string())),
            "fixed": pa.array([b"ab", b"cd"], type=pa.binary(2)),
        },
    )
    result = refresh(d)
    assert result.files["unreadable"] == []
    assert result.unknown_columns == [{"path": "engagement/extra.parquet", "columns": ["attrs", "blob", "fixed"]}]
    c = result.streams["engagement"]
    assert (c.read, c.loaded, c.quarantined) == (2, 2, 0)


def test_a_known_parquet_column_of_an_unusable_type_is_named(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "data").ensure()
    _parquet(d.landing / "engagement" / "binary.parquet", user_id=pa.array([b"u1", b"u2"], type=pa.binary()))
    _parquet(
        d.landing / "engagement" / "map.parquet",
        hashtags=pa.array([[("a", "b")], []], type=pa.map_(pa.string(), pa.string())),
    )
    result = refresh(d)
    assert result.files["unreadable"] == [
        {"path": "engagement/binary.parquet", "reason": "column user_id: binary, not text, a number or a timestamp"},
        {"path": "engagement/map.parquet", "reason": "column hashtags: map, not text, a number or a timestamp"},
    ]
    assert_accounted(result)


def test_empty_files_are_reported_empty_never_duplicate(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "data").ensure()
    names = ["a.csv", "b.csv.gz", "c.jsonl", "d.jsonl.gz", "e.parquet", "f.ndjson"]
    for name in names:
        (d.landing / "engagement" / name).write_bytes(b"")
    (d.landing / "safety" / "g.csv.gz").write_bytes(gzip.compress(b"", mtime=0))  # gzip of nothing
    result = refresh(d)
    assert result.files["unreadable"] == [
        *({"path": f"engagement/{n}", "reason": "empty file (0 bytes)"} for n in names),
        {"path": "safety/g.csv.gz", "reason": "empty file (0 bytes after decompression)"},
    ]
    assert (result.files["new"], result.files["skipped_seen"]) == (0, 0)
    assert {row[1] for row in ledger(d)} == {"unreadable"}
    again = refresh(d)
    assert (again.files["new"], again.files["skipped_seen"], again.files["unreadable"]) == (0, 7, [])


def test_a_landing_file_written_later_under_an_empty_name_is_read(tmp_path: Path) -> None:
    """An empty file is recorded by path, size and mtime: once the exporter fills it, it is new."""
    d = DataDir(tmp_path / "data").ensure()
    path = d.landing / "engagement" / "late.csv"
    path.write_bytes(b"")
    refresh(d)
    write_file(d, "engagement/late.csv", [view(1)])
    result = refresh(d)
    assert (result.files["new"], result.streams["engagement"].loaded) == (1, 1)


def test_a_csv_quote_left_open_cannot_take_the_file_into_memory(tmp_path: Path) -> None:
    """A row may span lines inside quotes, but no more than 1 MiB of them: the row is a line."""
    d = DataDir(tmp_path / "data").ensure()
    path = write_file(d, "engagement/open.csv", [view(1), view(2)])
    with path.open("a", encoding="utf-8") as out:
        out.write('e3,2026-10-10T12:00:00Z,u3,view,v1,"#open\n' + "#more tags\n" * 120_000)
    result = refresh(d)
    assert result.files["unreadable"] == [{"path": "engagement/open.csv", "reason": "line 4 is longer than 1 MiB"}]
    assert_accounted(result)


def test_a_file_swapped_for_a_link_after_discovery_is_not_read(tmp_path: Path) -> None:
    from pipelines.discover import discover_new_files
    from pipelines.publish import publish
    from pipelines.stage import stage

    d = DataDir(tmp_path / "data").ensure()
    path = write_file(d, "engagement/a.csv", [view(1)])
    write_file(d, "engagement/b.csv", [view(2)])
    plan = discover_new_files(d, settle_seconds=0)
    path.unlink()
    path.symlink_to("/etc/passwd")  # between the listing and the read
    staged = stage(Settings(), d, plan, NOW)
    result = RefreshResult.from_staged(staged, publish(d, staged))
    assert (result.files["new"], result.files["unreadable"], result.files["waiting"]) == (1, [], ["engagement/a.csv"])
    with published(d) as con:
        assert con.sql("select event_id from engagement_events").fetchall() == [("e2",)]
        assert con.sql("select count(*) from quarantine_rows").fetchall() == [(0,)]
    assert refresh(d).files["skipped"] == [
        {"path": "engagement/a.csv", "reason": "symbolic link pointing outside the landing zone"}
    ]


def test_a_parquet_file_over_max_file_bytes_by_its_footer_is_recorded_unreadable(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "data").ensure()
    n = 100_000
    table = pa.table({k: pa.array([v] * n) for k, v in view(0).items()})  # a few KB on disk, MBs of pages
    pq.write_table(table, d.landing / "engagement" / "dense.parquet", compression="zstd", use_dictionary=False)
    small = d.landing / "engagement" / "small.parquet"
    pq.write_table(pa.table({k: pa.array([v]) for k, v in view(1).items()}), small)
    on_disk = (d.landing / "engagement" / "dense.parquet").stat().st_size
    limit = 100_000
    assert on_disk < limit < pq.read_metadata(d.landing / "engagement" / "dense.parquet").row_group(0).total_byte_size
    assert small.stat().st_size < limit
    result = refresh(d, Settings(validation={"max_file_bytes": limit}))
    assert result.files["unreadable"] == [
        {
            "path": "engagement/dense.parquet",
            "reason": "uncompressed size over validation.max_file_bytes (100,000 bytes)",
        }
    ]
    assert (result.streams["engagement"].read, result.streams["engagement"].loaded) == (1, 1)
