"""The real `pulse` console script: one line per error, data-dir handling and isolation."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

SMALL = ["--scale", "0.05", "--days", "14", "--end", "2026-10-20"]


def test_help_lists_commands_and_ends_with_an_example(pulse) -> None:
    r = pulse("--help")
    assert r.code == 0
    assert "demo-data" in r.out
    assert r.out.rstrip().splitlines()[-1].strip().startswith("Example: pulse ")
    for command in ["demo-data", "refresh", "status", "dashboard", "worker"]:
        sub = pulse(command, "--help")
        assert sub.code == 0
        assert sub.out.rstrip().splitlines()[-1].strip().startswith(f"Example: pulse {command}")


@pytest.mark.parametrize(
    ("args", "code", "line"),
    [
        (["--nope"], 2, "Error: No such option '--nope' (see 'pulse --help')"),
        (["frobnicate"], 2, "Error: No such command 'frobnicate' (see 'pulse --help')"),
        (
            ["demo-data", "--days", "x"],
            2,
            "Error: Invalid value for '--days': 'x' is not a valid integer range (see 'pulse demo-data --help')",
        ),
        (
            ["demo-data", "--scale", "0"],
            2,
            "Error: Invalid value for '--scale': 0.0 is not in the range 0.001<=x<=1000 (see 'pulse demo-data --help')",
        ),
    ],
)
def test_usage_mistakes_fail_with_one_line(pulse, args: list[str], code: int, line: str) -> None:
    r = pulse(*args)
    assert (r.code, r.err, r.out) == (code, line + "\n", "")


def test_bad_config_fails_with_one_line(pulse, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text((REPO / "campaign.toml").read_text().replace("min_cell = 10", "min_cell = 1"))
    expected = f"Error: {bad}: privacy.min_cell: input should be greater than or equal to 2 (got 1)\n"
    for args in (["--config", str(bad), "demo-data"], ["demo-data", "--config", str(bad)]):
        r = pulse(*args, "--data-dir", str(tmp_path / "d"))
        assert (r.code, r.err) == (1, expected)
    r = pulse("demo-data", "--data-dir", str(tmp_path / "d"), env={"PULSE_CONFIG": str(bad)})
    assert (r.code, r.err) == (1, expected)


def test_data_dir_that_cannot_be_created(pulse, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = pulse("--data-dir", str(blocker / "data"), "demo-data")
    assert r.code == 1
    assert r.err == (
        f"Error: data dir {blocker / 'data'}: cannot create {blocker / 'data'} (Not a directory); "
        "pass --data-dir or set PULSE_DATA_DIR to a folder you can write\n"
    )


def test_unwritable_data_dir(pulse, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    # chmod does not stop root (tests run as root here); the immutable flag does.
    subprocess.run(["chattr", "+i", str(locked)], check=True)
    try:
        r = pulse("demo-data", "--data-dir", str(locked))
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)
    assert r.code == 1
    assert r.err == (
        f"Error: data dir {locked}: cannot create {locked / 'landing'} (Operation not permitted); "
        "pass --data-dir or set PULSE_DATA_DIR to a folder you can write\n"
    )


def test_data_dir_before_or_after_the_subcommand_or_from_env(pulse, tmp_path: Path) -> None:
    for name, args, env in [
        ("before", ["--data-dir", str(tmp_path / "before"), "demo-data", *SMALL], {}),
        ("after", ["demo-data", *SMALL, "--data-dir", str(tmp_path / "after")], {}),
        ("env", ["demo-data", *SMALL], {"PULSE_DATA_DIR": str(tmp_path / "env")}),
        # the subcommand's option wins over the group's
        (
            "sub-wins",
            ["--data-dir", str(tmp_path / "ignored"), "demo-data", "--data-dir", str(tmp_path / "sub-wins"), *SMALL],
            {},
        ),
    ]:
        r = pulse(*args, env=env)
        assert r.code == 0, r.err
        assert (tmp_path / name / "demo-manifest.json").is_file()
        assert f"Wrote demo data to {tmp_path / name / 'landing'}" in r.out
    assert not (tmp_path / "ignored" / "landing").exists()
    assert not (tmp_path / "data").exists()  # no default data dir created alongside


def test_default_data_dir_is_data_in_the_working_directory(pulse, tmp_path: Path) -> None:
    r = pulse("demo-data", *SMALL)
    assert r.code == 0, r.err
    assert (tmp_path / "data" / "landing" / "engagement").is_dir()


def test_two_data_dirs_share_nothing(pulse, tmp_path: Path) -> None:
    home = tmp_path / "home"
    for name in ("a", "b"):
        assert pulse("--data-dir", str(tmp_path / name), "demo-data", *SMALL, "--seed", "1").code == 0
    everything = {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*")}
    assert everything == {"a", "b", "home"}
    assert list(home.iterdir()) == []  # nothing written to ~ (no ~/.prefect, no global DuckDB)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 10


def test_refuses_non_empty_landing_zone_unless_forced(pulse, tmp_path: Path) -> None:
    d = tmp_path / "d"
    assert pulse("--data-dir", str(d), "demo-data", *SMALL).code == 0
    r = pulse("--data-dir", str(d), "demo-data", *SMALL)
    assert (r.code, r.out) == (1, "")
    assert r.err == f"Error: landing zone {d / 'landing'} already holds files; pass --force to add demo data anyway\n"
    r = pulse("--data-dir", str(d), "demo-data", *SMALL, "--force")
    assert r.code == 0, r.err
