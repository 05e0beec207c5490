"""Scale-out storage (issue 17): the lake's catalog on PostgreSQL and its data files on
S3-compatible object storage, against a real PostgreSQL and a real S3 endpoint started by the
tests themselves (benchmarks/services.py: Debian's PostgreSQL, moto's server standing in for the
object store). The same landing files refreshed into PostgreSQL + S3 and into the embedded lake
give the same counts, marts, partner releases and page figures; secrets never show."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from benchmarks.services import S3, Postgres
from core.datadir import DataDir
from core.errors import ConfigError
from core.lake import lake_location
from core.settings import Settings, settings_from_dict
from pipelines.demo_data import DemoSpec, write_demo_data
from pipelines.marts import MARTS
from pipelines.refresh import refresh

KEY = "scale-out-test-key-0123456789abcdef01234567"
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)  # both refreshes: the same weeks released
SPEC = DemoSpec(days=14, scale=0.05, seed=17, end=dt.date(2026, 11, 24))


@contextlib.contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` set, as it was afterwards."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def land(src: DataDir, d: DataDir) -> None:
    shutil.copytree(src.landing, d.landing, dirs_exist_ok=True)


class Lakes:
    """The embedded data dir and the scaled-out one (its lake in PostgreSQL and S3), both
    refreshed once from the same landing files."""

    def __init__(self, root: Path, pg: Postgres, s3: S3) -> None:
        self.pg, self.s3 = pg, s3
        self.src = DataDir(root / "src").ensure()
        write_demo_data(Settings(), self.src, SPEC)
        self.embedded = DataDir(root / "embedded" / "data").ensure()
        self.scaled = DataDir(root / "scaled" / "data").ensure()
        land(self.src, self.embedded)
        land(self.src, self.scaled)
        self.conninfo = pg.create_database("pulse_lake")
        self.catalog = f"postgres:{self.conninfo}"
        self.bucket = "pulse-lake"
        self.data_path = s3.create_bucket(self.bucket) + "warehouse/"
        with environ({"PULSE_HMAC_KEY": KEY}):
            self.embedded_result = refresh(Settings(), self.embedded, settle_seconds=0, now=NOW)
        with self.scaled_env():
            self.scaled_result = refresh(Settings(), self.scaled, settle_seconds=0, now=NOW)

    def scaled_env(self) -> contextlib.AbstractContextManager[None]:
        return environ(self.env())

    def env(self) -> dict[str, str]:
        """What a shell on a machine of the deployment has: where the lake is and the secrets."""
        return {
            "PULSE_HMAC_KEY": KEY,
            "PULSE_CATALOG": self.catalog,
            "PULSE_DATA_PATH": self.data_path,
            **self.pg.env,
            **self.s3.env,
        }

    @property
    def secrets(self) -> list[str]:
        return [self.pg.password, self.s3.secret_access_key]


@pytest.fixture(scope="module")
def lakes(postgres_server: Postgres, s3_server: S3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lakes]:
    from core.lake import detach_lake

    lakes = Lakes(tmp_path_factory.mktemp("scale-out"), postgres_server, s3_server)
    yield lakes
    with lakes.scaled_env():  # the other tests of this process never reach its catalog again
        detach_lake(Settings(), lakes.scaled)


def test_the_services_are_real_and_the_password_is_needed(postgres_server: Postgres, s3_server: S3) -> None:
    """PostgreSQL runs as an unprivileged user on loopback and refuses a client without the
    password; moto's S3 answers on loopback."""
    pg = postgres_server
    assert pg.sql("postgres", "select current_user, inet_server_addr()").strip() == "pulse|127.0.0.1"
    if os.geteuid() == 0:
        assert (pg.root / "data").stat().st_uid != 0  # PostgreSQL refuses root: the cluster is another user's
    denied = subprocess.run(
        [str(pg.bin / "psql"), "-h", pg.host, "-p", str(pg.port), "-U", pg.user, "-d", "postgres", "-c", "select 1"],
        env={k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"PGPASSWORD": "wrong"},
        capture_output=True,
        text=True,
    )
    assert denied.returncode == 2
    assert 'password authentication failed for user "pulse"' in denied.stderr
    address = s3_server.create_bucket("probe")
    assert address == "s3://probe/"
    s3_server.client().put_object(Bucket="probe", Key="a/b.txt", Body=b"x")
    assert s3_server.keys("probe") == ["a/b.txt"]


