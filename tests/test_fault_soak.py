"""Fault soak: many refreshes with faults injected, then proof that nothing was lost, half
published or counted twice. Plain `pipelines.refresh.refresh` (the flow without Prefect): Prefect is not
the point here, and its start-up would make the soak slow.

The data dir lives on a small tmpfs when this machine lets the test mount one (root), so a
full disk and a read-only file system are real; otherwise a full disk is simulated at the
writer's edge (the commit raises ENOSPC) and the lake's data folder is chmod 0555.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from core.datadir import DataDir
from core.errors import PulseError
from core.settings import Settings
from pipelines import discover, publish, stage_file
from pipelines import refresh as r
from queries.warehouse import published, published_snapshot_id
from tests.conftest import REPO, read_landing_file

KEY = "soak-test-key-0123456789abcdef0123456789ab"
ROUNDS = 3  # every fault three times (SIGKILL at six steps in all)
KILL_POINTS = ["after_schema", "after_first_file", "after_marts", "before_commit", "in_commit", "after_commit"]
SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pipelines import refresh as r
    from pipelines.lake_write import RefreshBusy
    from core.datadir import DataDir
    from core.settings import Settings
    try:
        r.refresh(Settings(), DataDir(Path(sys.argv[1])), settle_seconds=0)
    except RefreshBusy:
        sys.exit(3)
    """
)
log = logging.getLogger("pulse.soak")


class Landing:
    """Writes engagement files: new views, re-sent ids and bad rows, with ids that never repeat by accident."""

    def __init__(self, d: DataDir) -> None:
        self.d, self.n, self.sent = d, 0, []

    def rows(self, good: int = 30, bad: int = 2, resent: int = 3) -> str:
        lines = []
        for _ in range(good):
            self.n += 1
            lines.append(f"s{self.n},2026-11-20T10:00:00Z,u{self.n % 17},view,v{self.n % 5}")
            self.sent.append(f"s{self.n}")
        lines += [f"x{self.n}-{i},2026-11-20T10:00:00Z,u1,wave,v1" for i in range(bad)]  # quarantined
        lines += [f"{i},2026-11-20T11:00:00Z,u2,view,v2" for i in self.sent[-good - resent : -good]]  # duplicates
        return "event_id,event_time,user_id,event_type,video_id\n" + "\n".join(lines) + "\n"

    def drop(self, name: str, text: str | None = None) -> Path:
        path = self.d.stream_landing("engagement") / name
        path.write_text(text if text is not None else self.rows())
        return path


