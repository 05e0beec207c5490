"""The DuckLake warehouse (issue 16): a catalog database plus immutable Parquet data files.

The refresh (pipelines/refresh.py) commits each load as one transaction; readers go through
queries/warehouse.py (whole snapshots) and queries/lake_cache.py (the pages).

Where the lake is (first match wins):
    catalog:   env PULSE_CATALOG, config `warehouse.catalog`, else `sqlite:DATA_DIR/lake/catalog.sqlite`
    data path: env PULSE_DATA_PATH, config `warehouse.data_path`, else `DATA_DIR/lake/data/`
A relative SQLite path or data path is relative to the data dir.

Scaling out (issue 17): the catalog may be a PostgreSQL database (`postgres:dbname=… host=…`, its
password from PGPASSWORD or a service file, never in the setting) and the data path an S3 address
(`s3://bucket/prefix/`), reached with the standard variables AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN), AWS_REGION and AWS_ENDPOINT_URL through DuckDB's secret
manager: one temporary secret per data path, scoped to it, in the process's instance only, never
logged nor shown in an error.

The extensions (ducklake, sqlite_scanner, postgres_scanner, httpfs) come from the PyPI packages
`duckdb-extension-*` pinned with duckdb, loaded by path, never downloaded: every connection is
a cursor of one in-memory DuckDB instance per process, which loads them once and attaches each
lake once (autoinstall and autoload are off). Each file is checked against the SHA-256 its
wheel's RECORD lists (the wheel itself was checked against uv.lock when it was installed)
before it is loaded, and DuckDB's own signature check is off for them: that check hashed the
35 MB files at about 230 MB/s, 0.28 s of every refresh process for ducklake and sqlite_scanner,
against 0.07 s for hashlib's. No SQL text ever comes from input (bound parameters only), so
no statement can LOAD another file.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import sqlite3
import threading
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from core.datadir import DataDir
from core.errors import ConfigError, PulseError
from core.settings import NO_PASSWORD, Settings, check_catalog, check_data_path, check_landing_path

CATALOG_ENV = "PULSE_CATALOG"
DATA_PATH_ENV = "PULSE_DATA_PATH"
EXTENSIONS = {"sqlite:": ("sqlite_scanner", "ducklake"), "postgres:": ("postgres_scanner", "ducklake")}
S3_EXTENSIONS = ("httpfs",)  # an s3:// data path
ENDPOINT_ENV = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")  # the first set wins (as in AWS's own clients)
SECRET_ENV = ("PGPASSWORD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")  # never shown
INSTANCE_CONFIG = {
    "autoinstall_known_extensions": False,  # nothing is ever downloaded at run time
    "autoload_known_extensions": False,
    "allow_unsigned_extensions": True,  # checked against their wheels' RECORD instead (verified_extension)
    "allow_community_extensions": False,
    "preserve_insertion_order": False,
    "memory_limit": "2GB",
}


@dataclass(frozen=True)
class LakeLocation:
    catalog: str  # 'sqlite:/abs/path/catalog.sqlite' or 'postgres:dbname=… host=…'
    data_path: str  # an absolute folder ending in '/', or 's3://…/'
    follows_data_dir: bool = False  # the default data path: where the data dir is now (it may have moved)
    data_from: str = field(default="warehouse.data_path", compare=False)  # where the data path was set

    @property
    def on_s3(self) -> bool:
        return self.data_path.startswith("s3://")

    @property
    def extensions(self) -> tuple[str, ...]:
        return EXTENSIONS[self.kind] + (S3_EXTENSIONS if self.on_s3 else ())

    @property
    def alias(self) -> str:
        """The name the lake is attached under: one per location, so two data dirs never mix."""
        return "lake_" + hashlib.sha256(f"{self.catalog}\0{self.data_path}".encode()).hexdigest()[:12]

    @property
    def kind(self) -> str:
        return self.catalog.split(":", 1)[0] + ":"


def lake_location(settings: Settings, d: DataDir) -> LakeLocation:
    """The catalog and data path from the environment, the config or the defaults; ConfigError
    with one line naming the variable or key when one is not usable."""
    catalog, catalog_from = _chosen(CATALOG_ENV, settings.warehouse.catalog, "warehouse.catalog")
    data_path, data_from = _chosen(DATA_PATH_ENV, settings.warehouse.data_path, "warehouse.data_path")
    if catalog is None:
        catalog = f"sqlite:{d.root / 'lake' / 'catalog.sqlite'}"
    follows = data_path is None
    if data_path is None:
        data_path = str(d.root / "lake" / "data")
    try:
        catalog = check_catalog(catalog)
    except ValueError as e:
        hint = "" if str(e) == NO_PASSWORD else "; leave it unset for the lake under the data dir"
        raise ConfigError(f"{catalog_from}: {e}{hint}") from None
    try:
        data_path = check_data_path(data_path)
    except ValueError as e:
        raise ConfigError(f"{data_from}: {e}; leave it unset for the lake under the data dir") from None
    if catalog.startswith("sqlite:"):
        path = Path(catalog.removeprefix("sqlite:")).expanduser()
        catalog = f"sqlite:{path if path.is_absolute() else d.root / path}"
    if "://" not in data_path:
        p = Path(data_path).expanduser()
        data_path = str(p if p.is_absolute() else d.root / p)
    return LakeLocation(catalog, data_path.rstrip("/") + "/", follows, data_from)


def _chosen(env: str, configured: str | None, key: str) -> tuple[str | None, str]:
    if (value := os.environ.get(env)) is not None:
        return value, env
    return configured, key


# --- the process's instance -----------------------------------------------------------

_lock = threading.Lock()
_instance: duckdb.DuckDBPyConnection | None = None
_loaded: set[str] = set()
_attached: dict[str, LakeLocation] = {}
_secrets: dict[str, str] = {}  # secret name -> a digest of what it was made from (the variables may change)


def extension_path(name: str) -> Path:
    """The extension file shipped by PyPI's duckdb-extension-<name> for this duckdb."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or spec.origin is None:
        raise PulseError(
            f"the DuckDB extension {name} is not installed (PyPI package duckdb-extension-{name.replace('_', '-')}); "
            "reinstall the project from uv.lock"
        )
    path = Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise PulseError(f"{path}: missing; duckdb-extension-{name} must have duckdb's version {duckdb.__version__}")
    return path