def test_the_lake_lives_in_postgresql_and_s3(lakes: Lakes) -> None:
    """The catalog's tables are in the PostgreSQL database, the Parquet files in the bucket
    under the data path (their paths in the catalog relative to it), none in the data dir."""
    assert lakes.scaled_result.published and lakes.scaled_result.snapshot_id == "1"
    assert lakes.pg.sql("pulse_lake", "select value from ducklake_metadata where key = 'data_path'").strip() == (
        "s3://pulse-lake/warehouse/"
    )
    files = lakes.pg.sql(
        "pulse_lake", "select count(*), count(*) filter (where path like 's3:%') from ducklake_data_file"
    )
    n, absolute = map(int, files.strip().split("|"))
    keys = lakes.s3.keys(lakes.bucket)
    assert n > 10 and absolute == 0
    assert len([k for k in keys if k.endswith(".parquet")]) == n
    assert all(k.startswith("warehouse/main/") for k in keys)
    assert not (lakes.scaled.root / "lake" / "data").exists()
    assert not (lakes.scaled.root / "lake" / "catalog.sqlite").exists()


def test_the_same_counts_as_the_embedded_lake(lakes: Lakes) -> None:
    from tests.test_crash_and_concurrency import fingerprint

    embedded = fingerprint(lakes.embedded)
    with lakes.scaled_env():
        scaled = fingerprint(lakes.scaled)
    assert scaled == embedded
    assert lakes.scaled_result.to_json()["engagement"] == lakes.embedded_result.to_json()["engagement"]
    for stream in ("engagement", "referral", "safety"):
        e, s = lakes.embedded_result.streams[stream], lakes.scaled_result.streams[stream]
        assert (s.loaded, s.duplicates, s.quarantined) == (e.loaded, e.duplicates, e.quarantined), stream
    assert embedded["engagement"][0] > 3000


def _tables(d: DataDir, names: list[str]) -> dict[str, pl.DataFrame]:
    """Each table whole, sorted, without `load_id` (each load's own id)."""
    from queries.warehouse import published

    with published(d) as con:
        frames = {n: con.sql(f"select * from {n}").pl() for n in names}
    return {n: (df := f.drop("load_id", strict=False)).sort(df.columns) for n, f in frames.items()}


def test_every_mart_and_partner_release_row_for_row(lakes: Lakes) -> None:
    names = [m.name for m in MARTS] + ["partner_releases", "user_numbers"]
    embedded = _tables(lakes.embedded, names)
    with lakes.scaled_env():
        scaled = _tables(lakes.scaled, names)
    for name in names:
        assert scaled[name].equals(embedded[name]), name
    assert [n for n in names if scaled[n].height == 0] == ["mart_people_movers"]  # nobody moved at this size
    assert embedded["partner_releases"].height > 100


def _exports(d: DataDir, s: Settings) -> dict[str, str]:
    from core import csvfile
    from queries import partner
    from queries.warehouse import published

    with published(d) as con:
        return {p: csvfile.to_text(partner.report(con, s, p, s.launch, NOW.date())) for p in s.partner_ids}


def test_partner_releases_export_byte_identical(lakes: Lakes, pulse) -> None:
    s = Settings()
    embedded = _exports(lakes.embedded, s)
    with lakes.scaled_env():
        scaled = _exports(lakes.scaled, s)
    assert scaled == embedded
    assert all(text.count("\n") > 20 for text in embedded.values())
    args = ("export", "--partner", "tpo-cambodia", "--from", "2026-11-10", "--to", "2026-11-23", "--out", "-")
    one = pulse("--data-dir", str(lakes.embedded.root), *args, env={"PULSE_HMAC_KEY": KEY})
    other = pulse("--data-dir", str(lakes.scaled.root), *args, env=lakes.env())
    assert (one.code, other.code) == (0, 0), other.err
    assert other.out.encode() == one.out.encode()


