"""The duplicate check of a load joins on the keyed hash of each event id (event_key_hi,
event_key_lo: pipelines/sql/schema.sql), not on the ids' text: every stored event has it, it is
the MD5 of a secret derived from the warehouse's HMAC key followed by the id (so two warehouses
with other keys give the same id other keys, and nobody can craft two ids that meet), and a lake
made before the keys gets them on its next load, deduplicating as before."""

from __future__ import annotations

from pathlib import Path

from core.datadir import DataDir
from pipelines.secrets import event_id_salt, hmac_key
from tests.test_refresh import SETTINGS, count, refresh, view, write_file
from tests.warehouse_edit import planted

STREAM_ROWS = {
    "engagement": [view(i) for i in range(5)],
    "referral": [
        {
            "event_id": f"r{i}",
            "event_time": "2026-10-10T12:00:00Z",
            "user_id": f"user-{i}",
            "partner_id": "tpo-cambodia",
            "stage": "clicked",
            "entry_point": "search_intervention",
            "channel": "phone",
            "province": "KH-12",
            "age_band": "18-24",
            "language": "km",
        }
        for i in range(3)
    ],
}

KEYS = (
    "select event_id, event_key_hi, event_key_lo, "
    "(md5_number($salt || event_id) >> 64)::ubigint, (md5_number($salt || event_id) & 18446744073709551615)::ubigint "
    "from {}_events order by event_id"
)


def stored_keys(d: DataDir, stream: str) -> list[tuple]:
    return count(d, KEYS.format(stream), {"salt": event_id_salt(hmac_key(d, SETTINGS))})


def test_every_event_is_stored_with_the_keyed_hash_of_its_id(tmp_path: Path) -> None:
    a, b = DataDir(tmp_path / "a").ensure(), DataDir(tmp_path / "b").ensure()
    for d in (a, b):  # two warehouses, each with its own generated HMAC key
        for stream, rows in STREAM_ROWS.items():
            write_file(d, f"{stream}/one.jsonl", rows)
        refresh(d)
    for stream, rows in STREAM_ROWS.items():
        keys = stored_keys(a, stream)
        assert [k[0] for k in keys] == sorted(r["event_id"] for r in rows)
        assert all(k[1] is not None and k[1:3] == k[3:5] for k in keys), keys
        assert len({k[1:3] for k in keys}) == len(rows)
        other = {k[0]: k[1:3] for k in stored_keys(b, stream)}
        assert not {k[0]: k[1:3] for k in keys}.items() & other.items()  # keyed: another key, other hashes


def test_a_lake_made_before_the_keys_gets_them_and_deduplicates_as_before(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "data").ensure()
    write_file(d, "engagement/first.jsonl", [view(i) for i in range(4)])
    refresh(d)
    with planted(d) as con:  # as the version before the keys left the lake
        for stream in ("engagement", "referral", "safety"):
            con.execute(f"alter table {stream}_events drop column event_key_hi")
            con.execute(f"alter table {stream}_events drop column event_key_lo")
        con.execute("delete from warehouse_meta where name = 'event_keys'")
    # e2 and e3 re-sent, e9 new
    write_file(d, "engagement/second.jsonl", [view(2), view(3), view(9)])
    c = refresh(d).streams["engagement"]
    assert (c.read, c.loaded, c.duplicates) == (3, 1, 2)
    keys = stored_keys(d, "engagement")
    assert [k[0] for k in keys] == ["e0", "e1", "e2", "e3", "e9"]
    assert all(k[1] is not None and k[1:3] == k[3:5] for k in keys), keys
    # and the next load finds the keys it just wrote
    write_file(d, "engagement/third.jsonl", [view(0), view(9), view(10)])
    c = refresh(d).streams["engagement"]
    assert (c.read, c.loaded, c.duplicates) == (3, 1, 2)
