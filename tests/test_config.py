"""campaign.toml: defaults, overrides, and one clear line for every kind of bad config."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import Settings, documented_keys, load_settings, normalize_hashtag
from tests.conftest import REPO

GOOD = (REPO / "campaign.toml").read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "campaign.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_committed_config_is_the_default() -> None:
    from_file = load_settings(REPO / "campaign.toml")
    assert from_file.model_dump() == Settings().model_dump()
    assert from_file.timezone == "Asia/Phnom_Penh"
    assert from_file.launch == dt.date(2026, 10, 10)
    assert from_file.privacy.min_cell == 10
    assert from_file.schedule.cron == "5 * * * *"
    assert from_file.partner_ids == (
        "child-helpline-cambodia",
        "arom-station",
        "cambodia-4-0-center",
        "tpo-cambodia",
    )
    assert {"mentalwellbeing", "mentalwell", "mentalwellbeingcomesfirst"} <= from_file.tracked_hashtags


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: 'colour = "blue"\n' + t, "colour: unknown key; see the README's configuration table for the keys"),
        (
            lambda t: t.replace("min_cell = 10", "min_cell = 1"),
            "privacy.min_cell: input should be greater than or equal to 2 (got 1)",
        ),
        (
            lambda t: t.replace("min_cell = 10", 'min_cell = "ten"'),
            "privacy.min_cell: input should be a valid integer (got 'ten')",
        ),
        (
            lambda t: t.replace("min_cell = 10", "min_cell = 10\nmax_cell = 5"),
            "privacy.max_cell: unknown key; see the README's configuration table for the keys",
        ),
        (
            lambda t: t.replace('"Asia/Phnom_Penh"', '"Asia/Atlantis"'),
            "timezone: unknown IANA time zone 'Asia/Atlantis' (e.g. 'Asia/Phnom_Penh')",
        ),
        (lambda t: t.replace("# end = 2027-01-31", "end = 2026-10-01"), "end: 2026-10-01 is before launch 2026-10-10"),
        (
            lambda t: t.replace('id = "arom-station"', 'id = "tpo-cambodia"'),
            "partners: duplicate partner id 'tpo-cambodia'",
        ),
        (
            lambda t: t.replace('id = "arom-station"', 'id = "Arom Station"'),
            "partners[1].id: must be a lowercase slug like 'tpo-cambodia' (got 'Arom Station')",
        ),
        (
            lambda t: t.replace('channels = ["phone", "chat"]', 'channels = ["phone", "pigeon"]'),
            "partners[0].channels: unknown channel 'pigeon'; use one of phone, chat, web, messaging, other",
        ),
        (
            lambda t: t.replace('cron = "5 * * * *"', 'cron = "every hour"'),
            "schedule.cron: not a valid cron expression (Wrong number of fields): 'every hour'",
        ),
        (
            lambda t: t.replace("launch = 2026-10-10", 'launch = "soon"'),
            "launch: input should be a valid date or datetime, input is too short (got 'soon')",
        ),
        (
            lambda t: t.replace('name = "Mental Well-Being Comes First"', "name = 42"),
            "name: input should be a valid string (got 42)",
        ),
        (
            lambda t: t.replace("events = []", 'events = [{date = 2026-10-20, label = "TV spot", colour = "red"}]'),
            "campaign.events[0].colour: unknown key; see the README's configuration table for the keys",
        ),
        (
            lambda t: t.replace("events = []", 'events = [{date = 2026-10-20, label = ""}]'),
            "campaign.events[0].label: string should have at least 1 character (got '')",
        ),
        (
            lambda t: t.replace("events = []", 'events = [{label = "TV spot"}]'),
            "campaign.events[0].date: required key is missing",
        ),
    ],
    ids=[
        "unknown-key",
        "min-cell-too-small",
        "min-cell-wrong-type",
        "unknown-nested-key",
        "bad-timezone",
        "end-before-launch",
        "duplicate-partner",
        "bad-slug",
        "bad-channel",
        "bad-cron",
        "bad-date",
        "wrong-type",
        "event-unknown-key",
        "event-empty-label",
        "event-without-date",
    ],
)
def test_bad_config_is_refused_with_one_line(tmp_path: Path, edit, message: str) -> None:
    text = edit(GOOD)
    assert text != GOOD, "the edit must change the file"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_settings(path)
    assert str(e.value) == f"{path}: {message}"
    assert "\n" not in str(e.value)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    bad = write(tmp_path, "name = \n")
    with pytest.raises(ConfigError, match=r"campaign.toml: not valid TOML \(Invalid value \(at line 1, column 8\)\)$"):
        load_settings(bad)
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path / "nope.toml")
    assert str(e.value) == f"{tmp_path / 'nope.toml'}: file not found; pass --config FILE or set PULSE_CONFIG"


def test_config_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PULSE_CONFIG", raising=False)
    assert load_settings().source == "built-in defaults"
    write(tmp_path, GOOD.replace("min_cell = 10", "min_cell = 11"))
    assert load_settings().privacy.min_cell == 11  # ./campaign.toml
    other = tmp_path / "other.toml"
    other.write_text(GOOD.replace("min_cell = 10", "min_cell = 12"), encoding="utf-8")
    monkeypatch.setenv("PULSE_CONFIG", str(other))
    assert load_settings().privacy.min_cell == 12  # PULSE_CONFIG beats ./campaign.toml
    explicit = tmp_path / "explicit.toml"
    explicit.write_text(GOOD.replace("min_cell = 10", "min_cell = 13"), encoding="utf-8")
    assert load_settings(explicit).privacy.min_cell == 13  # --config beats both


def test_hashtags_match_without_case_or_hash() -> None:
    s = Settings(hashtags={"#MentalWellBeing": ["#MentalWell", "សុខភាពផ្លូវចិត្ត"]})
    assert s.tracked_hashtags == {"mentalwellbeing", "mentalwell", "សុខភាពផ្លូវចិត្ត"}
    assert normalize_hashtag("#MENTALWELL") == "mentalwell"
    assert normalize_hashtag("#សុខភាពផ្លូវចិត្ត") == "សុខភាពផ្លូវចិត្ត"


def test_campaign_events_are_read_in_order(tmp_path: Path) -> None:
    text = GOOD.replace(
        "events = []",
        'events = [{date = 2026-10-10, label = "Launch"}, {date = 2026-11-01, label = "School visits"}]',
    )
    s = load_settings(write(tmp_path, text))
    assert [(e.date, e.label) for e in s.campaign.events] == [
        (dt.date(2026, 10, 10), "Launch"),
        (dt.date(2026, 11, 1), "School visits"),
    ]
    assert Settings().campaign.events == ()


def test_every_key_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", table, flags=re.M))
    assert set(documented_keys()) == documented
    # and the committed file sets every top-level key except the optional `end`
    in_file = set(tomllib.loads(GOOD))
    assert {k for k in documented_keys() if "." not in k} - in_file == {"end"}
