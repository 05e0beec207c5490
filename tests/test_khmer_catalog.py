"""The Khmer catalog (core/locale/km/LC_MESSAGES/messages.po) against the template
(core/locale/messages.pot): complete, in sync, placeholders and markdown kept, compiled by
`.ci/setup` (the .mo in the tree matches the .po), and a missing translation reads English."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core import labels
from tests.conftest import REPO

LOCALE = REPO / "core" / "locale"
POT = LOCALE / "messages.pot"
PO = LOCALE / "km" / "LC_MESSAGES" / "messages.po"
MO = LOCALE / "km" / "LC_MESSAGES" / "messages.mo"

KHMER = re.compile(r"[\u1780-\u17FF]")
# `{name}` / `{name:spec}` of str.format, and %s / %(name)s of %-formatting.
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([A-Za-z_]\w*\)[sd]|%[sd]")


def catalog(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def messages(cat: Catalog) -> dict:
    return {m.id: m for m in cat if m.id}


def source_text(msgid: str | tuple[str, ...]) -> str:
    """The English text a translation must mirror: the plural form for a plural message (Khmer
    has one form, `nplurals=1; plural=0;`, so msgstr[0] serves every n)."""
    return msgid[-1] if isinstance(msgid, tuple) else msgid


def forms(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]


def marks(text: str) -> Counter:
    """Placeholders, and the markdown a page relies on (code spans, bold), as a multiset."""
    found = Counter(PLACEHOLDER.findall(text))
    found["`"] = text.count("`")
    found["**"] = text.count("**")
    return found


@pytest.fixture(scope="module")
def pot() -> dict:
    return messages(catalog(POT))


@pytest.fixture(scope="module")
def po() -> dict:
    assert PO.exists(), f"no Khmer catalog at {PO.relative_to(REPO)}"
    return messages(catalog(PO))


def test_catalog_has_one_plural_form() -> None:
    cat = catalog(PO)
    assert cat.locale_identifier == "km"
    assert cat.plural_forms == "nplurals=1; plural=0;"


def test_po_in_sync_with_pot(pot, po) -> None:
    assert sorted(map(str, set(pot) - set(po))) == [], "in messages.pot, missing from km .po (run pybabel update)"
    assert sorted(map(str, set(po) - set(pot))) == [], "in km .po, no longer in messages.pot (run pybabel update)"


def test_every_message_translated(pot, po) -> None:
    untranslated = [str(i) for i in pot if i in po and not all(s.strip() for s in forms(po[i]))]
    fuzzy = [str(i) for i in pot if i in po and po[i].fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert len(po) == len(pot)


def test_placeholders_and_markdown_kept(po) -> None:
    broken = [
        (str(i), text) for i, m in po.items() for text in forms(m) if text and marks(text) != marks(source_text(i))
    ]
    assert broken == []


def test_translations_are_khmer_script(po) -> None:
    """Every message with a letter in it reads in Khmer script (names such as 'Wellbeing Pulse',
    'CSV' or '#MentalWell-Being' may stay Latin beside it)."""
    latin_only = [
        str(i)
        for i, m in po.items()
        if re.search(r"[A-Za-z]", re.sub(PLACEHOLDER, "", source_text(i)))
        and not all(KHMER.search(s) for s in forms(m))
    ]
    assert latin_only == []


def test_provinces_have_khmer_names(po) -> None:
    from core import reference as ref

    names = {name: po[name].string for _, name, _ in ref.PROVINCES}
    assert names["Phnom Penh"] == "ភ្នំពេញ"
    assert names["Siem Reap"] == "សៀមរាប"
    assert names["Battambang"] == "បាត់ដំបង"
    assert all(KHMER.fullmatch(n[0]) for n in names.values())
    assert len(set(names.values())) == 25


def test_compiled_catalog_matches_po(po) -> None:
    """`.ci/setup` compiles the .po; the .mo read by the app says what the .po says."""
    assert MO.exists(), f"{MO.relative_to(REPO)} missing: run .ci/setup (it compiles the catalog)"
    token = labels.use("km")
    try:
        for i, m in po.items():
            if isinstance(i, tuple):
                assert labels.ngettext(i[0], i[1], 1) == m.string[0]
                assert labels.ngettext(i[0], i[1], 5) == m.string[0]
            else:
                assert labels.gettext(i) == m.string
    finally:
        labels.reset(token)


def test_use_km_reads_khmer() -> None:
    token = labels.use("km")
    try:
        assert labels.language() == "km"
        assert labels._("Overview") == "ទិដ្ឋភាពទូទៅ"
        assert labels._("Sign in") == "ចូលគណនី"
        assert labels.label("province", "KH-12") == "ភ្នំពេញ"
        assert labels.label("weekday", 1) == "ថ្ងៃច័ន្ទ"
        assert labels.label("province", None) == "មិនស្គាល់"
        assert labels.ngettext("{n} day ago", "{n} days ago", 3).format(n=3) == "3 ថ្ងៃមុន"
        assert labels._("Day ({zone})").format(zone="x") == "ថ្ងៃ (x)"
    finally:
        labels.reset(token)
    # Back in English, nothing Khmer is left over.
    assert labels._("Overview") == "Overview"
    assert labels.label("province", "KH-12") == "Phnom Penh"


def test_missing_translation_falls_back_to_english(tmp_path: Path, po) -> None:
    """A catalog lacking a message (or holding it empty) shows the English source, never a blank."""
    cat = catalog(PO)
    del cat["Overview"]
    del cat["{n} min ago"]
    del cat["compared with the day before"]
    cat["Sign in"].string = ""
    cat["{n} day ago"].string = ("",)
    out = tmp_path / "km" / "LC_MESSAGES"
    out.mkdir(parents=True)
    with (out / "messages.mo").open("wb") as f:
        write_mo(f, cat)
    token = labels.use("km", tmp_path)
    try:
        assert labels._("Overview") == "Overview"
        assert labels._("Sign in") == "Sign in"
        # A plural message the catalog lacks reads the English form for n ...
        assert labels.ngettext("{n} min ago", "{n} min ago", 2).format(n=2) == "2 min ago"
        assert (
            labels.ngettext("compared with the day before", "compared with the {n} days before", 2).format(n=2)
            == "compared with the 2 days before"
        )
        # ... one held empty is compiled by Babel with the English singular in Khmer's only form.
        assert labels.ngettext("{n} day ago", "{n} days ago", 1).format(n=1) == "1 day ago"
        assert labels.ngettext("{n} day ago", "{n} days ago", 2).format(n=2) == "2 day ago"
        assert labels._("Sign out") == po["Sign out"].string  # the rest still reads Khmer
    finally:
        labels.reset(token)
