"""SVG charts written at build time: no JavaScript, no network, no dependency.

Lines for rates and counts over the years, stacked bars for the rating distribution,
progress bars for congress-term targets with the target line. Every chart has a
<title> (read by screen readers, shown on hover) and a table beside it on the page.
"""

from __future__ import annotations

from html import escape

from grassroots.reports import fmt

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 32
INK, GRID, LINE, ESTIMATE = "#222", "#ddd", "#b3261e", "#e8a33d"
RATING_COLOURS = {
    "excellent": "#1b5e20",
    "good": "#66bb6a",
    "completed": "#fdd835",
    "not_completed": "#c62828",
}
RATING_LABELS = {
    "excellent": "Hoàn thành xuất sắc",
    "good": "Hoàn thành tốt",
    "completed": "Hoàn thành",
    "not_completed": "Không hoàn thành",
}


def _svg(title: str, body: list[str], width: int = WIDTH, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img" class="chart">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _scale(low: float, high: float, start: float, end: float):
    span = (high - low) or 1.0
    return lambda v: start + (v - low) * (end - start) / span


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    step = (high - low) / count if high > low else 1.0
    return [low + i * step for i in range(count + 1)]


def _text(x: float, y: float, text: str, anchor: str = "middle", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"'
        f' fill="{INK}">{escape(text)}</text>'
    )


def _axes(years: list[int], low: float, high: float, decimals: int | None) -> tuple:
    """Grid lines with value labels and the year labels; returns (parts, x, y)."""
    x = _scale(min(years), max(years), LEFT + 12, WIDTH - RIGHT - 12)
    y = _scale(low, high, HEIGHT - BOTTOM, TOP)
    parts = []
    for tick in _ticks(low, high):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"'
            f' stroke="{GRID}"/>'
        )
        parts.append(_text(LEFT - 6, y(tick) + 4, fmt.number(tick, decimals), "end"))
    every = max(1, len(years) // 10)
    for year in years[::every]:
        parts.append(_text(x(year), HEIGHT - BOTTOM + 16, str(year)))
    return parts, x, y


def _empty(title: str) -> str:
    """A frame saying there is no figure: the chart's place stays visible when printed."""
    frame = (
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}"'
        f' height="{HEIGHT - TOP - BOTTOM}" fill="none" stroke="{GRID}" stroke-dasharray="4 4"/>'
    )
    return _svg(title, [frame, _text(WIDTH / 2, HEIGHT / 2, "Chưa có số liệu")])


def line_chart(title: str, points: list[dict], kind: str) -> str:
    """points: year, value, is_estimate; a missing value breaks the line."""
    known = [p for p in points if p["value"] is not None]
    if not known:
        return _empty(title)
    values = [p["value"] for p in known]
    low, high = min(0.0, min(values)), max(values)
    if high == low:
        high = low + 1
    decimals = 1 if kind == "percent" or high - low < 5 else 0
    parts, x, y = _axes([p["year"] for p in points], low, high, decimals)
    segment: list[str] = []
    for point in [*points, {"value": None}]:
        if point["value"] is None:
            if segment:
                parts.append(
                    f'<polyline fill="none" stroke="{LINE}" stroke-width="2"'
                    f' points="{" ".join(segment)}"/>'
                )
            segment = []
            continue
        segment.append(f"{x(point['year']):.1f},{y(point['value']):.1f}")
    for point in known:
        colour = ESTIMATE if point.get("is_estimate") else LINE
        label = f"{point['year']}: {fmt.value(point['value'], kind)}"
        parts.append(
            f'<circle cx="{x(point["year"]):.1f}" cy="{y(point["value"]):.1f}" r="3"'
            f' fill="{colour}"><title>{escape(label)}</title></circle>'
        )
    return _svg(title, parts)


def stacked_bars(title: str, rows: list[dict]) -> str:
    """rows: year and a count per rating (RATING_COLOURS); bars show shares of 100 %."""
    if not rows:
        return _empty(title)
    years = [r["year"] for r in rows]
    parts, x, y = _axes(years, 0.0, 100.0, 0)
    bar = max(6.0, min(40.0, (WIDTH - LEFT - RIGHT) / len(rows) * 0.6))
    for row in rows:
        bottom = 0.0
        for rating, colour in RATING_COLOURS.items():
            share = 100.0 * (row[rating] or 0) / row["total"] if row["total"] else 0.0
            top = bottom + share
            label = f"{row['year']} – {RATING_LABELS[rating]}: {fmt.number(share, 1)} %"
            parts.append(
                f'<rect x="{x(row["year"]) - bar / 2:.1f}" y="{y(top):.1f}" width="{bar:.1f}"'
                f' height="{max(0.0, y(bottom) - y(top)):.1f}" fill="{colour}">'
                f"<title>{escape(label)}</title></rect>"
            )
            bottom = top
    return _svg(title, parts + _legend(), WIDTH, HEIGHT + 20)


def _legend() -> list[str]:
    """The ratings' colours under the bars, so a printed chart reads without its table."""
    parts, x = [], float(LEFT)
    for rating, colour in RATING_COLOURS.items():
        parts.append(f'<rect x="{x:.1f}" y="{HEIGHT + 4}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(x + 14, HEIGHT + 13, RATING_LABELS[rating], "start"))
        x += 30 + 7 * len(RATING_LABELS[rating])
    return parts


def progress_bar(title: str, progress_pct: float | None, width: int = 320) -> str:
    """Progress towards a term target: the bar to progress_pct, the target line at 100 %
    (the scale runs to 125 % so an exceeded target shows past its line)."""
    height, full = 28, 125.0
    x = _scale(0.0, full, 4, width - 4)
    done = max(0.0, min(full, progress_pct or 0.0))
    colour = "#2e7d32" if (progress_pct or 0) >= 100 else "#1565c0"
    parts = [
        f'<rect x="4" y="6" width="{width - 8}" height="16" fill="#eee"/>',
        f'<rect x="4" y="6" width="{x(done) - 4:.1f}" height="16" fill="{colour}"/>',
        f'<line x1="{x(100):.1f}" x2="{x(100):.1f}" y1="2" y2="26" stroke="{INK}"'
        ' stroke-width="2" class="target"/>',
    ]
    return _svg(title, parts, width, height)
