"""The HMAC key that replaces user ids at load: from PULSE_HMAC_KEY, else the secrets file
under the data dir (mode 0600, never logged).

The key must stay the same for the life of a warehouse: with another key the same person
gets another user_key and every distinct count grows. So each snapshot records the key's
fingerprint (HMAC-SHA-256 of a fixed label with the key, first 64 bits; not the key, and no
user's key), a refresh with a key of another fingerprint stops, and a new key is generated
only for an empty warehouse (nothing published yet).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from core.datadir import DataDir
from core.errors import PulseError
from core.settings import Settings
from queries.warehouse import published_key_fingerprint

KEY_ENV = "PULSE_HMAC_KEY"
KEY_FILE = "hmac.key"
MIN_KEY_BYTES = 32
FINGERPRINT_LABEL = b"wellbeing-pulse: HMAC key fingerprint v1"
EVENT_ID_LABEL = b"wellbeing-pulse: event id hash v1"


class HmacKeyError(PulseError):
    """The HMAC key is missing, too short, or not the one the warehouse was built with."""


def fingerprint(key: bytes) -> str:
    """What a snapshot records about its key: 16 hex digits that do not reveal it."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


def event_id_salt(key: bytes) -> str:
    """The secret the lake's event-id hash starts with (pipelines/sql/stage_events.sql): 32 hex
    digits derived from the key, so nobody without the key can craft two ids that meet."""
    return hmac.new(key, EVENT_ID_LABEL, hashlib.sha256).hexdigest()[:32]


def hmac_key(d: DataDir, settings: Settings | None = None) -> bytes:
    """The key as bytes, checked against the published snapshot's fingerprint; generated
    (in the secrets file) only when neither the env nor the file has one and nothing is published."""
    key = _key(d, create=True, settings=settings)
    assert key is not None
    return key


def check_key(d: DataDir) -> None:
    """Fail fast, before a refresh pays for Prefect's start-up: the same checks as
    `hmac_key`, without generating a key."""
    _key(d, create=False)


def local_key(d: DataDir) -> bytes:
    """The key a stage worker hashes with (pipelines/stage_file.py): from PULSE_HMAC_KEY or the
    data dir's secrets file, not checked against the lake (a worker never reads it): the
    committer checks the fingerprint each worker reports."""
    found = _found(d)
    if found is None:
        raise HmacKeyError(f"{d.secrets / KEY_FILE} is missing: a stage worker needs the lake's key; set {KEY_ENV}")
    return found[0]


def _found(d: DataDir) -> tuple[bytes, str] | None:
    """The key and where it came from (PULSE_HMAC_KEY, else the secrets file), None when neither has one."""
    if env := os.environ.get(KEY_ENV):
        key = env.encode("utf-8")
        if len(key) < MIN_KEY_BYTES:
            raise HmacKeyError(
                f"{KEY_ENV} is {len(key)} bytes long; it must be at least {MIN_KEY_BYTES} (for example the output "
                "of 'openssl rand -hex 32'), and the same key for the life of the warehouse"
            )
        return key, KEY_ENV
    path = d.secrets / KEY_FILE
    if not path.exists():
        return None
    text = path.read_text(encoding="ascii").strip()
    if len(text) < MIN_KEY_BYTES:
        raise HmacKeyError(f"{path}: the HMAC key is too short; restore it from backup or set {KEY_ENV}")
    return text.encode("ascii"), str(path)


def _key(d: DataDir, *, create: bool, settings: Settings | None = None) -> bytes | None:
    path = d.secrets / KEY_FILE
    published, recorded = published_key_fingerprint(d, settings)
    found = _found(d)
    if found is None:
        if published:
            raise HmacKeyError(
                f"{path} is missing, and this warehouse was built with a key "
                f"(fingerprint {recorded or 'not recorded'}); restore it from your backup or set {KEY_ENV} "
                "to the original key; a new key would count every person again, so none was made"
            )
        if not create:
            return None
        _generate(d)
        found = _found(d)
        assert found is not None
    key, source = found
    if recorded is not None and recorded != fingerprint(key):
        raise HmacKeyError(
            f"the HMAC key from {source} does not match the one this warehouse was built with "
            f"(fingerprint {recorded}, this key's {fingerprint(key)}); restore {path} from your backup "
            f"or set {KEY_ENV} to the original key; nothing was loaded"
        )
    return key


def _generate(d: DataDir) -> None:
    path = d.secrets / KEY_FILE
    d.secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