def verified_extension(name: str) -> Path:
    """extension_path(name), once its content was found to be what its wheel's RECORD says
    (size and SHA-256); PulseError for a file that was changed or cut short since it was
    installed."""
    path = extension_path(name)
    package = f"duckdb-extension-{name.replace('_', '-')}"
    wanted = f"v{duckdb.__version__}/{name}.duckdb_extension"
    listed = [f for f in importlib.metadata.distribution(package).files or () if f.as_posix().endswith(wanted)]
    if not listed or listed[0].hash is None or listed[0].hash.mode != "sha256":
        raise PulseError(f"{path}: {package}'s RECORD lists no SHA-256 for it; reinstall the project from uv.lock")
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").digest()
    if (
        base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != listed[0].hash.value
        or path.stat().st_size != listed[0].size
    ):
        raise PulseError(
            f"{path}: not the file {package} installed (its SHA-256 differs); reinstall the project from uv.lock"
        )
    return path


def _process_instance() -> duckdb.DuckDBPyConnection:
    global _instance
    if _instance is None:
        _instance = duckdb.connect(":memory:", config=dict(INSTANCE_CONFIG))
        _instance.execute("set TimeZone = 'UTC'")
    return _instance


def _load(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    for name in names:
        if name not in _loaded:
            con.execute(f"load '{_quoted(str(verified_extension(name)))}'")
            _loaded.add(name)


def _attach(con: duckdb.DuckDBPyConnection, where: LakeLocation) -> None:
    _detach_vanished(con)
    if where.alias in _attached:
        return
    if where.catalog.startswith("sqlite:"):
        Path(where.catalog.removeprefix("sqlite:")).parent.mkdir(parents=True, exist_ok=True)
        _write_ahead_log(Path(where.catalog.removeprefix("sqlite:")))
    if "://" not in where.data_path:
        Path(where.data_path).mkdir(parents=True, exist_ok=True)
    # The catalog records the data path it was made with (its files' paths are relative to it):
    # the default one is wherever the data dir is now (a restored backup, a copied data dir).
    override = ", override_data_path true" if where.follows_data_dir else ""
    con.execute(
        f"attach 'ducklake:{_quoted(where.catalog)}' as {where.alias} (data_path '{_quoted(where.data_path)}'{override})"
    )
    _attached[where.alias] = where


def _detach_vanished(con: duckdb.DuckDBPyConnection) -> None:
    """Detach the lakes whose SQLite catalog is gone (a deleted data dir: many in a test run).
    Listing tables touches every attached lake, and a vanished one makes that fail."""
    for alias, where in list(_attached.items()):
        if where.catalog.startswith("sqlite:") and not Path(where.catalog.removeprefix("sqlite:")).exists():
            with suppress(duckdb.Error):
                con.execute(f"detach {alias}")
            del _attached[alias]


def detach_lake(settings: Settings, d: DataDir) -> None:
    """Detach d's lake from the process's instance, if attached: for a lake whose connection
    settings go away while the process lives on (a temporary PostgreSQL service file), since
    a name DuckDB does not find is looked for in every attached lake."""
    where = lake_location(settings, d)
    with _lock:
        if _attached.pop(where.alias, None) is not None and _instance is not None:
            with suppress(duckdb.Error):
                _instance.execute(f"detach {where.alias}")


def _write_ahead_log(path: Path) -> None:
    """Put a SQLite catalog in WAL mode (kept in the file), so that readers never wait for a
    refresh. In SQLite's default rollback-journal mode a commit locks the whole catalog while
    it writes (about 30 ms here), and the sqlite scanner has no busy timeout: a reader that
    came then (a page, `pulse status`, DuckDB's CLI) failed with 'database is locked'. In WAL
    mode readers read the last commit while a writer writes."""
    db = sqlite3.connect(path, timeout=5)
    try:
        db.execute("pragma journal_mode = wal").fetchall()
    except sqlite3.OperationalError:
        pass  # another process holds it: the next attach switches it
    finally:
        db.close()


def s3_secret_sql(where: LakeLocation, name: str, *, by_reference: bool = False) -> str:
    """The CREATE SECRET statement (TYPE s3, scoped to the data path) made from the standard
    variables; with `by_reference` the secrets are read by DuckDB's CLI itself (`getenv(…)`), so
    the printed statement holds none. ConfigError naming the variables when they are missing."""
    env = os.environ
    if not env.get("AWS_ACCESS_KEY_ID") or not env.get("AWS_SECRET_ACCESS_KEY"):
        raise ConfigError(
            f"{where.data_from} is {where.data_path}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(and AWS_REGION, AWS_ENDPOINT_URL for an S3-compatible store) to reach it"
        )

    def value(var: str) -> str:
        return f"getenv('{var}')" if by_reference else f"'{_quoted(env[var])}'"

    options = [f"key_id {value('AWS_ACCESS_KEY_ID')}", f"secret {value('AWS_SECRET_ACCESS_KEY')}"]
    if env.get("AWS_SESSION_TOKEN"):
        options.append(f"session_token {value('AWS_SESSION_TOKEN')}")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    options.append(f"region '{_quoted(region)}'")
    var = next((v for v in ENDPOINT_ENV if env.get(v)), None)
    if var is not None:
        host, tls = _endpoint(var, env[var])
        options += [f"endpoint '{_quoted(host)}'", "url_style 'path'", f"use_ssl {str(tls).lower()}"]
    options.append(f"scope '{_quoted(where.data_path)}'")
    return f"create or replace secret {name} (type s3, {', '.join(options)})"


def _endpoint(var: str, url: str) -> tuple[str, bool]:
    """AWS_ENDPOINT_URL's host[:port] and whether it is TLS; ConfigError when it is not a bare
    http(s) address (an address with credentials in it is not shown)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        shown = "" if "@" in url else f" (got {url!r})"
        raise ConfigError(f"{var}: must be http://HOST[:PORT] or https://HOST[:PORT]{shown}")
    if "@" in parts.netloc:
        raise ConfigError(f"{var}: must be http://HOST[:PORT] or https://HOST[:PORT], without credentials")
    return parts.netloc, parts.scheme == "https"


def _s3_secret(con: duckdb.DuckDBPyConnection, where: LakeLocation) -> None:
    """The data path's S3 secret in the process's instance, (re)made when the variables changed."""
    name = "pulse_s3_" + where.alias.removeprefix("lake_")
    statement = s3_secret_sql(where, name)
    digest = hashlib.sha256(statement.encode()).hexdigest()
    if _secrets.get(name) == digest:
        return
    try:
        con.execute(statement)
    except duckdb.Error as e:  # its text may quote the statement: never shown
        raise ConfigError(
            f"{where.data_path}: DuckDB refused the S3 secret made from the AWS_* variables ({type(e).__name__}); "
            "check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL"
        ) from None
    _secrets[name] = digest


class LakeUnreachable(PulseError):
    """The lake's PostgreSQL catalog (or its object store) cannot be reached."""


def redacted(text: str) -> str:
    """`text` with the values of the secret variables (PGPASSWORD, AWS_SECRET_ACCESS_KEY…) masked."""
    for var in SECRET_ENV:
        if len(secret := os.environ.get(var, "")) >= 4:
            text = text.replace(secret, "***")
    return text


def _unreachable(where: LakeLocation, e: duckdb.Error) -> LakeUnreachable:
    """A remote catalog's attach failure as one line naming it, without DuckDB's preamble."""
    text = " ".join(str(e).split())
    found = re.search(r'Unable to connect to Postgres at "[^"]*": (.*)$', text)
    reason = found[1] if found else text
    reason = re.sub(r"^connection to server at [^:]*failed: (FATAL: )?", "", reason)
    return LakeUnreachable(f"the lake's catalog ({where.catalog}) cannot be reached: {redacted(reason)}")


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def connect_lake(settings: Settings, d: DataDir) -> duckdb.DuckDBPyConnection:
    """A connection (a cursor of the process's instance) whose default catalog is the lake."""
    where = lake_location(settings, d)
    try:
        with _lock:
            base = _process_instance()
            _load(base, where.extensions)
            if where.on_s3:
                _s3_secret(base, where)
            try:
                _attach(base, where)
            except duckdb.Error as e:
                if where.kind == "postgres:":
                    raise _unreachable(where, e) from None
                raise
        con = base.cursor()
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"use {where.alias}")
    except duckdb.Error as e:
        raise _disk_error(where, e) from e
    return con


