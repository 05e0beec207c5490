"""Words, not codes: the label catalog (core/labels.py), its .pot, and every page's visible
text as a person reads it (AppTest: titles, captions, tiles, tables, widget options, chart
titles, axes and categories, and every CSV download)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from babel.messages.pofile import read_po
from streamlit.runtime.media_file_storage import MediaFileKind
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from core import reference as ref
from core.settings import Settings
from pipelines.refresh import refresh
from tests.conftest import REPO
from tests.dashboard_fixtures import ACCOUNTS, add_accounts, build
from tests.test_refresh import write_file

APP = str(REPO / "dashboard" / "app.py")
PYBABEL = Path(sys.executable).parent / "pybabel"
POT = REPO / "core" / "locale" / "messages.pot"

# CONTRACT §2's enums, and the other codes the pages show.
ENUMS = {
    "entry_point": ref.ENTRY_POINTS,
    "channel": ref.CHANNELS,
    "policy": ref.POLICIES,
    "action": ref.SAFETY_ACTIONS,
    "event_type": ref.ENGAGEMENT_TYPES,
    "surface": ref.SURFACES,
    "detection": ref.DETECTIONS,
    "target_type": ref.TARGET_TYPES,
    "age_band": (*ref.AGE_BANDS, ref.UNKNOWN),
    "language": (*ref.LANGUAGES, ref.UNKNOWN),
    "stage": ref.REFERRAL_STAGES,
    "province": (*(code for code, _, _ in ref.PROVINCES), ref.UNKNOWN),
    "stream": ref.STREAMS,
}


# --- the catalog ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ENUMS))
def test_every_contract_enum_has_a_word(kind: str) -> None:
    from core import labels

    for code in ENUMS[kind]:
        word = labels.label(kind, code)
        assert word and word != code and "_" not in word, (kind, code, word)
    assert len({labels.label(kind, c) for c in ENUMS[kind]}) == len(ENUMS[kind]), kind  # no two codes read alike


def test_unknown_reads_the_same_everywhere() -> None:
    from core import labels

    assert {labels.label(k, ref.UNKNOWN) for k in ("province", "age_band", "language")} == {"Unknown"}


def test_figures_of_the_pages_have_words() -> None:
    from core import labels

    assert labels.label("metric", "helpline_clicks") == "Helpline card taps"
    assert labels.label("weekday", 1) == "Monday" and labels.label("weekday", 7) == "Sunday"
    assert labels.label("policy", "bullying_harassment") == "Bullying and harassment"
    assert labels.label("entry_point", "search_intervention") == "Search intervention"


def test_campaign_time_names_its_zone() -> None:
    from core import labels

    s = Settings()
    at = dt.datetime(2026, 12, 1, 7, 5, tzinfo=dt.UTC)
    assert labels.campaign_time(at, s.tz) == "1 Dec 2026, 14:05 ICT"
    assert labels.zone_place(s.tz) == "Cambodia time"


def test_ngettext_picks_the_form() -> None:
    from core import labels

    assert labels.ngettext("{n} value", "{n} values", 1).format(n=1) == "1 value"
    assert labels.ngettext("{n} value", "{n} values", 3).format(n=3) == "3 values"


def _ids(path: Path) -> set[str]:
    with open(path, "rb") as fh:
        return {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(fh) if m.id}


def test_the_pot_is_up_to_date(tmp_path: Path) -> None:
    """`pybabel extract` over the code finds exactly the strings committed in messages.pot."""
    fresh = tmp_path / "messages.pot"
    p = subprocess.run(
        [
            str(PYBABEL),
            "extract",
            "-F",
            "babel.cfg",
            "--no-location",
            "--sort-output",
            "--project",
            "Wellbeing Pulse",
            "-o",
            str(fresh),
            "dashboard",
            "queries",
            "core",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    got, committed = _ids(fresh), _ids(POT)
    assert got == committed, {"missing from messages.pot": got - committed, "stale in it": committed - got}
    assert "Bullying and harassment" in got and "Day ({zone})" in got and "What every figure means" in got


def test_a_translation_is_used_when_one_is_compiled(tmp_path: Path) -> None:
    """The machinery the Khmer issue fills in: a compiled catalog in locale/<lang>/ is used
    by `_()` and `label()`; a string it lacks falls back to the English source."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    from core import labels

    cat = Catalog(locale="fr")
    cat.add("Bullying and harassment", "Harcèlement")
    (tmp_path / "fr" / "LC_MESSAGES").mkdir(parents=True)
    with open(tmp_path / "fr" / "LC_MESSAGES" / "messages.mo", "wb") as fh:
        write_mo(fh, cat)
    token = labels.use("fr", tmp_path)
    try:
        assert labels.label("policy", "bullying_harassment") == "Harcèlement"
        assert labels.gettext("Reports") == "Reports"
    finally:
        labels.reset(token)
    assert labels.label("policy", "bullying_harassment") == "Bullying and harassment"


