"""Pictures as inline SVG: a family's timeline with measurement windows shaded, attendance against the
threshold, and claims by window against the council's target. No scripts, no external assets."""

from __future__ import annotations

import datetime as dt
from html import escape

COLOURS = {
    "offence": "#b3261e",
    "asb_incident": "#e8710a",
    "dv_incident": "#7b1fa2",
    "exclusion_fixed": "#1565c0",
    "exclusion_permanent": "#0d47a1",
}
EPISODE_COLOURS = {"employment": "#2e7d32", "cin": "#c62828", "cp": "#ad1457", "lac": "#6a1b9a"}


def timeline(
    start: dt.date,
    end: dt.date,
    attached: dt.date,
    people: list[str],
    events: list[dict],
    episodes: list[dict],
    windows: list[tuple[str, dt.date, dt.date]],
    closed: dt.date | None = None,
    milestones: list[dict] | None = None,
) -> str:
    width, left, row_height, top = 900, 110, 26, 30
    height = top + row_height * max(1, len(people)) + 40
    span = max(1, (end - start).days)

    def x(day: dt.date) -> float:
        return left + (width - left - 10) * (min(max(day, start), end) - start).days / span

    parts = [f'<svg class="timeline" viewBox="0 0 {width} {height}" role="img" aria-label="Timeline of records">']
    for label, low, high in windows:
        parts.append(
            f'<rect x="{x(low):.1f}" y="{top - 12}" width="{max(1, x(high) - x(low)):.1f}" '
            f'height="{height - top - 16}" fill="#1e88e5" opacity="0.12"><title>{escape(label)}</title></rect>'
        )
    parts.append(
        f'<line x1="{x(attached):.1f}" y1="{top - 14}" x2="{x(attached):.1f}" y2="{height - 20}" '
        f'stroke="#333" stroke-dasharray="4 3"/><text x="{x(attached) + 3:.1f}" y="{top - 16}" '
        f'font-size="11">attached {attached}</text>'
    )
    if closed is not None:  # labelled to the left of its line, so it does not run into the attachment's label
        parts.append(
            f'<line class="closure" x1="{x(closed):.1f}" y1="{top - 14}" x2="{x(closed):.1f}" y2="{height - 20}" '
            f'stroke="#333" stroke-dasharray="1 3"/><text x="{x(closed) - 3:.1f}" y="{top - 16}" '
            f'font-size="11" text-anchor="end">closed {closed}</text>'
        )
    for milestone in milestones or []:  # the way of working, as diamonds along the top
        mx, label = x(milestone["milestone_date"]), milestone["milestone"].replace("_", " ")
        parts.append(
            f'<path class="milestone" d="M{mx:.1f} {top - 11} l5 5 l-5 5 l-5 -5 z" fill="#00796b">'
            f"<title>{escape(label)} {milestone['milestone_date']}</title></path>"
        )
    for i, person in enumerate(people):
        y = top + i * row_height + row_height / 2
        parts.append(f'<text x="4" y="{y + 4:.1f}" font-size="11">{escape(person)}</text>')
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>')
        for ep in (e for e in episodes if e["person_id"] == person):
            colour = EPISODE_COLOURS.get(ep["episode_type"], "#757575")
            stop = ep["end_date"] or end
            parts.append(
                f'<rect x="{x(ep["start_date"]):.1f}" y="{y - 6:.1f}" width="{max(2, x(stop) - x(ep["start_date"])):.1f}" '
                f'height="12" rx="3" fill="{colour}" opacity="0.55"><title>{escape(ep["episode_type"])} '
                f"{ep['start_date']} to {ep['end_date'] or 'open'}</title></rect>"
            )
        for ev in (e for e in events if e["person_id"] == person):
            colour = COLOURS.get(ev["event_type"], "#000")
            parts.append(
                f'<circle cx="{x(ev["event_date"]):.1f}" cy="{y:.1f}" r="5" fill="{colour}">'
                f"<title>{escape(ev['event_type'])} {ev['event_date']}</title></circle>"
            )
    for year in range(start.year, end.year + 1):
        day = dt.date(year, 1, 1)
        if start <= day <= end:
            parts.append(f'<text x="{x(day):.1f}" y="{height - 6}" font-size="10" text-anchor="middle">{year}</text>')
    parts.append("</svg>")
    return "".join(parts)