def page_figures(d: DataDir) -> list:
    """(page, figures) of every page's queries over the campaign so far, each frame's rows sorted."""
    from benchmarks.pages import PAGE_QUERIES
    from queries import pages as q
    from queries.filters import Filters

    s = Settings()
    f = Filters(s.launch, SPEC.end)
    out: list = []
    with q.reader(d) as con:
        for page, run in PAGE_QUERIES.items():
            res = run(con, s, f)
            for r in res if isinstance(res, list | tuple) else [res]:
                out.append((page, r.sort(r.columns) if isinstance(r, pl.DataFrame) else r))
    return out


def assert_same_figures(got: list, expected: list) -> None:
    assert len(got) == len(expected) == 19
    for (page, g), (_, e) in zip(got, expected, strict=True):
        assert g.equals(e) if isinstance(g, pl.DataFrame) else g == e, page


def test_the_pages_give_the_same_figures(lakes: Lakes) -> None:
    embedded = page_figures(lakes.embedded)
    with lakes.scaled_env():
        scaled = page_figures(lakes.scaled)
    assert_same_figures(scaled, embedded)


def test_status_names_the_catalog_and_data_path_never_a_secret(lakes: Lakes, pulse) -> None:
    shown = pulse("--data-dir", str(lakes.scaled.root), "status", "--json", env=lakes.env())
    assert shown.code == 0, shown.err
    st = json.loads(shown.out)
    assert st["warehouse"] == lakes.catalog
    assert st["data_path"] == "s3://pulse-lake/warehouse/"
    assert st["snapshot_id"] == "1"
    human = pulse("--data-dir", str(lakes.scaled.root), "status", env=lakes.env())
    assert human.code == 0, human.err
    assert human.out.startswith(f"Published snapshot 1: {lakes.catalog}\n  data files s3://pulse-lake/warehouse/\n")
    for secret in lakes.secrets:
        for text in (shown.out, shown.err, human.out, human.err):
            assert secret not in text


def test_a_second_refresh_of_the_same_files_is_a_no_op(lakes: Lakes, pulse) -> None:
    """Exactly once by content, through the real CLI (Prefect's flow and its logs): nothing new,
    no new snapshot, and no secret in its output, its logs or the data dir's files."""
    from tests.test_crash_and_concurrency import fingerprint

    with lakes.scaled_env():
        before = fingerprint(lakes.scaled)
    again = pulse("--data-dir", str(lakes.scaled.root), "refresh", "--json", "--settle", "0", env=lakes.env())
    assert again.code == 0, again.err
    result = json.loads(again.out)
    assert result["published"] is False and result["snapshot_id"] == "1"
    assert result["files"]["new"] == 0
    landed = [p for p in lakes.scaled.landing.rglob("*") if p.is_file()]
    assert result["files"]["skipped_seen"] == len(landed) == 32
    with lakes.scaled_env():
        assert fingerprint(lakes.scaled) == before
    snapshots = lakes.pg.sql("pulse_lake", "select count(*) from ducklake_snapshot").strip()
    assert snapshots == "2"  # the lake's creation and the one load
    texts = [again.out, again.err]
    texts += [
        p.read_text(errors="replace")
        for p in lakes.scaled.root.rglob("*")
        if p.is_file() and p.suffix in (".jsonl", ".log", ".json", ".txt")
    ]
    for secret in lakes.secrets:
        assert not [t for t in texts if secret in t]


def test_housekeeping_deletes_orphans_in_the_bucket(lakes: Lakes) -> None:
    """A Parquet file a killed refresh left under the data path (the catalog never knew it) is
    deleted from the bucket by housekeeping; the lake's own files stay."""
    from pipelines.housekeeping import prune_lake

    key = "warehouse/main/engagement_events/ducklake-orphan-of-a-killed-refresh.parquet"
    lakes.s3.client().put_object(Bucket=lakes.bucket, Key=key, Body=b"PAR1")
    kept = [k for k in lakes.s3.keys(lakes.bucket) if k != key]
    with lakes.scaled_env():
        pruned = prune_lake(Settings(), lakes.scaled, NOW)
    assert pruned["orphans_removed"] == 1
    assert lakes.s3.keys(lakes.bucket) == kept


