"""`pulse bench --scale-out`: every way to load the same landing files, in one run (issue 17).

The landing zone: about --rows realistic engagement rows (benchmarks.refresh: 0.5% bad rows,
0.2% re-sent within a file) in FILES Parquet files in time order, and one more file re-sending
1% of the good rows of the others (same event_id, same content), as an exporter that re-sends
does. Written once; every contender reads these same files (hard links into its own fresh
data dir).

The contenders (CONTENDERS, in the order they run), each a fresh process of its own:
- ours, `pulse refresh`: the embedded load as a person runs it (SQLite catalog, local Parquet
  files, Prefect's ephemeral API started by the process), into a fresh data dir;
- ours against a running Prefect server (the run's own `prefect server start`): the same
  refresh as `pulse serve`'s scheduled runs pay for it, without the ephemeral API's start-up;
- ours without Prefect: the same load (benchmarks.embedded_load), as the peer runs, without an
  orchestrator;
- ours on PostgreSQL + S3 with 1 and 2 stage workers: `pulse refresh --workers N` with the
  catalog in a PostgreSQL database and the data path in an S3 bucket of their own, both on this
  machine's loopback (benchmarks/services.py: Debian's PostgreSQL, moto's server standing in for
  the object store, so the network and the store are not a real one's), reporting to the run's
  Prefect server as a deployment would; the workers are Prefect task processes, the refresh's
  own process is the committer;
- the peer a data team would build instead: dlt merging on event_id into DuckDB plus the same
  marts in SQL (benchmarks.dlt_peer, which says what it does not do).
Each: wall time of the process, peak RSS (resource.getrusage(RUSAGE_CHILDREN).ru_maxrss,
read in a fresh intermediate process that only runs it: the largest resident set of any
process of its tree), the landing rows per second, the ratio of its time to the peer's, and
its row counts: ours loaded + quarantined and the peer's merged rows must both be the landing
rows less the re-sent ones (less, for the peer, the rows without an event_id, which a merge on
that key cannot hold: it drops them).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import refresh as rb
from benchmarks.measure import measured
from core.datadir import PREFECT_DEFAULTS, DataDir
from core.errors import PulseError

FILES = 8
RESENT_RATE = 0.01
ROOT = Path(__file__).resolve().parent.parent  # the source checkout: `python -m benchmarks...` runs from it
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Landing:
    folder: Path  # the Parquet files, flat
    figures: dict[str, Any]


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    # (argv, env) of its one process, given the landing files, a fresh folder of its own and the
    # services (None when they could not start: a contender that needs them is not measured)
    command: Callable[[Landing, Path, Services | None], tuple[list[str], dict[str, str]]]
    # its figures from what it printed (one JSON object)
    counts: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    needs_services: bool = False


@dataclass
class Services:
    """PostgreSQL, the S3 endpoint (benchmarks/services.py) and a Prefect server
    (benchmarks/prefect_startup.py), started for the run: a deployment's shared parts."""

    pg: Any
    s3: Any
    prefect_api: str


