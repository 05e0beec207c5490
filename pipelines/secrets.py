"""The HMAC key that replaces user ids at load: from PULSE_HMAC_KEY, else the secrets file
under the data dir, generated on first run (mode 0600, never logged)."""

from __future__ import annotations

import os
import secrets

from queries.datadir import DataDir
from queries.errors import PulseError

KEY_ENV = "PULSE_HMAC_KEY"
KEY_FILE = "hmac.key"


def hmac_key(d: DataDir) -> bytes:
    """The key as bytes; created once per data dir if neither the env nor the file has one."""
    if env := os.environ.get(KEY_ENV):
        return env.encode("utf-8")
    path = d.secrets / KEY_FILE
    if not path.exists():
        d.secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise PulseError(f"{path}: the HMAC key is too short; restore it from backup or set {KEY_ENV}")
    return key.encode("ascii")