LANDING_PATH_ENV = "PULSE_LANDING_PATH"


def landing_url(settings: Settings) -> str | None:
    """The landing zone on object storage (PULSE_LANDING_PATH, else `landing.path`), None for the
    data dir's own landing folder. ConfigError for a value that is not an s3:// address."""
    if env := os.environ.get(LANDING_PATH_ENV, "").strip():
        try:
            return check_landing_path(env)
        except ValueError as e:
            raise ConfigError(f"{LANDING_PATH_ENV}: {e}") from None
    return settings.landing.path


def landing_connection(url: str) -> duckdb.DuckDBPyConnection:
    """A connection (a cursor of the process's instance) that reaches the landing zone at `url`
    (s3://…/, its root), through an S3 secret of its own scoped to it, made from the AWS_* variables."""
    where = LakeLocation("landing", url, data_from="landing.path")
    try:
        with _lock:
            base = _process_instance()
            _load(base, S3_EXTENSIONS)
            _s3_secret(base, where)
        con = base.cursor()
        con.execute("set TimeZone = 'UTC'")
    except duckdb.Error as e:
        raise PulseError(f"{url}: {redacted(str(e).splitlines()[0])}") from None
    return con


def work_connection(settings: Settings, d: DataDir) -> duckdb.DuckDBPyConnection:
    """A connection (a cursor of the process's instance) without the lake, for a stage worker
    (pipelines/stage_file.py): it reaches the data path (an s3:// one through its secret) to
    write its parts, and nothing else."""
    where = lake_location(settings, d)
    try:
        with _lock:
            base = _process_instance()
            if where.on_s3:
                _load(base, S3_EXTENSIONS)
                _s3_secret(base, where)
        con = base.cursor()
        con.execute("set TimeZone = 'UTC'")
    except duckdb.Error as e:
        raise _disk_error(where, e) from e
    return con


