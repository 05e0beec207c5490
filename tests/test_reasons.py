"""Rejection reasons as data (core/reasons.py): the validation SQL emits only declared codes,
the quarantine stores each rejected row's codes beside its English text, `pulse refresh --json`
counts by the declared summary, and the Data health page reads the reasons in the reader's
language (rows stored before codes by their stored text). Real refreshes on real lakes."""

from __future__ import annotations

import json
import re
import shutil
import string
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import accounts, labels
from core import reasons as rejections
from core.datadir import DataDir
from core.settings import Settings
from queries import pages as q
from queries.warehouse import published
from tests.conftest import REPO
from tests.dashboard_fixtures import add_accounts
from tests.test_refresh import count, refresh, view, write_file
from tests.warehouse_edit import planted

SQL = REPO / "pipelines" / "sql"
APP = str(REPO / "dashboard" / "app.py")
CODE = re.compile(r"'([a-z_]+\.[a-z_]+)'")


def emitted_codes() -> dict[str, set[str]]:
    """Every code string literal of the validation: the SQL files' rules and the JSON lines check."""
    files = [*sorted(SQL.glob("validate_*.sql")), SQL / "macros.sql", REPO / "pipelines" / "validate.py"]
    return {p.name: set(CODE.findall(p.read_text(encoding="utf-8"))) for p in files}


def test_every_emitted_code_is_declared_and_every_declared_code_is_emitted() -> None:
    found = emitted_codes()
    emitted = set().union(*found.values())
    declared = [r.code for r in rejections.REASONS]
    assert len(declared) == len(set(declared)) == 43
    assert sorted(emitted - set(declared)) == []
    assert sorted(set(declared) - emitted) == []
    assert found["validate.py"] == {"row.not_json", "row.not_object"}
    assert all(r.code.split(".")[0] == r.field for r in rejections.REASONS)


def test_details_name_only_what_the_staging_fills_in() -> None:
    named = {
        f for r in rejections.REASONS if r.detail for _, f, _, _ in string.Formatter().parse(r.detail) if f is not None
    }
    assert named == set(rejections.PLACEHOLDERS) == {"earliest", "event_type", "action"}
    text = (SQL / "stage_quarantine.sql").read_text(encoding="utf-8")
    assert all(f"'{{{p}}}'" in text for p in rejections.PLACEHOLDERS)


def test_no_reason_is_parsed_back_from_its_text() -> None:
    for path in [SQL / "stage_quarantine.sql", REPO / "pipelines" / "stage.py"]:
        assert "split_part" not in path.read_text(encoding="utf-8"), path.name


# --- what the quarantine stores -------------------------------------------------------------

BAD = [
    view(1, event_id="no_video", video_id=""),
    view(2, event_id="like_no_video", event_type=" LIKE ", video_id=None),
    view(3, event_id="ancient", event_time="1999-05-01T00:00:00Z"),
    view(4, event_id="two", event_type="bogus", surface="nowhere"),
    view(5, event_id="post", event_type="post", creator_id=None),
]
SAFETY = [
    {"event_id": "s1", "event_time": "2026-10-10T12:00:00Z", "user_id": "u1", "action": "report",
     "target_type": "video", "target_id": "t1"},
    {"event_id": "s2", "event_time": "2026-10-10T12:00:00Z", "user_id": "", "action": "block",
     "target_type": "video", "target_id": "t1"},
]  # fmt: skip


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataDir, object]:
    d = DataDir(tmp_path_factory.mktemp("reasons") / "data").ensure()
    write_file(d, "engagement/bad.csv", [view(0, event_id="good"), *BAD])
    write_file(d, "safety/bad.jsonl", SAFETY)
    with (d.landing / "engagement" / "broken.jsonl").open("w", encoding="utf-8") as f:
        f.write(json.dumps(view(9, event_id="j_ok")) + "\n{not json\n[1, 2]\n")
    result = refresh(d)
    return d, result


def test_each_rejected_row_has_its_codes_and_the_text_of_before(lake) -> None:
    d, _ = lake
    rows = count(
        d,
        "select row_json ->> 'event_id', line, field, code, codes, reason, reasons from quarantine_rows "
        "order by file_path, line",
    )
    assert rows == [
        ("no_video", 3, "video_id", "video_id.missing", ["video_id.missing"],
         "video_id: missing (required for view)", ["video_id: missing (required for view)"]),
        ("like_no_video", 4, "video_id", "video_id.missing", ["video_id.missing"],
         "video_id: missing (required for like)", ["video_id: missing (required for like)"]),
        ("ancient", 5, "event_time", "event_time.before_earliest", ["event_time.before_earliest"],
         "event_time: before validation.earliest (2000-01-01)", ["event_time: before validation.earliest (2000-01-01)"]),
        ("two", 6, "event_type", "event_type.unknown", ["event_type.unknown", "surface.unknown"],
         "event_type: unknown value", ["event_type: unknown value", "surface: unknown value"]),
        ("post", 7, "creator_id", "creator_id.missing", ["creator_id.missing"],
         "creator_id: missing (required for post)", ["creator_id: missing (required for post)"]),
        (None, 2, "row", "row.not_json", ["row.not_json"], "row: not valid JSON", ["row: not valid JSON"]),
        (None, 3, "row", "row.not_object", ["row.not_object"], "row: not a JSON object", ["row: not a JSON object"]),
        ("s1", 1, "policy", "policy.missing", ["policy.missing"],
         "policy: missing (required for report)", ["policy: missing (required for report)"]),
        ("s2", 2, "user_id", "user_id.missing_not_platform", ["user_id.missing_not_platform"],
         "user_id: missing (only removal and restore may leave it empty)",
         ["user_id: missing (only removal and restore may leave it empty)"]),
    ]  # fmt: skip