def test_stage_workers_write_their_parts_to_the_bucket(lakes: Lakes, pulse, tmp_path: Path) -> None:
    """`pulse refresh --workers 2` onto PostgreSQL + S3: two worker processes write their parts
    under the bucket's data path, the committer takes them, and the lake equals the embedded
    load; the parts left in the bucket are orphans that housekeeping deletes."""
    from core.lake import detach_lake
    from pipelines.housekeeping import prune_lake
    from pipelines.stage_file import STAGING_FOLDER
    from tests.test_crash_and_concurrency import fingerprint

    d = DataDir(tmp_path / "workers" / "data").ensure()
    land(lakes.src, d)
    conninfo = lakes.pg.create_database("pulse_workers")
    data_path = lakes.s3.create_bucket("pulse-workers") + "warehouse/"
    env = {**lakes.env(), "PULSE_CATALOG": f"postgres:{conninfo}", "PULSE_DATA_PATH": data_path}
    out = pulse("--data-dir", str(d.root), "refresh", "--json", "--settle", "0", "--workers", "2", env=env)
    assert out.code == 0, out.err
    result = json.loads(out.out)
    assert result["timings"]["stage_workers_s"] > 0
    for stream in ("engagement", "referral", "safety"):
        assert result[stream] == lakes.embedded_result.to_json()[stream], stream
    parts = [k for k in lakes.s3.keys("pulse-workers") if k.startswith(f"warehouse/{STAGING_FOLDER}/")]
    assert len(parts) >= 32 - 2, "each loaded file's parts are in the bucket"  # less the unreadable and the copy
    with environ({"PULSE_HMAC_KEY": KEY}):
        embedded = fingerprint(lakes.embedded)
    with environ(env):
        assert fingerprint(d) == embedded
        pruned = prune_lake(Settings(), d, NOW)
        assert pruned["orphans_removed"] == len(parts)
        assert fingerprint(d) == embedded
        detach_lake(Settings(), d)
    assert not [k for k in lakes.s3.keys("pulse-workers") if k.startswith(f"warehouse/{STAGING_FOLDER}/")]
    for secret in lakes.secrets:
        assert secret not in out.err


def _upload(lakes: Lakes, bucket: str, prefix: str, files: dict[str, bytes]) -> str:
    client = lakes.s3.client()
    client.create_bucket(Bucket=bucket)
    for rel, body in files.items():
        client.put_object(Bucket=bucket, Key=prefix + rel, Body=body)
    return f"s3://{bucket}/{prefix}"


def test_a_landing_zone_in_the_bucket_loads_as_the_local_one(lakes: Lakes, tmp_path: Path) -> None:
    """`landing.path = "s3://…"` (here PULSE_LANDING_PATH): the demo landing files as objects
    give the load the local files gave (counts, files, marts, partner releases); a second
    refresh reads nothing again (exactly once by content, the ledger by key, size and time)."""
    from tests.test_crash_and_concurrency import fingerprint

    files = {str(p.relative_to(lakes.src.landing)): p.read_bytes() for p in lakes.src.landing.rglob("*") if p.is_file()}
    url = _upload(lakes, "pulse-landing", "incoming/", files)
    d = DataDir(tmp_path / "objects" / "data").ensure()
    env = {"PULSE_HMAC_KEY": KEY, "PULSE_LANDING_PATH": url, **lakes.s3.env}
    with environ(env):
        result = refresh(Settings(), d, settle_seconds=0, now=NOW).to_json()
        again = refresh(Settings(), d, settle_seconds=0, now=NOW).to_json()
        got, names = fingerprint(d), [m.name for m in MARTS] + ["partner_releases", "user_numbers"]
        tables = _tables(d, names)
    expected = lakes.embedded_result.to_json()
    for part in ("engagement", "referral", "safety", "files", "unknown_columns"):
        assert result[part] == expected[part], part
    assert result["files"]["new"] > 25 and not list(d.landing.rglob("*.*"))  # nothing local
    with environ({"PULSE_HMAC_KEY": KEY}):
        assert got == fingerprint(lakes.embedded)
        embedded = _tables(lakes.embedded, names)
    for name in names:
        assert tables[name].equals(embedded[name]), name
    assert again["published"] is False and again["files"]["new"] == 0
    assert again["files"]["skipped_seen"] == len(files)
    with environ(env):
        from core.lake import detach_lake

        detach_lake(Settings(), d)


