"""Number formats: thousands separators, percentages with one decimal."""

from __future__ import annotations


def count(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def pct(part: float | None, whole: float | None) -> str:
    if not whole or part is None:
        return "–"
    return f"{100 * part / whole:.1f}%"


def change(now: int | float | None, before: int | float | None) -> str | None:
    """'+12.5%' against the previous period, or None when there is nothing to compare."""
    if not before or now is None:
        return None
    return f"{100 * (now - before) / before:+.1f}%"


def count_text(text: str) -> str:
    """A protected count as text ('1234', '<10', 'hidden') with thousands separators."""
    return f"{int(text):,}" if text.isdigit() else text
