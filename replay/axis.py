"""The history's time axis to scale: one inline SVG (no script, nothing fetched) with a row per
lane (IMG, resident & coordination, NCG), every event a dot at its valid time and every
finding a mark at the moment it arose, so long silences show as long empty stretches."""

from __future__ import annotations

from html import escape
from typing import Any

from domain.timeutil import parse_utc
from replay.present import LANE_TITLES

LANES = ("IMG", "shared", "NCG")
LEFT, RIGHT, ROW, TOP = 190.0, 985.0, 34.0, 28.0
COLOURS = {"IMG": "#1f5fa8", "shared": "#4d6b3c", "NCG": "#a8581f"}
LONG_SILENCE_DAYS = 180


def _x(t: float, t0: float, t1: float) -> float:
    return LEFT + (RIGHT - LEFT) * ((t - t0) / (t1 - t0) if t1 > t0 else 0.5)


def silences(times: list[float], days: int = LONG_SILENCE_DAYS) -> list[tuple[float, float]]:
    """Stretches of more than `days` between consecutive events (epoch seconds)."""
    ordered = sorted(times)
    return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if b - a > days * 86400]


def axis_svg(report: dict[str, Any]) -> str:
    """The SVG of the report's timeline and findings ('' when there are no events)."""
    events = report["timeline"]
    if not events:
        return ""
    times = [parse_utc(e["time"]).timestamp() for e in events]
    arose = [parse_utc(f["arose_at"]).timestamp() for f in report["findings"]]
    t0, t1 = min(times + arose), max(times + arose)
    height = TOP + ROW * len(LANES) + 30
    parts = [
        f'<svg class="axis" viewBox="0 0 1000 {height:.0f}" role="img" aria-labelledby="axis-title" '
        'preserveAspectRatio="xMinYMin meet">',
        f'<title id="axis-title">Time axis to scale: {len(events)} events and {len(arose)} findings from '
        f"{escape(events[0]['time'][:10])} to {escape(max(e['time'] for e in events)[:10])}</title>",
    ]
    for a, b in silences(times):
        x0, x1 = _x(a, t0, t1), _x(b, t0, t1)
        days = round((b - a) / 86400)
        parts.append(
            f'<rect class="silence" x="{x0:.1f}" y="{TOP - 6:.0f}" width="{x1 - x0:.1f}" '
            f'height="{ROW * len(LANES):.0f}" fill="#f1f3f4"><title>{days} days without an event</title></rect>'
        )
    first, last = parse_utc(events[0]["time"]).year, parse_utc(max(e["time"] for e in events)).year
    for year in range(first, last + 2):
        t = parse_utc(f"{year}-01-01T00:00:00.000000Z").timestamp()
        if t0 <= t <= t1:
            x = _x(t, t0, t1)
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP - 8:.0f}" y2="{TOP + ROW * len(LANES):.0f}" '
                f'stroke="#c4c7cc"/><text x="{x:.1f}" y="{height - 8:.0f}" font-size="12" text-anchor="middle" '
                f'fill="#3c4043">{year}</text>'
            )
    for row, lane in enumerate(LANES):
        y = TOP + ROW * row + ROW / 2
        parts.append(
            f'<text x="4" y="{y + 4:.0f}" font-size="13" fill="{COLOURS[lane]}">{escape(LANE_TITLES[lane])}</text>'
            f'<line x1="{LEFT:.0f}" x2="{RIGHT:.0f}" y1="{y:.0f}" y2="{y:.0f}" stroke="#dadce0"/>'
        )
    for entry, t in zip(events, times, strict=True):
        y = TOP + ROW * LANES.index(entry["lane"]) + ROW / 2
        parts.append(
            f'<circle cx="{_x(t, t0, t1):.1f}" cy="{y:.0f}" r="6" '
            f'fill="{COLOURS[entry["lane"]]}" stroke="#fff"><title>{entry["seq"]}. {escape(entry["dutch"])} '
            f"({escape(entry['english'])}), {escape(entry['time'][:10])}</title></circle>"
        )
    for number, (finding, t) in enumerate(zip(report["findings"], arose, strict=True), start=1):
        x = _x(t, t0, t1)
        parts.append(
            f'<path d="M{x - 6:.1f} {TOP - 16:.0f} h12 l-6 10 z" fill="#b3261e">'
            f"<title>Finding {number}: {escape(finding['title'])}, {escape(finding['arose_at'][:10])}</title></path>"
        )
    parts.append("</svg>")
    return "".join(parts)
