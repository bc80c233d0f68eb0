"""Vietnamese number and date formats: 1.234,5 and 31/01/2026 (one place for all of them)."""

from __future__ import annotations

from datetime import date, datetime

DASH = "–"


def number(value: float | None, decimals: int | None = None) -> str:
    """1234.5 -> '1.234,5'; whole numbers without decimals unless asked; None -> '–'."""
    if value is None:
        return DASH
    figure = float(value)
    if decimals is None:
        decimals = 0 if figure.is_integer() else 1
    figure = round(figure, decimals) or 0.0  # never print -0
    # Python writes 1,234.5: swap the separators for Vietnamese usage.
    text = f"{figure:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def value(value: float | None, kind: str) -> str:
    """An indicator value: percents with one decimal, counts whole (estimates one decimal)."""
    return number(value, 1 if kind == "percent" and value is not None else None)


def change(value: float | None, kind: str) -> str:
    """A change with its sign: '+1.234', '-0,5 điểm %' for percents (percentage points)."""
    if value is None:
        return DASH
    text = number(value, 1 if kind == "percent" else None)
    if float(value) > 0:
        text = "+" + text
    return text + (" điểm %" if kind == "percent" else "")


def coverage(reported: int | None, expected: int | None) -> str:
    if expected is None:
        return DASH
    return f"{number(reported or 0)}/{number(expected)} đơn vị đã báo cáo"


def day(value: date | datetime | str | None) -> str:
    if value is None:
        return DASH
    if isinstance(value, str):  # ISO dates, as the pages' JSON keeps them
        value = date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def moment(value: datetime | None) -> str:
    if value is None:
        return DASH
    return value.strftime("%H:%M %d/%m/%Y")
