"""Pictures as inline SVG: a family's timeline with measurement windows shaded, attendance against the
threshold, and claims by window against the council's target. No scripts, no external assets."""

from __future__ import annotations

import datetime as dt
from html import escape

from pbr.periods import day_in_words

COLOURS = {
    "offence": "#b3261e",
    "asb_incident": "#e8710a",
    "dv_incident": "#7b1fa2",
    "exclusion_fixed": "#1565c0",
    "exclusion_permanent": "#0d47a1",
}
EPISODE_COLOURS = {"employment": "#2e7d32", "cin": "#c62828", "cp": "#ad1457", "lac": "#6a1b9a"}


def _ticks(start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
    """Readable date ticks: each quarter's first day, labelled with its month (and its year in January)."""
    ticks, month = [], dt.date(start.year, 1 + 3 * ((start.month - 1) // 3), 1)
    while month <= end:
        if month >= start:
            ticks.append((month, f"{month:%b %Y}" if month.month == 1 or not ticks else f"{month:%b}"))
        month = dt.date(month.year + (month.month + 3 > 12), (month.month + 2) % 12 + 1, 1)
    return ticks


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
    """Each member's incidents (dots) and episodes (bars) over time, the attachment (solid line) and closure
    (dashed, red) marked and labelled on rows of their own, and the windows the measures look at shaded."""
    width, left, row_height, top = 900, 110, 26, 52
    height = top + row_height * max(1, len(people)) + 40
    span = max(1, (end - start).days)

    def x(day: dt.date) -> float:
        return left + (width - left - 10) * (min(max(day, start), end) - start).days / span

    summary = (
        f"Attached {day_in_words(attached)}{f', closed {day_in_words(closed)}' if closed else ', still open'}; "
        f"{len(events)} incident(s) and {len(episodes)} episode(s) of {len(people)} member(s); "
        + "; ".join(f"{label}: {day_in_words(low)} to {day_in_words(high)}" for label, low, high in windows)
    )
    parts = [
        f'<svg class="timeline" viewBox="0 0 {width} {height}" role="img" aria-labelledby="timeline-title '
        f'timeline-desc"><title id="timeline-title">Timeline of the family\'s records</title>'
        f'<desc id="timeline-desc">{escape(summary)}</desc>'
    ]
    for label, low, high in windows:
        parts.append(
            f'<rect x="{x(low):.1f}" y="{top - 8}" width="{max(1, x(high) - x(low)):.1f}" '
            f'height="{height - top - 12}" fill="#1e88e5" opacity="0.12"><title>{escape(label)}: '
            f"{day_in_words(low)} to {day_in_words(high)}</title></rect>"
        )
    parts.append(
        f'<line class="attachment" x1="{x(attached):.1f}" y1="{top - 30}" x2="{x(attached):.1f}" y2="{height - 20}" '
        f'stroke="#1b1b1b" stroke-width="1.5"/><text x="{x(attached) + 3:.1f}" y="{top - 32}" '
        f'font-size="11">attached {attached}</text>'
    )
    if closed is not None:  # on a row of its own, under the attachment's label: the two never overlap
        parts.append(
            f'<line class="closure" x1="{x(closed):.1f}" y1="{top - 16}" x2="{x(closed):.1f}" y2="{height - 20}" '
            f'stroke="#b3261e" stroke-width="1.5" stroke-dasharray="5 3"/><text x="{x(closed) + 3:.1f}" '
            f'y="{top - 18}" font-size="11" fill="#b3261e">closed {closed}</text>'
        )
    for milestone in milestones or []:  # the way of working, as diamonds along the top
        mx, label = x(milestone["milestone_date"]), milestone["milestone"].replace("_", " ")
        parts.append(
            f'<path class="milestone" d="M{mx:.1f} {top - 9} l5 5 l-5 5 l-5 -5 z" fill="#00796b">'
            f"<title>{escape(label)} {day_in_words(milestone['milestone_date'])}</title></path>"
        )
    for i, person in enumerate(people):
        y = top + i * row_height + row_height / 2
        parts.append(f'<text x="4" y="{y + 4:.1f}" font-size="11">{escape(person)}</text>')
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>')
        parts += _marks(person, y, x, end, events, episodes)
    parts += _date_axis(start, end, x, left, width, height - 18)
    parts.append("</svg>")
    return "".join(parts)


def _marks(person: str, y: float, x, end: dt.date, events: list[dict], episodes: list[dict]) -> list[str]:
    """A member's episodes as bars and incidents as dots, on their row."""
    parts = []
    for ep in (e for e in episodes if e["person_id"] == person):
        colour = EPISODE_COLOURS.get(ep["episode_type"], "#757575")
        stop = ep["end_date"] or end
        parts.append(
            f'<rect x="{x(ep["start_date"]):.1f}" y="{y - 6:.1f}" width="{max(2, x(stop) - x(ep["start_date"])):.1f}" '
            f'height="12" rx="3" fill="{colour}" opacity="0.55"><title>{escape(ep["episode_type"])} '
            f"{day_in_words(ep['start_date'])} to {day_in_words(ep['end_date']) if ep['end_date'] else 'open'}</title></rect>"
        )
    for ev in (e for e in events if e["person_id"] == person):
        colour = COLOURS.get(ev["event_type"], "#000")
        parts.append(
            f'<circle cx="{x(ev["event_date"]):.1f}" cy="{y:.1f}" r="5" fill="{colour}">'
            f"<title>{escape(ev['event_type'].replace('_', ' '))} {day_in_words(ev['event_date'])}</title></circle>"
        )
    return parts


def _date_axis(start: dt.date, end: dt.date, x, left: float, width: float, axis: float) -> list[str]:
    """The time axis: a tick at each quarter, at most 12 of them labelled, so labels never run together."""
    parts = [f'<line x1="{left}" y1="{axis}" x2="{width - 10}" y2="{axis}" stroke="#888"/>']
    ticks = _ticks(start, end)
    every = max(1, -(-len(ticks) // 12))
    for n, (day, label) in enumerate(ticks):
        parts.append(f'<line x1="{x(day):.1f}" y1="{axis}" x2="{x(day):.1f}" y2="{axis + 4}" stroke="#888"/>')
        if n % every == 0:
            parts.append(f'<text x="{x(day):.1f}" y="{axis + 14}" font-size="10" text-anchor="middle">{label}</text>')
    return parts


def attendance_bars(rows: list[dict], threshold: float = 10) -> str:
    """One bar per (child, term): absence as a percentage on an axis, the plan's threshold drawn across, each
    child's terms side by side with the term under its bar."""
    if not rows:
        return ""
    width, height, left, bottom = 900, 260, 56, 70
    top_value = max(30.0, max(r["percent"] for r in rows) * 1.1)
    bar = (width - left - 10) / len(rows)

    def y(value: float) -> float:
        return height - bottom - (height - bottom - 10) * value / top_value

    high = sum(1 for r in rows if r["percent"] >= threshold)
    summary = f"{len(rows)} term record(s); {high} at or over the {threshold:g}% threshold: " + "; ".join(
        f"{r['person_id']} {r['term_id']} {r['percent']:.1f}%" for r in rows
    )
    parts = [
        f'<svg class="attendance" viewBox="0 0 {width} {height}" role="img" aria-labelledby="attendance-title '
        f'attendance-desc"><title id="attendance-title">Absence by term</title>'
        f'<desc id="attendance-desc">{escape(summary)}</desc>'
    ]
    step = 10 if top_value <= 60 else 20
    for value in range(0, int(top_value) + 1, step):
        parts.append(
            f'<line x1="{left}" y1="{y(value):.1f}" x2="{width - 10}" y2="{y(value):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y(value) + 3:.1f}" font-size="10" text-anchor="end">{value}%</text>'
        )
    parts.append(
        f'<text x="12" y="{(height - bottom) / 2:.1f}" font-size="10" transform="rotate(-90 12 '
        f'{(height - bottom) / 2:.1f})" text-anchor="middle">absence, % of sessions</text>'
    )
    for i, r in enumerate(rows):
        colour = "#c62828" if r["percent"] >= threshold else "#2e7d32"
        cx = left + i * bar + bar / 2
        parts.append(
            f'<rect x="{left + i * bar + 2:.1f}" y="{y(r["percent"]):.1f}" width="{max(1, bar - 4):.1f}" '
            f'height="{y(0) - y(r["percent"]):.1f}" fill="{colour}"><title>{escape(r["person_id"])} '
            f"{escape(r['term_id'])}: {r['percent']:.1f}%</title></rect>"
        )
        parts.append(  # turned, so that neighbouring terms' labels never run together
            f'<text x="{cx:.1f}" y="{height - bottom + 10}" font-size="9" text-anchor="end" '
            f'transform="rotate(-45 {cx:.1f} {height - bottom + 10})">{escape(r["term_id"])} '
            f"{escape(r['person_id'][-4:])}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{y(threshold):.1f}" x2="{width - 10}" y2="{y(threshold):.1f}" stroke="#000" '
        f'stroke-dasharray="6 3"/><text x="{width - 12}" y="{y(threshold) - 4:.1f}" font-size="10" '
        f'text-anchor="end">{threshold:g}% threshold</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def claims_against_target(claimed: list[tuple[dt.date, int]], target: int) -> str:
    """Families claimed in each programme year (April to March, by the claims' evidence dates) against the
    council's yearly target, on an axis of families."""
    width, height, left, bottom = 900, 240, 60, 40
    if not claimed:
        return '<p class="muted">No submitted claims yet.</p>'
    years: dict[int, int] = {}
    for day, families in claimed:
        year = day.year - (day.month < 4)
        years[year] = years.get(year, 0) + families
    first, last = min(years), max(years)
    shown = [(year, years.get(year, 0)) for year in range(first, last + 1)]
    top_value = max(target, max(n for _, n in shown), 1) * 1.15
    step = (width - left - 10) / len(shown)

    def y(value: float) -> float:
        return height - bottom - (height - bottom - 10) * value / top_value

    summary = "; ".join(f"{year}-{(year + 1) % 100:02d}: {n} of {target}" for year, n in shown)
    parts = [
        f'<svg class="claims-chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="claims-title '
        f'claims-desc"><title id="claims-title">Families claimed by programme year against the target</title>'
        f'<desc id="claims-desc">{escape(summary)}</desc>'
    ]
    tick = max(1, round(top_value / 5, -1) or 1)
    for value in range(0, int(top_value) + 1, int(tick)):
        parts.append(
            f'<line x1="{left}" y1="{y(value):.1f}" x2="{width - 10}" y2="{y(value):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y(value) + 3:.1f}" font-size="10" text-anchor="end">{value}</text>'
        )
    parts.append(
        f'<text x="12" y="{(height - bottom) / 2:.1f}" font-size="10" transform="rotate(-90 12 '
        f'{(height - bottom) / 2:.1f})" text-anchor="middle">families claimed</text>'
    )
    for i, (year, n) in enumerate(shown):
        label = f"{year}-{(year + 1) % 100:02d}"
        parts.append(
            f'<rect x="{left + i * step + 8:.1f}" y="{y(n):.1f}" width="{step - 16:.1f}" '
            f'height="{y(0) - y(n):.1f}" fill="#1565c0"><title>{label}: {n} families claimed</title></rect>'
            f'<text x="{left + i * step + step / 2:.1f}" y="{y(n) - 4:.1f}" font-size="10" '
            f'text-anchor="middle">{n}</text>'
            f'<text x="{left + i * step + step / 2:.1f}" y="{height - bottom + 14}" font-size="10" '
            f'text-anchor="middle">{label}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{y(target):.1f}" x2="{width - 10}" y2="{y(target):.1f}" stroke="#c62828" '
        f'stroke-width="2"/><text x="{width - 12}" y="{y(target) - 4:.1f}" font-size="11" text-anchor="end" '
        f'fill="#c62828">target: {target} families a year</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
