"""The DuckLake warehouse (issue 16): where it is, how it is attached, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.datadir import DataDir
from core.errors import ConfigError
from core.lake import lake_location
from core.settings import settings_from_dict
from tests.conftest import REPO


def test_the_lake_lives_under_the_data_dir_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULSE_CATALOG", raising=False)
    monkeypatch.delenv("PULSE_DATA_PATH", raising=False)
    where = lake_location(settings_from_dict({}), DataDir(tmp_path))
    assert where.catalog == f"sqlite:{tmp_path}/lake/catalog.sqlite"
    assert where.data_path == f"{tmp_path}/lake/data/"


def test_config_keys_then_environment_choose_another_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULSE_CATALOG", raising=False)
    monkeypatch.delenv("PULSE_DATA_PATH", raising=False)
    s = settings_from_dict({"warehouse": {"catalog": "sqlite:cat/c.sqlite", "data_path": "s3://bucket/pulse"}})
    where = lake_location(s, DataDir(tmp_path))
    assert (where.catalog, where.data_path) == (f"sqlite:{tmp_path}/cat/c.sqlite", "s3://bucket/pulse/")
    monkeypatch.setenv("PULSE_CATALOG", "postgres:dbname=pulse host=127.0.0.1")
    monkeypatch.setenv("PULSE_DATA_PATH", "/srv/lake")
    where = lake_location(s, DataDir(tmp_path))
    assert (where.catalog, where.data_path) == ("postgres:dbname=pulse host=127.0.0.1", "/srv/lake/")


def test_a_bad_catalog_or_data_path_is_one_line_naming_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError) as e:
        settings_from_dict({"warehouse": {"catalog": "mysql:x"}})
    assert (
        str(e.value)
        == "campaign.toml: warehouse.catalog: must be 'sqlite:PATH' or 'postgres:CONNECTION' (got 'mysql:x')"
    )
    with pytest.raises(ConfigError) as e:
        settings_from_dict({"warehouse": {"data_path": "gs://b/x"}})
    assert (
        str(e.value)
        == "campaign.toml: warehouse.data_path: must be a folder or an s3://bucket/prefix address (got 'gs://b/x')"
    )
    monkeypatch.setenv("PULSE_CATALOG", "sqlite:")
    with pytest.raises(ConfigError) as e:
        lake_location(settings_from_dict({}), DataDir(tmp_path))
    assert str(e.value) == (
        "PULSE_CATALOG: must be 'sqlite:PATH' or 'postgres:CONNECTION' (got 'sqlite:'); "
        "leave it unset for the lake under the data dir"
    )


OFFLINE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from core.datadir import DataDir
    from core.lake import connect_lake, latest_snapshot_id
    from core.settings import Settings
    d = DataDir(Path(sys.argv[1]))
    con = connect_lake(Settings(), d)
    con.execute("create table t (a integer)")
    con.execute("insert into t values (1), (2)")
    con2 = connect_lake(Settings(), d)  # a second connection: nothing loaded or attached twice
    out = {
        "rows": con2.sql("select count(*) from t").fetchall()[0][0],
        "snapshot": latest_snapshot_id(con2),
        "settings": dict(con2.sql(
            "select name, value from duckdb_settings() "
            "where name in ('autoinstall_known_extensions', 'autoload_known_extensions')").fetchall()),
        "loaded": sorted(n for n, in con2.sql(
            "select extension_name from duckdb_extensions() where loaded").fetchall()),
        "extension_dir_files": sorted(str(p) for p in Path(sys.argv[2]).rglob('*')),
    }
    print(json.dumps(out))
    """
)


