"""The pictures say in words what they show, mark the days they are about, and keep their labels apart."""

from __future__ import annotations

import datetime as dt
import re

from pbr.web import charts


def test_claims_are_counted_by_programme_year_against_the_yearly_target():
    svg = charts.claims_against_target(
        [(dt.date(2017, 10, 31), 6), (dt.date(2018, 1, 31), 4), (dt.date(2018, 4, 30), 3)], 500
    )
    # April 2017 to March 2018 holds the first two claims; an empty year between would still show
    assert '<desc id="claims-desc">2017-18: 10 of 500; 2018-19: 3 of 500</desc>' in svg
    assert "families claimed" in svg and "target: 500 families a year" in svg
    assert charts.claims_against_target([], 500) == '<p class="muted">No submitted claims yet.</p>'


def test_the_timeline_marks_attachment_and_closure_apart_with_readable_ticks():
    svg = charts.timeline(
        dt.date(2015, 9, 1),
        dt.date(2017, 10, 31),
        dt.date(2016, 9, 1),
        ["P1"],
        [{"person_id": "P1", "event_type": "offence", "event_date": dt.date(2017, 3, 2)}],
        [],
        [("measured window (6 months)", dt.date(2017, 5, 1), dt.date(2017, 10, 31))],
        closed=dt.date(2016, 10, 1),
    )
    attached = re.search(r'<text x="[\d.]+" y="(\d+)"[^>]*>attached 2016-09-01</text>', svg)
    closed = re.search(r'<text x="[\d.]+" y="(\d+)"[^>]*>closed 2016-10-01</text>', svg)
    assert attached and closed and attached[1] != closed[1]  # on rows of their own: never on top of each other
    assert 'class="closure"' in svg and 'stroke="#b3261e"' in svg
    labels = re.findall(r'text-anchor="middle">([A-Z][a-z]{2}(?: \d{4})?)</text>', svg)
    assert labels[0] == "Oct 2015" and "Jan 2016" in labels and len(labels) <= 12
    assert "measured window (6 months): 1 May 2017 to 31 Oct 2017" in svg
    assert "<desc" in svg and "1 incident(s)" in svg


def test_attendance_has_a_percentage_axis_and_the_threshold():
    svg = charts.attendance_bars(
        [
            {"person_id": "F1-C1", "term_id": "2017-AUT", "percent": 12.5},
            {"person_id": "F1-C1", "term_id": "2018-SPR", "percent": 4.0},
        ]
    )
    assert ">0%</text>" in svg and ">10%</text>" in svg and "absence, % of sessions" in svg
    assert "10% threshold" in svg and "1 at or over the 10% threshold" in svg
    assert svg.count('transform="rotate(-45') == 2  # term labels turned, so neighbours never run together
