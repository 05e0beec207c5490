"""Number formats: thousands separators, percentages with one decimal, in the session's
language (Babel's CLDR data for any language but English, whose output is the source's) and,
with `?digits=khmer`, in Khmer digits (០១២៣…). "<10" and "hidden" are written the same way."""

from __future__ import annotations

from core import labels


def number(n: int | float, decimals: int = 0) -> str:
    """1,234 (or 12.5 with `decimals=1`) the current language's way, in the chosen digits."""
    lang = labels.language()
    if lang == labels.SOURCE_LANGUAGE:
        text = f"{n:,.{decimals}f}"
    else:
        from babel.numbers import format_decimal

        text = format_decimal(n, format="#,##0" + ("." + "0" * decimals if decimals else ""), locale=lang)
    return labels.digits(text)


def count(n: int | None) -> str:
    return "–" if n is None else number(n)


def percent(value: float, signed: bool = False) -> str:
    """'12.5%' ('+12.5%' when `signed`): `value` is already in percent."""
    sign = "+" if signed and value >= 0 else "-" if value < 0 else ""
    return sign + number(abs(value), 1) + "%"


def pct(part: float | None, whole: float | None) -> str:
    if not whole or part is None:
        return "–"
    return percent(100 * part / whole)


def change(now: int | float | None, before: int | float | None) -> str | None:
    """'+12.5%' against the previous period, or None when there is nothing to compare."""
    if not before or now is None:
        return None
    return percent(100 * (now - before) / before, signed=True)


def count_text(text: str) -> str:
    """A protected count as text ('1234', '<10', 'hidden') with thousands separators."""
    return number(int(text)) if text.isdigit() else labels.digits(text)