def write_landing(folder: Path, rows: int, seed: int = 1) -> dict[str, Any]:
    """FILES Parquet files of about `rows` engagement rows, and a file re-sending RESENT_RATE of
    the good rows; returns what the files hold (the counts every contender must reach)."""
    import numpy as np
    import polars as pl

    table, _ = rb._engagement_rows(rows, seed, keep_bad=True)
    table = table.drop("t")
    good = table.filter(pl.col("_bad") == "").unique("event_id", keep="first")
    rng = np.random.default_rng([seed, 17])
    resent = good.sample(max(1, round(RESENT_RATE * table.height)), seed=int(rng.integers(1 << 31)))
    bounds = np.linspace(0, table.height, FILES + 1).round().astype(int)
    parts = [table[int(a) : int(b)] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    names = [f"engagement-{k + 1:02d}.parquet" for k in range(FILES)] + ["engagement-resent.parquet"]
    for name, part in zip(names, [*parts, resent], strict=True):
        rb._write(part.drop("_bad"), [folder / name])
    landing = pl.concat([table, resent])
    with_id = landing.filter(pl.col("event_id").is_not_null())
    distinct_ids = with_id["event_id"].n_unique()
    return {
        "files": len(names),
        "mb": round(sum((folder / n).stat().st_size for n in names) / 1e6, 1),
        "rows": landing.height,
        "resent": with_id.height - distinct_ids,  # every sighting of an event_id after its first
        "bad": int((landing["_bad"] != "").sum()),
        "without_event_id": landing.height - with_id.height,
        "distinct_event_ids": distinct_ids,
    }


def _fresh_data_dir(landing: Landing, work: Path) -> DataDir:
    """A new data dir whose landing zone holds the landing files (hard links: the same bytes)."""
    d = DataDir(work / "data").ensure()
    target = d.stream_landing("engagement")
    for f in sorted(landing.folder.iterdir()):
        os.link(f, target / f.name)
    return d


def _env(prefect_home: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PULSE_"))}
    env |= PREFECT_DEFAULTS | {"PULSE_HMAC_KEY": rb.BENCH_KEY}
    if prefect_home is not None:
        env["PREFECT_HOME"] = str(prefect_home)
    return env


def _pulse_refresh(landing: Landing, work: Path, _: Services | None) -> tuple[list[str], dict[str, str]]:
    d = _fresh_data_dir(landing, work)
    return [str(BIN / "pulse"), "--data-dir", str(d.root), "refresh", "--settle", "0", "--json"], _env()


def _on_postgres_s3(workers: int) -> Callable[[Landing, Path, Services | None], tuple[list[str], dict[str, str]]]:
    """`pulse refresh --workers N` into a new PostgreSQL database and S3 bucket of its own,
    reporting to the run's Prefect server, as in a deployment."""

    def command(landing: Landing, work: Path, svc: Services | None) -> tuple[list[str], dict[str, str]]:
        assert svc is not None
        d = _fresh_data_dir(landing, work)
        name = f"bench_{workers}_{work.parent.name}".replace("-", "_").lower()
        catalog = "postgres:" + svc.pg.create_database(name)
        data_path = svc.s3.create_bucket(name.replace("_", "-")) + "lake/"
        env = _env() | svc.pg.env | svc.s3.env | {"PULSE_CATALOG": catalog, "PULSE_DATA_PATH": data_path}
        env["PREFECT_API_URL"] = svc.prefect_api  # a deployment's shared Prefect server
        argv = [str(BIN / "pulse"), "--data-dir", str(d.root), "refresh", "--settle", "0", "--json"]
        return [*argv, "--workers", str(workers)], env

    return command


def _on_workers_embedded(workers: int) -> Callable[[Landing, Path, Services | None], tuple[list[str], dict[str, str]]]:
    def command(landing: Landing, work: Path, svc: Services | None) -> tuple[list[str], dict[str, str]]:
        argv, env = _pulse_refresh(landing, work, svc)
        return [*argv, "--workers", str(workers)], env

    return command


def _pulse_refresh_served(landing: Landing, work: Path, svc: Services | None) -> tuple[list[str], dict[str, str]]:
    """`pulse refresh` (embedded) reporting to a running Prefect server, as `pulse serve`'s runs do."""
    assert svc is not None
    argv, env = _pulse_refresh(landing, work, svc)
    return argv, env | {"PREFECT_API_URL": svc.prefect_api}


def _embedded_load(landing: Landing, work: Path, _: Services | None) -> tuple[list[str], dict[str, str]]:
    d = _fresh_data_dir(landing, work)
    return [sys.executable, "-m", "benchmarks.embedded_load", str(d.root)], _env()


def _dlt_peer(landing: Landing, work: Path, _: Services | None) -> tuple[list[str], dict[str, str]]:
    argv = [sys.executable, "-m", "benchmarks.dlt_peer", "--landing", str(landing.folder), "--out", str(work / "peer")]
    return argv, _env()


def _our_counts(out: dict[str, Any]) -> dict[str, Any]:
    c = out["engagement"]
    return {
        "loaded": c["loaded"],
        "duplicates": c["duplicates"],
        "quarantined": c["quarantined"]["total"],
        "kept": c["loaded"] + c["quarantined"]["total"],  # the landing rows less the re-sent ones
        "timings": out["timings"],
    }


def _peer_counts(out: dict[str, Any]) -> dict[str, Any]:
    return {"merged": out["merged"], "kept": out["merged"], "marts": out["marts"], "timings": out["timings"]}


PEER = "dlt"
CONTENDERS: tuple[Contender, ...] = (
    Contender("ours", "ours: pulse refresh (embedded, Prefect's ephemeral API)", _pulse_refresh, _our_counts),
    Contender(
        "ours_served",
        "ours: pulse refresh, a Prefect server running",
        _pulse_refresh_served,
        _our_counts,
        needs_services=True,
    ),
    Contender("ours_no_prefect", "ours: the same load without Prefect", _embedded_load, _our_counts),
    Contender("ours_workers_2", "ours: pulse refresh --workers 2 (embedded)", _on_workers_embedded(2), _our_counts),
    Contender(
        "postgres_s3_1_worker",
        "ours: PostgreSQL + S3, --workers 1",
        _on_postgres_s3(1),
        _our_counts,
        needs_services=True,
    ),
    Contender(
        "postgres_s3_2_workers",
        "ours: PostgreSQL + S3, --workers 2",
        _on_postgres_s3(2),
        _our_counts,
        needs_services=True,
    ),
    Contender(PEER, "peer: dlt merge on event_id into DuckDB + the marts in SQL", _dlt_peer, _peer_counts),
)


def _services(stack: contextlib.ExitStack, work: Path) -> tuple[Services | None, str]:
    """PostgreSQL, the S3 endpoint and a Prefect server for the run, stopped when `stack` closes;
    (None, why) when they cannot start here (PostgreSQL is installed by `.ci/setup --services`)."""
    from benchmarks.prefect_startup import prefect_server
    from benchmarks.services import ServiceError, running_postgres, running_s3

    try:
        pg = stack.enter_context(running_postgres())
        s3 = stack.enter_context(running_s3(work / "s3"))
        (work / "prefect").mkdir()
        url, _ = stack.enter_context(prefect_server(work / "prefect"))
    except (ServiceError, OSError, RuntimeError) as e:
        return None, f"the services could not start ({str(e).splitlines()[0][:120]}); run .ci/setup --services"
    return Services(pg, s3, url), ""


def _run_tree(argv: list[str], env: dict[str, str], cwd: str) -> dict[str, Any]:
    """Run argv to its end (in the fresh process benchmarks.measure gives us: its only child);
    its output, and the largest peak RSS of its process tree (waited-for descendants)."""
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({done.returncode}): {tail}")
    return {"stdout": done.stdout, "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}


def measure(contender: Contender, landing: Landing, work: Path, svc: Services | None, why: str) -> dict[str, Any]:
    if contender.needs_services and svc is None:
        return {"label": contender.label, "measured": False, "why": why}
    folder = work / contender.key
    folder.mkdir()
    argv, env = contender.command(landing, folder, svc)
    m = measured(_run_tree, argv, env, str(ROOT))
    out = json.loads(m.value["stdout"].strip().splitlines()[-1])
    figures = {
        "label": contender.label,
        "measured": True,
        "s": round(m.seconds, 2),
        "peak_rss_gb": round(m.value["maxrss_kb"] / 1024**2, 2),
        "rows_per_s": round(landing.figures["rows"] / m.seconds),
        **(contender.counts(out) if contender.counts else {}),
    }
    shutil.rmtree(folder)  # its warehouse: disk back before the next one
    return figures


def run(rows: int, work: Path) -> dict[str, Any]:
    """Write the landing files under work, measure every contender on them."""
    if importlib.util.find_spec("dlt") is None:
        raise PulseError(
            "the scale-out benchmark's peer needs dlt (the bench dependency group): "
            "UV_LINK_MODE=hardlink .tools/bin/uv sync --locked --group bench"
        )
    folder = work / "landing"
    folder.mkdir(parents=True)
    figures = measured(write_landing, folder, rows).value  # in a child: keeps this process small
    landing = Landing(folder, figures)
    with contextlib.ExitStack() as stack:
        svc, why = _services(stack, work)
        contenders = {c.key: measure(c, landing, work, svc, why) for c in CONTENDERS}
    peer_s = contenders[PEER]["s"]
    for c in contenders.values():
        if c["measured"]:
            c["ratio_to_peer"] = round(c["s"] / peer_s, 2)
    return {"landing": figures, "contenders": contenders}


def report(r: dict[str, Any]) -> str:
    f = r["landing"]
    lines = [
        f"Scale-out: the same {f['rows']:,} landing rows ({f['files']} Parquet files, {f['mb']} MB; "
        f"{f['resent']:,} re-sent, {f['bad']:,} bad, {f['without_event_id']:,} without an event_id), "
        "each contender in its own fresh process",
        f"  {'contender':<60}{'s':>9}{'peak RSS GB':>13}{'rows/s':>11}{'/dlt':>8}{'rows kept':>11}",
    ]
    for c in r["contenders"].values():
        if not c["measured"]:
            lines.append(f"  {c['label']:<60}  not measured: {c['why']}")
            continue
        lines.append(
            f"  {c['label']:<60}{c['s']:>9.2f}{c['peak_rss_gb']:>13.2f}{c['rows_per_s']:>11,}"
            f"{c['ratio_to_peer']:>7.2f}x{c['kept']:>11,}"
        )
    ours = r["contenders"]["ours"]
    peer = r["contenders"][PEER]
    t = peer["timings"]
    lines += [
        f"  rows kept: ours {ours['loaded']:,} loaded + {ours['quarantined']:,} quarantined "
        f"({ours['duplicates']:,} duplicates dropped); dlt {peer['merged']:,} merged "
        f"(the {f['without_event_id']:,} rows without an event_id dropped before the merge, "
        f"the {f['bad']:,} bad rows loaded unchecked)",
        f"  dlt: its run {t['dlt_s']:.2f} s (import {t['dlt_import_s']:.2f}, extract {t['dlt_extract_s']:.2f}, "
        f"normalize {t['dlt_normalize_s']:.2f}, load and merge {t['dlt_load_s']:.2f}), then the marts "
        f"{t['marts_s']:.2f} s (typing the rows {t['staging_s']:.2f}); it does not quarantine, normalise, "
        "key the user ids, or skip files already loaded",
    ]
    return "\n".join(lines)