def test_hostile_objects_in_the_landing_bucket(lakes: Lakes, tmp_path: Path) -> None:
    """Odd keys and sizes: a wildcard in a name is skipped with a reason (DuckDB reads an object by
    a glob pattern: it could read others); an object over validation.max_file_bytes is unreadable
    and never fetched; objects outside a stream's prefix, hidden or still uploading are not files
    of the zone."""
    head = "event_id,event_time,user_id,event_type,video_id,surface,province,age_band,language\n"
    row = "{},2026-11-20T10:00:00Z,u{},view,v1,for_you,KH-12,18-24,km\n"
    files = {
        "engagement/ok.csv": (head + row.format("e1", 1)).encode(),
        "engagement/a[1].csv": (head + row.format("e2", 2)).encode(),
        "engagement/*.csv": (head + row.format("e3", 3)).encode(),
        "engagement/big.csv": (head + "".join(row.format(f"b{i}", i) for i in range(400))).encode(),
        "engagement/.hidden.csv": b"x",
        "engagement/upload.csv.part": b"x",
        "stray.csv": (head + row.format("e4", 4)).encode(),
        "nostream/x.csv": (head + row.format("e5", 5)).encode(),
    }
    url = _upload(lakes, "hostile-landing", "in/", files)
    d = DataDir(tmp_path / "hostile" / "data").ensure()
    s = settings_from_dict({"validation": {"max_file_bytes": 4096}})
    log_before = lakes.s3.log.read_text(errors="replace").count("\n")
    with environ({"PULSE_HMAC_KEY": KEY, "PULSE_LANDING_PATH": url, **lakes.s3.env}):
        result = refresh(s, d, settle_seconds=0, now=NOW)
        from core.lake import detach_lake

        detach_lake(s, d)
    files_seen = result.files
    assert result.streams["engagement"].loaded == 1
    assert sorted(x["path"] for x in files_seen["skipped"]) == ["engagement/*.csv", "engagement/a[1].csv"]
    assert {x["reason"] for x in files_seen["skipped"]} == {
        "object name has a wildcard character (* ? [ ] { } or a backslash); rename it to load it"
    }
    assert files_seen["unreadable"] == [
        {"path": "engagement/big.csv", "reason": "size over validation.max_file_bytes (4 KiB)"}
    ]
    requests = lakes.s3.log.read_text(errors="replace").splitlines()[log_before:]
    assert not [r for r in requests if "GET /hostile-landing/in/engagement/big.csv" in r], "never fetched"
    assert [r for r in requests if "GET /hostile-landing/in/engagement/ok.csv" in r]


# --- configuration -----------------------------------------------------------------------


def test_a_password_in_the_catalog_is_refused_without_showing_it(tmp_path: Path, monkeypatch) -> None:
    planted = "hunter2-" + "x" * 8
    with pytest.raises(ConfigError) as e:
        settings_from_dict({"warehouse": {"catalog": f"postgres:dbname=lake host=db user=pulse password={planted}"}})
    assert str(e.value) == (
        "campaign.toml: warehouse.catalog: a password is never put in the catalog's connection string; "
        "give it in PGPASSWORD or a PostgreSQL service file (service=NAME)"
    )
    with pytest.raises(ConfigError) as e:
        settings_from_dict({"warehouse": {"catalog": f"postgres:postgresql://pulse:{planted}@db/lake"}})
    assert planted not in str(e.value) and "a password is never put" in str(e.value)
    monkeypatch.setenv("PULSE_CATALOG", f"postgres:host=db PASSWORD = '{planted}' dbname=lake")
    with pytest.raises(ConfigError) as e:
        lake_location(Settings(), DataDir(tmp_path / "data"))
    assert str(e.value) == (
        "PULSE_CATALOG: a password is never put in the catalog's connection string; "
        "give it in PGPASSWORD or a PostgreSQL service file (service=NAME)"
    )