@dataclass
class CatalogSession:
    """A cursor of the process's instance on which a PostgreSQL catalog's database is attached
    as a plain PostgreSQL database under `alias`, for the refresh lease (pipelines/lake_write.py)."""

    con: duckdb.DuckDBPyConnection
    alias: str
    catalog: str

    def close(self) -> None:
        """Roll back what is open on it (the server ends what that held) and detach it: an
        attached database is looked in for every name DuckDB does not find elsewhere."""
        for statement in ("rollback", f"detach {self.alias}"):
            with suppress(duckdb.Error):
                self.con.execute(statement)
        with suppress(duckdb.Error):
            self.con.close()


_session_count = 0


def catalog_session(settings: Settings, d: DataDir) -> CatalogSession | None:
    """For a PostgreSQL catalog, its database attached on its own (READ COMMITTED: a transaction
    left open holds no snapshot) under a new alias; None for a SQLite catalog, which never
    leaves its machine. LakeUnreachable (one line, no secret) when it cannot be reached."""
    global _session_count
    where = lake_location(settings, d)
    if where.kind != "postgres:":
        return None
    with _lock:
        base = _process_instance()
        _load(base, ("postgres_scanner",))
        _session_count += 1
        alias = f"catalog_{where.alias.removeprefix('lake_')}_{_session_count}"
    con = base.cursor()
    try:
        con.execute(
            f"attach '{_quoted(where.catalog.removeprefix('postgres:'))}' as {alias} "
            "(type postgres, isolation_level 'READ COMMITTED')"
        )
    except duckdb.Error as e:
        con.close()
        raise _unreachable(where, e) from None
    return CatalogSession(con, alias, where.catalog)


