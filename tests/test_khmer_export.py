"""Issue 15, CSVs in the language: `pulse export --lang km` writes the catalog's headers and
categories in Khmer with a UTF-8 BOM (Excel then reads Khmer); without `--lang` the output is
byte for byte what the unmodified code wrote (tests/data/export_tpo_2026-10-12.csv, to stdout
and to a file); the dashboard's downloads start with the BOM when the page is Khmer."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from core import csvfile
from tests.conftest import REPO
from tests.dashboard_fixtures import build

FROZEN = REPO / "tests" / "data" / "export_tpo_2026-10-12.csv"
PULSE = Path(sys.executable).parent / "pulse"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("export") / "data").root


def export(root: Path, *extra: str, out: str = "-") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    args = ["--data-dir", str(root), "export", "--partner", "tpo-cambodia", "--from", "2026-10-12", "--to"]
    p = subprocess.run([str(PULSE), *args, "2026-10-18", "--out", out, *extra], capture_output=True, env=env)
    assert p.returncode == 0, p.stderr
    return p


def test_the_default_export_is_unchanged_to_stdout_and_to_a_file(root: Path, tmp_path: Path) -> None:
    assert export(root).stdout == FROZEN.read_bytes()
    export(root, out=str(tmp_path / "tpo.csv"))
    assert (tmp_path / "tpo.csv").read_bytes() == FROZEN.read_bytes()


def test_export_lang_km_is_khmer_with_a_bom(root: Path, tmp_path: Path) -> None:
    data = export(root, "--lang", "km").stdout
    assert data.startswith(b"\xef\xbb\xbf")
    export(root, "--lang", "km", out=str(tmp_path / "km.csv"))
    assert (tmp_path / "km.csv").read_bytes() == data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    frozen = list(csv.reader(io.StringIO(FROZEN.read_text())))
    assert rows[0] == ["ដៃគូ", "ថ្ងៃចាប់ផ្ដើមសប្តាហ៍", "ថ្ងៃបញ្ចប់សប្តាហ៍", "រង្វាស់", "ការបែងចែក", "ប្រភេទ", "តម្លៃ"]
    assert len(rows) == len(frozen)
    assert [r[6] for r in rows[1:]] == [r[6] for r in frozen[1:]]  # the same figures, '<10' included
    assert [r[1:3] for r in rows[1:]] == [r[1:3] for r in frozen[1:]]  # ISO dates, for sorting
    categories = {r[5] for r in rows[1:]}
    assert "ភ្នំពេញ" in categories and "Phnom Penh" not in categories
    assert {r[3] for r in rows[1:]} >= {"បានបង្ហាញ", "បានចុច"}


def test_export_lang_en_has_the_catalogs_words_and_no_bom(root: Path) -> None:
    data = export(root, "--lang", "en").stdout
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.decode().splitlines()[0] == "Partner,Week start,Week end,Measure,Breakdown,Category,Value"


def test_a_download_in_khmer_starts_with_the_bom() -> None:
    df = pl.DataFrame({"ខេត្ត": ["ភ្នំពេញ"], "n": [12]})
    assert csvfile.to_bytes(df, bom=csvfile.bom_for("km")) == "\ufeffខេត្ត,n\nភ្នំពេញ,12\n".encode()
    assert csvfile.to_bytes(df, bom=csvfile.bom_for("en")) == "ខេត្ត,n\nភ្នំពេញ,12\n".encode()
