"""Shared by the page benchmark and the browser tests (which import it from here): Debian's
Chromium as Playwright launches it here, and `pulse dashboard` started on a free port until it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
PULSE = Path(sys.executable).parent / "pulse"


class DashboardDidNotStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_dashboard(data_dir: Path, log: Path, timeout_s: float = 60) -> Iterator[str]:
    """`pulse dashboard` on a free loopback port; yields its base URL, stops it afterwards.
    Raises DashboardDidNotStart with the server's own output if it never answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(PULSE), "--data-dir", str(data_dir), "dashboard", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise DashboardDidNotStart(f"the dashboard did not start:\n{log.read_text()}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def sign_in_form(page, name: str, password: str) -> None:
    """Fill in the dashboard's sign-in form on an open Playwright page and submit it; returns
    once the form is gone (the signed-in page may still be drawing)."""
    # by their autocomplete kinds, not their words: the form may be in Khmer
    page.locator('input[autocomplete="username"]').fill(name)
    page.locator('input[autocomplete="current-password"]').fill(password)
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    page.wait_for_selector('[data-testid="stTextInput"]', state="detached", timeout=60_000)