@pytest.fixture
def data_root(tmp_path: Path):
    """(root, how): a 48 MB tmpfs when mountable, else a plain folder."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    mounted = (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mnt)], capture_output=True).returncode
        == 0
        if shutil.which("mount") and os.geteuid() == 0
        else False
    )
    try:
        yield mnt, "tmpfs" if mounted else "simulated"
    finally:
        if mounted:
            subprocess.run(["mount", "-o", "remount,rw", str(mnt)], capture_output=True)
            subprocess.run(["umount", str(mnt)], check=True)


def consistent(d: DataDir) -> tuple[int, int]:
    """Open the published snapshot read-only: rows equal what the ledger accounts for."""
    with published(d) as con:
        events, ledger = con.sql(
            "select (select count(*) from engagement_events),"
            " (select coalesce(sum(rows_loaded), 0) from file_ledger where stream = 'engagement')"
        ).fetchall()[0]
    assert events == ledger
    return events, ledger


def run_script(d: DataDir, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(d.root)],
        cwd=REPO,
        env={**os.environ, "PULSE_HMAC_KEY": KEY, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_fault_soak(data_root, monkeypatch: pytest.MonkeyPatch) -> None:
    root, how = data_root
    monkeypatch.setenv("PULSE_HMAC_KEY", KEY)
    d = DataDir(root / "data").ensure()
    land = Landing(d)
    injected: Counter[str] = Counter()
    survived: Counter[str] = Counter()
    errors: list[str] = []
    overlaps: list[list[int]] = []

    def refresh(expect_ok: bool = True, read_back: bool = True) -> dict:
        result: dict = {}
        try:
            result = r.refresh(Settings(), d, settle_seconds=0).to_json()
        except PulseError as e:
            errors.append(str(e))
            assert not expect_ok, e
        if read_back and published_snapshot_id(d) is not None:
            consistent(d)
        return result

    def survived_if(fault: str, ok: bool) -> None:
        injected[fault] += 1
        survived[fault] += bool(ok)

    land.drop("base.csv")
    refresh()
    real_discover, real_sha, real_check = discover.discover, stage_file.content_sha256, publish.check_counts
    for round_ in range(ROUNDS):
        # 1. SIGKILL mid-run, at several steps
        for point in KILL_POINTS[round_::ROUNDS]:
            land.drop(f"kill-{point}.csv")
            p = run_script(d, PULSE_FAULT_KILL_AT=point)
            p.communicate(timeout=120)
            before = consistent(d)
            refresh()
            survived_if("SIGKILL mid-run", p.returncode == -9 and consistent(d) >= before)

        # 2. a truncated file: quarantined whole with its reason, the rest loads
        whole = gzip.compress(land.rows().encode())
        (d.stream_landing("engagement") / f"truncated-{round_}.csv.gz").write_bytes(whole[: len(whole) // 2])
        land.drop(f"beside-truncated-{round_}.csv")
        res = refresh()
        unreadable = [u["path"] for u in res["files"]["unreadable"]]
        survived_if("truncated file", unreadable == [f"engagement/truncated-{round_}.csv.gz"] and res["published"])

        # 3. a file appears while the run lists the directory: the next run takes it
        appearing = f"appearing-{round_}.csv"

        def listing_then_drop(*args, name=appearing):
            found = real_discover(*args)
            land.drop(name)
            return found

        monkeypatch.setattr(discover, "discover", listing_then_drop)
        first = refresh()
        monkeypatch.setattr(discover, "discover", real_discover)
        second = refresh()
        survived_if("file appearing during listing", first["files"]["new"] == 0 and second["files"]["new"] == 1)

        # 4. a file modified after it was hashed: it waits, the next run loads its final content
        changing = land.drop(f"changing-{round_}.csv")
        extra = land.rows().split("\n", 1)[1]

        def hash_then_append(f, path=changing, extra=extra):
            digest = real_sha(f)
            if f.path == path and not path.read_text().endswith(extra):
                with open(path, "a") as fh:
                    fh.write(extra)
            return digest

        monkeypatch.setattr(stage_file, "content_sha256", hash_then_append)
        first = refresh()
        monkeypatch.setattr(stage_file, "content_sha256", real_sha)
        second = refresh()
        survived_if(
            "file modified after hashing",
            first["files"]["waiting"] == [f"engagement/changing-{round_}.csv"]
            and second["engagement"]["loaded"] == 60,  # its final content, whole
        )

        # 5. a read-only data dir: one-line failure, nothing published, next run fine
        # (root ignores chmod: without a tmpfs it is not injectable for root, and left out of the table)
        if how == "tmpfs" or os.geteuid() != 0:
            land.drop(f"readonly-{round_}.csv")
            before = consistent(d)
            if how == "tmpfs":
                subprocess.run(["mount", "-o", "remount,ro", str(root)], check=True)
            else:
                os.chmod(d.root / "lake" / "data", 0o555)
            try:  # read back once writable again: the lake's WAL-mode catalog needs its -shm file to be read
                refresh(expect_ok=False, read_back=False)
            finally:
                if how == "tmpfs":
                    subprocess.run(["mount", "-o", "remount,rw", str(root)], check=True)
                else:
                    os.chmod(d.root / "lake" / "data", 0o755)
            ro_ok = consistent(d) == before
            refresh()
            survived_if("read-only data dir", ro_ok)

        # 6. disk full, then freed
        land.drop(f"diskfull-{round_}.csv")
        before = consistent(d)
        ballast = root / "ballast"
        if how == "tmpfs":
            with open(ballast, "wb") as fh, contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * (1 << 20))
                    fh.flush()
        else:

            def full(*args, **kwargs):
                raise OSError(errno.ENOSPC, "No space left on device", str(d.root / "lake"))

            monkeypatch.setattr(publish, "check_counts", full)  # the commit's first step
        refresh(expect_ok=False, read_back=False)  # a full disk cannot open the WAL-mode catalog either
        said = errors[-1].endswith("free disk space under the data dir, the next run retries")
        ballast.unlink(missing_ok=True)
        monkeypatch.setattr(publish, "check_counts", real_check)
        full_ok = said and consistent(d) == before
        refresh()
        survived_if("disk full, then freed", full_ok and consistent(d) > before)

        # 7. two overlapping starts: one runs, the other waits its turn or is skipped with one line
        land.drop(f"overlap-{round_}-a.csv")
        land.drop(f"overlap-{round_}-b.csv")
        a, b = run_script(d), run_script(d)
        codes = sorted([a.wait(timeout=120), b.wait(timeout=120)])
        overlaps.append(codes)
        refresh()
        survived_if("two overlapping starts", codes in ([0, 0], [0, 3]))

    # --- proofs --------------------------------------------------------------------------
    final = sorted(d.stream_landing("engagement").iterdir())
    with published(d) as con:
        ids = Counter(i for (i,) in con.sql("select event_id from engagement_events").fetchall())
        quarantined = {
            (p, line): reason
            for p, line, reason in con.sql("select file_path, line, reason from quarantine_rows").fetchall()
        }
        ledger = {
            p: (status, reason)
            for p, status, reason in con.sql("select path, status, reason from file_ledger").fetchall()
        }
        runs = [json.loads(s) for (s,) in con.sql("select summary_json from refresh_runs").fetchall()]
    # read = loaded + duplicates + quarantined, per run and summed over all runs
    assert all(
        x["engagement"]["read"]
        == x["engagement"]["loaded"] + x["engagement"]["duplicates"] + x["engagement"]["quarantined"]["total"]
        for x in runs
    )
    total = Counter()
    for x in runs:
        for k in ("read", "loaded", "duplicates"):
            total[k] += x["engagement"][k]
        total["quarantined"] += x["engagement"]["quarantined"]["total"]
    assert total["read"] == total["loaded"] + total["duplicates"] + total["quarantined"]
    assert total["loaded"] == sum(ids.values()) and total["quarantined"] == len(quarantined)
    # every event_id that landed: loaded exactly once, or quarantined with its reason
    assert max(ids.values()) == 1  # nothing counted twice
    expected_ids, rows_seen = set(), 0
    for path in final:
        rel = str(path.relative_to(d.landing))
        if ledger[rel][0] == "unreadable":
            assert ledger[rel][1], rel  # quarantined whole, with the reason
            continue
        df = read_landing_file(path)
        for line, (event_id, event_type) in enumerate(zip(df["event_id"], df["event_type"], strict=True), start=2):
            rows_seen += 1
            if event_type == "wave":
                assert quarantined[(rel, line)] == "event_type: unknown value", (rel, line)
                assert event_id not in ids
            else:
                expected_ids.add(event_id)
    assert set(ids) == expected_ids
    assert rows_seen == total["read"]
    recorded = [json.loads(x) for x in d.runs_log.read_text().splitlines()]
    for o in recorded:
        if o["outcome"] == "success":
            e = o["streams"]["engagement"]
            assert e["read"] == e["loaded"] + e["duplicates"] + e["quarantined"]["total"]
    assert errors and all("\n" not in e and "Traceback" not in e for e in errors)  # one line each

    table = [f"fault soak on {how} data dir: {len(runs)} snapshots published, {len(recorded)} outcomes recorded"]
    table.append(f"  {'fault':<32}{'injected':>9}{'survived':>9}")
    table += [f"  {fault:<32}{injected[fault]:>9}{survived[fault]:>9}" for fault in injected]
    table.append(
        f"  totals: read {total['read']} = loaded {total['loaded']} + duplicates {total['duplicates']} "
        f"+ quarantined {total['quarantined']}"
    )
    table.append(f"  overlapping starts, exit codes (3 = skipped, lock held): {overlaps}")
    table += [f"  failure seen: {e}" for e in sorted(set(x.split(" (")[0] for x in errors))]
    print("\n" + "\n".join(table))
    log.warning("\n".join(table))
    assert survived == injected, table