def test_an_s3_data_path_needs_the_standard_variables(tmp_path: Path, monkeypatch, s3_server: S3) -> None:
    from core.lake import connect_lake

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PULSE_DATA_PATH", "s3://nowhere/lake/")
    d = DataDir(tmp_path / "data").ensure()
    with pytest.raises(ConfigError) as e:
        connect_lake(Settings(), d)
    assert str(e.value) == (
        "PULSE_DATA_PATH is s3://nowhere/lake/: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "(and AWS_REGION, AWS_ENDPOINT_URL for an S3-compatible store) to reach it"
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-secret-never-shown")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "ftp://127.0.0.1:9/")
    with pytest.raises(ConfigError) as e:
        connect_lake(Settings(), d)
    assert (
        str(e.value) == "AWS_ENDPOINT_URL: must be http://HOST[:PORT] or https://HOST[:PORT] (got 'ftp://127.0.0.1:9/')"
    )


def test_an_unreachable_catalog_is_one_line_without_the_password(
    tmp_path: Path, monkeypatch, postgres_server: Postgres
) -> None:
    from core.errors import PulseError
    from core.lake import connect_lake

    monkeypatch.setenv("PULSE_CATALOG", f"postgres:{postgres_server.conninfo('postgres')}")
    monkeypatch.setenv("PGPASSWORD", "wrong-" + postgres_server.password)
    with pytest.raises(PulseError) as e:
        connect_lake(Settings(), DataDir(tmp_path / "data").ensure())
    text = str(e.value)
    assert text.startswith(f"the lake's catalog (postgres:{postgres_server.conninfo('postgres')}) cannot be reached: ")
    assert 'password authentication failed for user "pulse"' in text
    assert "\n" not in text and postgres_server.password not in text


def test_duckdbs_cli_reads_the_scaled_out_lake_with_no_secret_printed(lakes: Lakes, pulse) -> None:
    """`pulse duckdb` on PostgreSQL + S3: its statements read the secrets from the environment
    (getenv), so `--print` shows none, and the CLI counts what `pulse status` counts."""
    printed = pulse("--data-dir", str(lakes.scaled.root), "duckdb", "--print", env=lakes.env())
    assert printed.code == 0, printed.err
    assert "secret getenv('AWS_SECRET_ACCESS_KEY')" in printed.out and "httpfs.duckdb_extension" in printed.out
    assert f"endpoint '{lakes.s3.endpoint.removeprefix('http://')}', url_style 'path', use_ssl false" in printed.out
    for secret in lakes.secrets:
        assert secret not in printed.out + printed.err
    counted = pulse(
        "--data-dir", str(lakes.scaled.root), "duckdb", "-c", "select count(*) from engagement_events", env=lakes.env()
    )
    assert counted.code == 0, counted.err
    assert f"{lakes.scaled_result.streams['engagement'].loaded}" in counted.out


def test_the_password_may_come_from_a_service_file(tmp_path: Path, monkeypatch, postgres_server: Postgres) -> None:
    """`postgres:service=NAME`: host, port, user and password from a PostgreSQL service file
    (PGSERVICEFILE), none in the setting; the lake attaches and keeps what is written."""
    from core.lake import connect_lake, detach_lake

    pg = postgres_server
    pg.create_database("by_service")
    services = tmp_path / "pg_service.conf"
    services.write_text(
        f"[pulse_lake]\nhost={pg.host}\nport={pg.port}\nuser={pg.user}\ndbname=by_service\npassword={pg.password}\n"
    )
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    monkeypatch.setenv("PULSE_CATALOG", "postgres:service=pulse_lake")
    d = DataDir(tmp_path / "data").ensure()
    con = connect_lake(Settings(), d)
    try:
        con.execute("create table probe as select 42 as answer")
        assert con.sql("select answer from probe").fetchall() == [(42,)]
    finally:
        con.close()
        detach_lake(Settings(), d)  # its service file goes with tmp_path: later lookups must not reach it
    assert pg.sql("by_service", "select count(*) from ducklake_table where table_name = 'probe'").strip() == "1"


def test_a_failure_reason_never_carries_a_secret(monkeypatch) -> None:
    """What runs.jsonl, `pulse status` and the alerts read of a failed refresh: the values of
    PGPASSWORD and AWS_SECRET_ACCESS_KEY masked, whatever error quoted them."""
    from core.errors import PulseError
    from pipelines.outcomes import one_line

    monkeypatch.setenv("PGPASSWORD", "pg-planted-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3-planted-secret")
    assert one_line(RuntimeError("auth pg-planted-secret failed\n for s3-planted-secret")) == (
        "RuntimeError: auth *** failed for ***"
    )
    assert one_line(PulseError("the lake: s3-planted-secret refused")) == "the lake: *** refused"
