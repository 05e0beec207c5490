"""Run one contender in a fresh process and measure it: wall time and that process's own
peak RSS (VmHWM, which starts afresh at exec; the parent's ru_maxrss would mix them up)."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Measured:
    seconds: float
    peak_rss_gb: float
    value: Any


def peak_rss_gb() -> float:
    """This process's high-water mark of resident memory, in GB."""
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
    return kb / 1024**2


def _child(fn: Callable[..., Any], args: tuple, out: mp.Queue) -> None:
    try:
        started = time.perf_counter()
        value = fn(*args)
        out.put(("ok", time.perf_counter() - started, peak_rss_gb(), value))
    except BaseException as e:  # report it to the parent rather than hang it
        out.put(("error", 0.0, 0.0, f"{type(e).__name__}: {e}"))


def measured(fn: Callable[..., Any], *args: Any) -> Measured:
    """fn(*args) in a fresh (spawned) process: its seconds (from the call: what fn imports itself
    counts, the imports of its module do not), peak RSS, value."""
    os.sync()  # the files the previous step wrote reach the disk now, not while this one is timed
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, args, q))
    p.start()
    status, seconds, rss, value = q.get()
    p.join()
    if status != "ok":
        raise RuntimeError(f"benchmark step {fn.__name__} failed: {value}")
    return Measured(seconds, rss, value)