def test_refresh_json_counts_by_the_declared_summary(lake) -> None:
    _, result = lake
    assert result.streams["engagement"].to_json()["quarantined"] == {
        "total": 7,
        "by_reason": {
            "creator_id: missing": 1,
            "event_time: before validation.earliest": 1,
            "event_type: unknown value": 1,
            "row: not a JSON object": 1,
            "row: not valid JSON": 1,
            "surface: unknown value": 1,
            "video_id: missing": 2,
        },
    }
    assert dict(result.streams["safety"].by_reason) == {"policy: missing": 1, "user_id: missing": 1}


# --- a lake from before the codes --------------------------------------------------------------


def test_a_lake_from_before_the_codes_is_read_and_gains_them(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "data").ensure()
    write_file(d, "engagement/old.csv", [view(1, event_id="old", event_type="bogus")])
    refresh(d)
    with planted(d) as con:  # the lake as release 2.0 left it: quarantine_rows without the codes
        con.execute("alter table quarantine_rows drop column code")
        con.execute("alter table quarantine_rows drop column codes")
    with published(d) as con:
        before = q.quarantine_by_reason(con)
    assert before.select("stream", "code", "field", "reason", "count_rows").rows() == [
        ("engagement", None, "event_type", "event_type: unknown value", 1)
    ]
    write_file(d, "engagement/new.csv", [view(2, event_id="new", video_id="")])
    result = refresh(d)
    assert dict(result.streams["engagement"].by_reason) == {"video_id: missing": 1}
    assert count(
        d, "select row_json ->> 'event_id', code, codes, reason from quarantine_rows order by file_path desc"
    ) == [
        ("old", None, None, "event_type: unknown value"),
        ("new", "video_id.missing", ["video_id.missing"], "video_id: missing (required for view)"),
    ]
    with published(d) as con:
        after = q.quarantine_by_reason(con)
    assert sorted(after.select("code", "reason", "event_type").rows(), key=str) == [
        ("video_id.missing", "video_id: missing (required for view)", "view"),
        (None, "event_type: unknown value", None),
    ]


# --- the Data health page, in Khmer ------------------------------------------------------------


def test_data_health_reads_reasons_in_the_readers_language(
    lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = DataDir(tmp_path / "data")
    shutil.copytree(lake[0].root, d.root, symlinks=True)
    with planted(d) as con:  # a row stored before the codes: no code, its English text
        con.execute(
            "insert into quarantine_rows by name select 'old-load' as load_id, 'referral' as stream, "
            "'referral/old.csv' as file_path, 'abc' as file_sha256, 2 as line, 'stage' as field, "
            "'stage: missing' as reason, ['stage: missing'] as reasons, '{}' as row_json"
        )
    add_accounts(d.root)
    accounts.add(d, Settings(), "admin-km", "admin", None, "admin khmer password", language="km")
    monkeypatch.setenv("PULSE_DATA_DIR", str(d.root))
    monkeypatch.chdir(REPO)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "km"  # Khmer from the sign-in form on, as the account's own language
    at.run()
    at.text_input(key="sign_in_name").input("admin-km")
    at.text_input(key="sign_in_password").input("admin khmer password")
    # AppTest calls the widgets' format functions in this thread: they must read Khmer here too
    token = labels.use("km")
    try:
        next(b for b in at.button if b.label == labels.gettext("Sign in")).click()
        at.run()
        at.switch_page("views/data_health.py").run()
    finally:
        labels.reset(token)
    assert not at.exception, [e.value for e in at.exception]
    table = next(t.value for t in at.dataframe if "មូលហេតុ" in t.value.columns)
    assert list(table.columns) == ["ជួរដេក", "វាល", "មូលហេតុ", "ប្រភពទិន្នន័យ"]  # the count first (a phone shows it)
    got = sorted(zip(table["វាល"], table["មូលហេតុ"], table["ជួរដេក"], strict=True))
    assert got == [
        ("creator_id", "ខ្វះ (ត្រូវការសម្រាប់ post)", 1),
        ("event_time", "មុនកាលបរិច្ឆេទ validation.earliest (2000-01-01)", 1),
        ("event_type", "តម្លៃមិនស្គាល់", 1),
        ("policy", "ខ្វះ (ត្រូវការសម្រាប់ report)", 1),
        ("row", "មិនមែនជា JSON ត្រឹមត្រូវ", 1),
        ("row", "មិនមែនជាវត្ថុ JSON", 1),
        ("stage", "stage: missing", 1),  # stored before the codes: its English text
        ("user_id", "ខ្វះ (មានតែការដកចេញ និងការស្ដារឡើងវិញទេ ដែលអាចទុកវាឱ្យទទេបាន)", 1),
        ("video_id", "ខ្វះ (ត្រូវការសម្រាប់ like)", 1),
        ("video_id", "ខ្វះ (ត្រូវការសម្រាប់ view)", 1),
    ]
    by_file = next(t.value for t in at.dataframe if "ឯកសារ" in t.value.columns)
    assert len(by_file) == 10
    assert at.get("download_button"), "the CSV download is kept"