def attendance_bars(rows: list[dict], threshold: float = 10) -> str:
    """One bar per (child, term): absence percent, with the plan's threshold drawn across."""
    if not rows:
        return ""
    width, height, left, bottom = 900, 220, 40, 50
    top_value = max(30.0, max(r["percent"] for r in rows) * 1.1)
    bar = (width - left - 10) / len(rows)

    def y(value: float) -> float:
        return height - bottom - (height - bottom - 10) * value / top_value

    parts = [f'<svg class="attendance" viewBox="0 0 {width} {height}" role="img" aria-label="Absence by term">']
    for i, r in enumerate(rows):
        colour = "#c62828" if r["percent"] >= threshold else "#2e7d32"
        parts.append(
            f'<rect x="{left + i * bar + 2:.1f}" y="{y(r["percent"]):.1f}" width="{max(1, bar - 4):.1f}" '
            f'height="{y(0) - y(r["percent"]):.1f}" fill="{colour}"><title>{escape(r["person_id"])} '
            f"{escape(r['term_id'])}: {r['percent']:.1f}%</title></rect>"
        )
        parts.append(
            f'<text x="{left + i * bar + bar / 2:.1f}" y="{height - bottom + 14}" font-size="9" '
            f'text-anchor="middle">{escape(r["term_id"][-6:])}</text>'
        )
        parts.append(
            f'<text x="{left + i * bar + bar / 2:.1f}" y="{height - bottom + 26}" font-size="9" '
            f'text-anchor="middle">{escape(r["person_id"][-4:])}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{y(threshold):.1f}" x2="{width - 10}" y2="{y(threshold):.1f}" stroke="#000" '
        f'stroke-dasharray="6 3"/><text x="{width - 12}" y="{y(threshold) - 4:.1f}" font-size="10" '
        f'text-anchor="end">{threshold:g}% threshold</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def claims_against_target(windows: list[tuple[str, int]], target: int) -> str:
    width, height, left, bottom = 900, 240, 50, 40
    if not windows:
        return '<p class="muted">No submitted claims yet.</p>'
    cumulative, total = [], 0
    for _, n in windows:
        total += n
        cumulative.append(total)
    top_value = max(target, cumulative[-1], 1) * 1.1
    step = (width - left - 10) / len(windows)

    def y(value: float) -> float:
        return height - bottom - (height - bottom - 10) * value / top_value

    parts = [f'<svg class="claims-chart" viewBox="0 0 {width} {height}" role="img" aria-label="Claims by window">']
    for i, ((window, n), running) in enumerate(zip(windows, cumulative, strict=True)):
        parts.append(
            f'<rect x="{left + i * step + 6:.1f}" y="{y(running):.1f}" width="{step - 12:.1f}" '
            f'height="{y(0) - y(running):.1f}" fill="#90caf9"><title>{escape(window)}: {running} to date</title></rect>'
        )
        parts.append(
            f'<rect x="{left + i * step + 6:.1f}" y="{y(n):.1f}" width="{step - 12:.1f}" '
            f'height="{y(0) - y(n):.1f}" fill="#1565c0"><title>{escape(window)}: {n} claimed</title></rect>'
        )
        parts.append(
            f'<text x="{left + i * step + step / 2:.1f}" y="{height - bottom + 14}" font-size="10" '
            f'text-anchor="middle">{escape(window)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{y(target):.1f}" x2="{width - 10}" y2="{y(target):.1f}" stroke="#c62828" '
        f'stroke-width="2"/><text x="{width - 12}" y="{y(target) - 4:.1f}" font-size="11" text-anchor="end" '
        f'fill="#c62828">target {target} families a year</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