# --- `pulse export` stays byte-identical -------------------------------------------------


def test_pulse_export_is_byte_identical_to_before(tmp_path: Path) -> None:
    """Scripts parse `pulse export`: its words are frozen (tests/data/ holds its output
    before the label catalog existed)."""
    root = build(tmp_path / "data").root
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    args = ["--data-dir", str(root), "export", "--partner", "tpo-cambodia", "--from", "2026-10-12"]
    p = subprocess.run(
        [str(Path(sys.executable).parent / "pulse"), *args, "--to", "2026-10-18", "--out", "-"],
        capture_output=True,
        env=env,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == (REPO / "tests" / "data" / "export_tpo_2026-10-12.csv").read_bytes()


# --- every page, as read ------------------------------------------------------------------

# Codes that must never be read anywhere (substring), and values that must never be a whole
# label, cell, option or chart category on their own.
CODES = re.compile(
    r"search_intervention|wellness_hub|hashtag_page|video_banner|wellbeing_guide|bullying_harassment|self_harm|"
    r"hate_speech|dangerous_acts|adult_content|violent_content|user_report|comment_filter|screen_time_limit|"
    r"tip_video_view|hub_visit|guide_view|helpline_clicks|day_of_week|processed_at|count_[a-z]+|unknown_columns|"
    r"file_path|first_line|Asia/Phnom_Penh|snapshot \d{8}T|\d{4}-\d\d-\d\dT\d\d:\d\d|\+00:00"
)
WHOLE = {
    "None",
    "nan",
    "NaN",
    "null",
    "unknown",
    *ref.POLICIES,
    *ref.SAFETY_ACTIONS,
    *ref.TARGET_TYPES,
    *ref.DETECTIONS,
    *ref.CHANNELS,
    *ref.STREAMS,
    *ref.REFERRAL_STAGES,
    "km",
    "en",
    "unreadable",
    "clicked",
}


class RecordingStorage(MemoryMediaFileStorage):
    """Streamlit's own in-memory media storage, keeping every download it is handed."""

    downloads: list[tuple[str, bytes]] = []

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):  # noqa: ANN001
        if kind == MediaFileKind.DOWNLOADABLE and isinstance(path_or_data, bytes):
            RecordingStorage.downloads.append((filename or "", path_or_data))
        return super().load_and_get_id(path_or_data, mimetype, kind, filename)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dashboard fixture, plus one rejected row and one unreadable file for Data health."""
    d = build(tmp_path_factory.mktemp("words") / "data")
    write_file(d, "engagement/2026/10/13/bad.csv", [{"event_id": "x1", "event_time": "yesterday", "user_id": "u"}])
    (d.landing / "safety" / "cut.jsonl.gz").write_bytes(b"\x1f\x8b not really gzip")
    extra = {"event_id": "x2", "event_time": "2026-10-13T05:00:00Z", "user_id": "u9", "event_type": "hub_visit"}
    write_file(d, "engagement/2026/10/13/extra.csv", [{**extra, "app_version": "1.2"}])
    refresh(Settings(), d, settle_seconds=0, now=dt.datetime(2026, 11, 25, 1, tzinfo=dt.UTC))
    add_accounts(d.root)
    return d.root


def sign_in(at: AppTest, name: str) -> AppTest:
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(ACCOUNTS[name][2])
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


def _chart_texts(proto) -> list[str]:  # noqa: ANN001
    """Titles, axis and legend titles, and the values of every category field of a chart."""
    spec = json.loads(proto.spec)
    datasets: dict[str, list[dict]] = {}
    for ds in proto.datasets:
        table = pa.ipc.open_stream(ds.data.data).read_all()
        datasets[ds.name] = table.to_pylist()
    out: list[str] = []
    fields: set[str] = set()

    def walk(node) -> None:  # noqa: ANN001
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("title", "subtitle", "text") and isinstance(v, str | list):
                    out.extend([v] if isinstance(v, str) else [x for x in v if isinstance(x, str)])
                channel = k in ("x", "y", "color", "row", "column", "xOffset", "yOffset", "text", "facet")
                if channel and isinstance(v, dict) and v.get("type") in ("nominal", "ordinal") and "field" in v:
                    fields.add(v["field"])
                if k == "tooltip" and isinstance(v, list):
                    fields.update(t["field"] for t in v if isinstance(t, dict) and t.get("type") in ("nominal",))
                walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(spec)
    for rows in [
        *datasets.values(),
        *[d.get("values", []) for d in spec.get("datasets", {}).values() if isinstance(d, dict)],
    ]:
        for row in rows:
            out.extend(str(row[f]) for f in fields if f in row and row[f] is not None)
    return out


def visible_texts(at: AppTest) -> list[str]:
    """What a person reads on the page (and in its tooltips), one string per item."""
    out: list[str] = []

    def walk(node) -> None:  # noqa: ANN001
        t = getattr(node, "type", None)
        children = getattr(node, "children", None)
        if t in ("markdown", "caption", "title", "header", "subheader", "text", "error", "info", "warning", "success"):
            out.append(str(node.value))
        elif t == "metric":
            out.extend(x for x in (node.label, node.value, node.proto.delta, node.proto.help) if x)
        elif t == "dataframe":
            df = node.value
            out.extend(str(c) for c in df.columns)
            out.extend("None" if v is None or v != v else str(v) for v in df.to_numpy().ravel())
        elif t in (
            "button",
            "download_button",
            "checkbox",
            "date_input",
            "text_input",
            "page_link",
            "form_submit_button",
        ):
            out.append(node.proto.label)
            if getattr(node.proto, "help", ""):
                out.append(node.proto.help)
        elif t in ("multiselect", "selectbox", "radio", "button_group", "segmented_control"):
            out.append(getattr(node.proto, "label", ""))
            out.extend(str(o) for o in getattr(node, "options", []))
            if getattr(node.proto, "placeholder", ""):
                out.append(node.proto.placeholder)
        elif t == "expander":
            if node.label == "About this data":
                return  # the one place for technical facts (snapshot id, timezone)
            out.append(node.label)
        elif t == "vega_lite_chart":
            out.extend(_chart_texts(node.proto))
        if children:
            for child in children.values():
                walk(child)

    walk(at._tree)
    return [x for x in out if x]


def csv_texts(downloads: list[tuple[str, bytes]]) -> list[str]:
    out: list[str] = []
    for name, data in downloads:
        if not name.endswith(".csv"):
            continue
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        out.extend(f"{name}: {cell}" if CODES.search(cell) else cell for row in rows for cell in row)
    return out


def offences(texts: list[str]) -> list[str]:
    return sorted({t for t in texts if CODES.search(t) or t.strip() in WHOLE})


PAGES = {
    "admin-test": [
        "views/overview.py",
        "views/audience.py",
        "views/hub.py",
        "views/referrals.py",
        "views/safety.py",
        "views/data_health.py",
        "views/accounts.py",
        "views/glossary.py",
    ],
    "policy-test": ["views/overview.py", "views/referrals.py", "views/safety.py"],
    "tpo-test": [None],
}


@pytest.mark.parametrize(("who", "page"), [(w, p) for w, pages in PAGES.items() for p in pages])
def test_no_code_and_no_none_on_screen_or_in_downloads(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch, who: str, page: str | None
) -> None:
    monkeypatch.setenv("PULSE_DATA_DIR", str(warehouse))
    monkeypatch.chdir(REPO)
    monkeypatch.setattr("streamlit.testing.v1.app_test.MemoryMediaFileStorage", RecordingStorage)
    RecordingStorage.downloads = []
    at = AppTest.from_file(APP, default_timeout=60)
    if who == "tpo-test":
        at.query_params["week"] = "2026-10-12"
    at.run()
    sign_in(at, who)
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    texts = visible_texts(at)
    assert len(texts) > 5
    assert offences(texts) == [], offences(texts)
    assert offences(csv_texts(RecordingStorage.downloads)) == [], offences(csv_texts(RecordingStorage.downloads))
    if page == "views/overview.py":
        assert RecordingStorage.downloads, "the Overview offers downloads"
        header = next(data for name, data in RecordingStorage.downloads if name.startswith("pulse-daily-trend-"))
        assert (
            header.decode().splitlines()[0]
            == "Day,Views of campaign videos,Wellness Hub visits,Helpline card taps,Reports"
        )


def test_technical_facts_are_in_about_this_data(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_DATA_DIR", str(warehouse))
    monkeypatch.chdir(REPO)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    sign_in(at, "policy-test")
    assert at.caption[0].value == "Data refreshed 0 min ago" or at.caption[0].value.startswith("Data refreshed ")
    assert not any("snapshot" in c.value.lower() for c in at.main.caption)
    about = next(e for e in at.expander if e.label == "About this data")
    text = " ".join(m.value for m in about.markdown)
    assert "Snapshot" in text and "Asia/Phnom_Penh" in text and "ICT" in text


def test_data_health_reads_in_campaign_time(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_DATA_DIR", str(warehouse))
    monkeypatch.chdir(REPO)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    sign_in(at, "admin-test")
    at.switch_page("views/data_health.py").run()
    captions = " ".join(c.value for c in at.caption)
    assert re.search(r"Last refresh \d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d ICT", captions), captions
    files = next(d.value for d in at.dataframe if "Read at" in d.value.columns)
    assert list(files.columns) == ["Stream", "File", "Problem", "Unknown columns", "Read at"]
    assert sorted(zip(files["Stream"], files["Problem"], files["Unknown columns"], strict=True)) == [
        ("Engagement", "Read, with unknown columns", "app_version"),
        ("Safety", "not a valid gzip file (truncated or corrupt)", ""),
    ]
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d ICT", files.iloc[0]["Read at"])


def test_the_glossary_explains_every_word_and_says_zero_reads_small(warehouse: Path, monkeypatch) -> None:
    monkeypatch.setenv("PULSE_DATA_DIR", str(warehouse))
    monkeypatch.chdir(REPO)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    sign_in(at, "policy-test")
    at.switch_page("views/glossary.py").run()
    text = "\n".join(m.value for m in at.markdown)
    for term in ("hidden", "withheld", "Guide views", "Screen-time limits set", "Entry point", "Channel", "<10"):
        assert f"**{term}**" in text, term
    assert "**<10** — Fewer than 10, zero included: any count from 0 to 9" in text
    assert "between 1 and 9" not in text
    assert "Search intervention, Hashtag page, Wellness Hub, Video banner, Well-being guide, Other" in text
    assert "Cambodia time, ICT" in text
