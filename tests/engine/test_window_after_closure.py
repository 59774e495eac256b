"""`window_after: closure`: progress sustained after the case closed (the Supporting Families framework)."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest

from engine.helpers import evaluate_rows, family, measure_met, member, plan_file
from pbr.plan import PlanError

A = "2016-09-15"
D = "2017-10-31"  # six months back: 2017-04-30
OFFENCE_BEFORE = {"person_id": "F1-P1", "event_type": "offence", "event_date": "2016-08-01"}


def _plan(tmp_path, **progress):
    rule = {"kind": "no_events", "event_types": ["offence"], "months": 6, **progress}
    return plan_file(
        tmp_path / "plan",
        {
            "crime_asb": {
                "eligibility": [{"kind": "event_count", "event_types": ["offence"], "min_count": 1}],
                "progress": [rule],
            }
        },
    )


def _evaluate(tmp_path, closed: str, plan, events=()):
    return evaluate_rows(
        tmp_path / "data",
        D,
        plan=plan,
        families=[family("F1", A, closure_date=closed)],
        members=[member("F1-P1", "F1", "1980-01-01")],
        events=[OFFENCE_BEFORE, *events],
    )


NOT_CLOSED = (
    "Not yet measurable: the case is not closed by 31 Oct 2017, and the 6 months measured must follow its closure"
)


@pytest.mark.parametrize(
    "closed,met,evidence",
    [
        ("2017-04-30", True, "offence: none in the 6 months from 1 May 2017 to 31 Oct 2017; none allowed"),
        (
            "2017-05-01",
            False,
            "Not yet measurable: the 6 months from 1 May 2017 to 31 Oct 2017 must begin after the case closed "
            "(on 1 May 2017)",
        ),
        ("", False, NOT_CLOSED),
        # a closure recorded for a day after D is not known at D
        ("2017-11-01", False, NOT_CLOSED),
    ],
)
def test_the_window_must_start_on_or_after_the_case_closure(tmp_path, closed, met, evidence):
    rows, detail, _ = _evaluate(tmp_path, closed, _plan(tmp_path, window_after="closure"))
    assert measure_met(detail, "F1", "crime_asb") is met and rows["F1"]["claimable"] is met
    assert detail.filter(pl.col("theme") == "crime_asb")["evidence"][0] == f"crime_asb: {evidence}"


def test_after_attachment_stays_the_default(tmp_path):
    for window_after in ({}, {"window_after": "attachment"}):
        rows, _, _ = _evaluate(tmp_path, "", _plan(tmp_path, **window_after))
        assert rows["F1"]["claimable"] is True  # no offence after 2017-04-30, which is after attachment


@pytest.mark.parametrize("closed,forecast", [("2017-06-15", dt.date(2017, 12, 15)), ("", None)])
def test_the_forecast_waits_for_the_window_to_follow_the_closure(tmp_path, closed, forecast):
    rows, _, _ = _evaluate(tmp_path, closed, _plan(tmp_path, window_after="closure"))
    assert rows["F1"]["claimable"] is False and rows["F1"]["earliest_claimable_date"] == forecast


def test_an_offence_after_the_closure_moves_the_forecast(tmp_path):
    late = {"person_id": "F1-P1", "event_type": "offence", "event_date": "2017-08-20"}
    rows, _, _ = _evaluate(tmp_path, "2017-06-15", _plan(tmp_path, window_after="closure"), events=[late])
    assert rows["F1"]["earliest_claimable_date"] == dt.date(2018, 2, 20)


TERMS = [
    {"term_id": "T1", "start_date": "2017-01-04", "end_date": "2017-04-07"},
    {"term_id": "T2", "start_date": "2017-04-24", "end_date": "2017-07-21"},
    {"term_id": "T3", "start_date": "2017-09-04", "end_date": "2017-10-20"},
]


@pytest.mark.parametrize("closed,met", [("2017-01-03", True), ("2017-01-04", False)])
def test_attendance_terms_must_start_after_the_closure(tmp_path, closed, met):
    plan = plan_file(
        tmp_path / "plan",
        {
            "education": {
                "eligibility": [{"kind": "recorded_indicator"}],
                "progress": [
                    {"kind": "attendance_sustained", "max_absence_percent": 10, "terms": 3, "window_after": "closure"}
                ],
            }
        },
    )
    rows, detail, _ = evaluate_rows(
        tmp_path / "data",
        D,
        plan=plan,
        families=[family("F1", A, closure_date=closed)],
        members=[member("F1-C1", "F1", "2008-01-01")],
        terms=TERMS,
        indicators=[{"person_id": "F1-C1", "indicator": "education.attendance", "identified_date": "2016-09-01"}],
        attendance=[
            {
                "person_id": "F1-C1",
                "term_id": t["term_id"],
                "possible_sessions": 100,
                "authorised_absence": 1,
                "unauthorised_absence": 0,
            }
            for t in TERMS
        ],
    )
    assert measure_met(detail, "F1", "education") is met and rows["F1"]["claimable"] is met
    if not met:  # a term starting on the closure day is not after it
        assert detail["evidence"][0].startswith(
            "education: Not yet measurable: 2 whole term(s) since case closure, 3 needed (the latest: T1, T2, T3)"
        )


@pytest.mark.parametrize(
    "rule,message",
    [
        (
            {"kind": "no_events", "event_types": ["offence"], "months": 6, "window_after": "closed"},
            "themes.crime_asb.progress[0].window_after: must be one of attachment, closure",
        ),
        (
            {
                "kind": "score_improved",
                "tool": "family_star",
                "domain": "health",
                "min_improvement": 1,
                "months": 3,
                "window_after": "after",
            },
            "themes.crime_asb.progress[0].window_after: must be one of attachment, closure",
        ),
    ],
)
def test_window_after_is_refused_where_it_means_nothing(tmp_path, rule, message):
    with pytest.raises(PlanError, match=re.escape(message)):
        plan_file(tmp_path, {"crime_asb": {"eligibility": [{"kind": "recorded_indicator"}], "progress": [rule]}})


def test_window_after_is_no_parameter_of_an_eligibility_criterion(tmp_path):
    criterion = {"kind": "event_count", "event_types": ["offence"], "min_count": 1, "window_after": "closure"}
    with pytest.raises(PlanError, match=re.escape("themes.crime_asb.eligibility[0]: unknown parameter window_after")):
        plan_file(tmp_path, {"crime_asb": {"eligibility": [criterion], "progress": []}})