def _disk_error(where: LakeLocation, e: duckdb.Error) -> BaseException:
    """A SQLite catalog that cannot be opened because of its disk, as the OSError it is (the
    refresh's one-line reasons and retries know those): full, or a read-only file system (its
    WAL-mode catalog needs to write its -shm file even to be read). Else the error itself."""
    text = str(e)
    if not where.catalog.startswith("sqlite:") or not ("disk I/O error" in text or "unable to open" in text):
        return e
    folder = Path(where.catalog.removeprefix("sqlite:")).parent
    try:
        fs = os.statvfs(folder)
    except OSError:
        return e
    if fs.f_flag & os.ST_RDONLY:
        return OSError(errno.EROFS, "Read-only file system", str(folder))
    if fs.f_bavail == 0:
        return OSError(errno.ENOSPC, "No space left on device", str(folder))
    return e


def lake_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables of con's current database as last committed (a table that con's own open
    transaction created is not listed). For a lake, from its own catalog
    (`ducklake_table_info`, ~9 ms); never through duckdb_tables() or information_schema, which
    read the catalog of every lake the process has attached (0.4 s a call with 60 attached, as
    in a test run). For a native file (a page cache), its own tables."""
    ((name, kind),) = con.sql(
        "select database_name, type from duckdb_databases() where database_name = current_database()"
    ).fetchall()
    listing = (
        "select table_name from ducklake_table_info($name)"
        if kind == "ducklake"
        else "select table_name from duckdb_tables() where database_name = $name"
    )
    return {t for (t,) in con.execute(listing, {"name": name}).fetchall()}


def latest_snapshot_id(con: duckdb.DuckDBPyConnection) -> int | None:
    """The lake's latest committed snapshot id, as this connection's transaction sees it."""
    (alias,) = con.sql("select current_database()").fetchall()[0]
    rows = con.sql(f"select id from {alias}.current_snapshot()").fetchall()
    return rows[0][0] if rows else None


def committed_snapshot(settings: Settings, d: DataDir) -> str | None:
    """The latest committed snapshot id read straight from a SQLite catalog, without attaching
    it (0.05 ms): "0" when the catalog does not exist yet (nothing committed), None when this
    cannot be told so (another catalog, or one being created)."""
    where = lake_location(settings, d)
    if not where.catalog.startswith("sqlite:"):
        return None
    path = Path(where.catalog.removeprefix("sqlite:"))
    if not path.exists():
        return "0"
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        (snapshot,) = db.execute("select max(snapshot_id) from ducklake_snapshot").fetchone()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return None if snapshot is None else str(snapshot)