def test_the_lake_attaches_offline_from_the_installed_extension_packages(tmp_path: Path) -> None:
    """A fresh process with nothing in DuckDB's extension folder, autoinstall and autoload off
    and no route to the internet (proxies to a closed port) attaches, writes and reads the lake."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "PREFECT_"))}
    dead = "http://127.0.0.1:9"
    env.update(HOME=str(home), http_proxy=dead, https_proxy=dead, HTTP_PROXY=dead, HTTPS_PROXY=dead)
    p = subprocess.run(
        [sys.executable, "-c", OFFLINE, str(tmp_path / "data"), str(home)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["rows"] == 2
    assert out["snapshot"] == 2  # 0 the schema, 1 the table, 2 the insert
    assert out["settings"] == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
    assert {"ducklake", "sqlite_scanner"} <= set(out["loaded"])
    assert out["extension_dir_files"] == []  # nothing installed into ~/.duckdb
    assert (tmp_path / "data" / "lake" / "catalog.sqlite").is_file()


TAMPERED = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import core.lake as lake
    from core.datadir import DataDir
    from core.errors import PulseError
    from core.settings import Settings
    real = lake.extension_path("sqlite_scanner")
    copy = Path(sys.argv[2])
    data = bytearray(real.read_bytes())
    data[len(data) // 2] ^= 1  # one bit changed in the middle of the file
    copy.write_bytes(bytes(data))
    installed = lake.extension_path
    lake.extension_path = lambda name: copy if name == "sqlite_scanner" else installed(name)
    try:
        lake.connect_lake(Settings(), DataDir(Path(sys.argv[1])))
    except PulseError as e:
        loaded = lake._process_instance().sql(
            "select extension_name from duckdb_extensions() where loaded and extension_name = 'sqlite_scanner'").fetchall()
        print("refused:", e, "| loaded:", loaded)
    """
)


def test_an_extension_file_that_is_not_what_its_wheel_installed_is_refused_before_it_is_loaded(tmp_path: Path) -> None:
    """DuckDB's own signature check is off for the extension packages (core/lake.py): each file is
    checked against the SHA-256 of its wheel's RECORD instead, so a changed file never loads."""
    p = subprocess.run(
        [sys.executable, "-c", TAMPERED, str(tmp_path / "data"), str(tmp_path / "sqlite_scanner.duckdb_extension")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "refused:" in p.stdout, p.stdout
    assert "not the file duckdb-extension-sqlite-scanner installed (its SHA-256 differs)" in p.stdout
    assert p.stdout.strip().endswith("| loaded: []")


MOVED = textwrap.dedent(
    """
    import shutil, sys
    from pathlib import Path
    from core.datadir import DataDir
    from core.lake import connect_lake
    from core.settings import Settings
    first, second = Path(sys.argv[1]), Path(sys.argv[2])
    con = connect_lake(Settings(), DataDir(first))
    con.execute("create table t as select range as a from range(3)")
    con.close()
    shutil.copytree(first, second)  # a restored backup, or a test's copy of a session warehouse
    con = connect_lake(Settings(), DataDir(second))
    print(con.sql("select count(*) from t").fetchall()[0][0])
    """
)


def test_a_copied_data_dir_reads_its_own_lake(tmp_path: Path) -> None:
    """DuckLake records the data path in its catalog; the default one follows the data dir."""
    p = subprocess.run(
        [sys.executable, "-c", MOVED, str(tmp_path / "a"), str(tmp_path / "b")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr[-600:]
    assert p.stdout.strip() == "3"


def test_lake_tables_lists_only_the_current_lakes_committed_tables(tmp_path: Path) -> None:
    """The listing every reader and the mart build use (core.lake.lake_tables): one lake's own
    tables among other lakes the process has attached, and a native file's own."""
    import duckdb

    from core.lake import connect_lake, lake_tables
    from core.settings import Settings

    one = connect_lake(Settings(), DataDir(tmp_path / "one").ensure())
    two = connect_lake(Settings(), DataDir(tmp_path / "two").ensure())
    try:
        one.execute("create table a (x int)")
        two.execute("create table b (x int)")
        two.execute("begin transaction")
        two.execute("create table c (x int)")  # not committed: not listed
        assert (lake_tables(one), lake_tables(two)) == ({"a"}, {"b"})
        two.execute("commit")
        assert lake_tables(two) == {"b", "c"}
    finally:
        one.close()
        two.close()
    native = duckdb.connect(str(tmp_path / "cache.duckdb"))
    try:
        native.execute("create table m (x int)")
        assert lake_tables(native) == {"m"}
    finally:
        native.close()
