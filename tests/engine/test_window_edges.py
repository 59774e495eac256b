"""Named tests for every window edge of outcome-plan.md."""

from __future__ import annotations

import pytest

from engine.helpers import evaluate_rows, family, measure_met, member

A = "2016-09-15"
D = "2017-10-31"  # window (2017-04-30, 2017-10-31]


def _crime_and_dv(asb_dates: list[str]) -> dict:
    return dict(
        families=[family("F1", A)],
        members=[member("F1-P1", "F1", "1980-01-01"), member("F1-C1", "F1", "2005-01-01")],
        events=[
            {"person_id": "F1-C1", "event_type": "offence", "event_date": "2016-08-01"},
            {"person_id": "F1-P1", "event_type": "dv_incident", "event_date": "2016-08-02"},
        ]
        + [{"person_id": "F1-C1", "event_type": "asb_incident", "event_date": d} for d in asb_dates],
    )


@pytest.mark.parametrize("day,met", [("2017-04-30", True), ("2017-05-01", False)])
def test_event_on_the_window_start_day_is_outside_the_window(tmp_path, day, met):
    _, detail, _ = evaluate_rows(tmp_path, D, **_crime_and_dv([day]))
    assert measure_met(detail, "F1", "crime_asb", "progress[1]") is met


@pytest.mark.parametrize("day,met", [("2017-10-31", False), ("2017-11-01", True)])
def test_event_on_the_as_of_day_counts_and_one_after_is_ignored(tmp_path, day, met):
    _, detail, _ = evaluate_rows(tmp_path, D, **_crime_and_dv([day]))
    assert measure_met(detail, "F1", "crime_asb", "progress[1]") is met


@pytest.mark.parametrize("end,met", [("2017-04-30", True), ("2017-05-01", False), ("", False)])
def test_episode_ending_on_the_window_start_does_not_overlap(tmp_path, end, met):
    rows, detail, _ = evaluate_rows(
        tmp_path,
        D,
        families=[family("F1", A)],
        members=[member("F1-P1", "F1", "1980-01-01"), member("F1-C1", "F1", "2010-01-01")],
        episodes=[{"person_id": "F1-C1", "episode_type": "cp", "start_date": "2016-05-01", "end_date": end}],
        events=[{"person_id": "F1-P1", "event_type": "dv_incident", "event_date": "2016-08-02"}],
    )
    assert measure_met(detail, "F1", "children_need_help") is met
    assert rows["F1"]["claimable"] is met


@pytest.mark.parametrize("attached,complete", [("2017-02-28", True), ("2017-03-01", False)])
def test_month_end_clamping_of_the_measurement_window(tmp_path, attached, complete):
    # D = 2017-08-31: six months back is 2017-02-28 (31 August has no 31 February)
    _, detail, _ = evaluate_rows(
        tmp_path,
        "2017-08-31",
        families=[family("F1", attached)],
        members=[member("F1-P1", "F1", "1980-01-01"), member("F1-C1", "F1", "2010-01-01")],
        events=[
            {"person_id": "F1-P1", "event_type": "dv_incident", "event_date": "2017-01-02"},
            {"person_id": "F1-C1", "event_type": "asb_incident", "event_date": "2017-01-03"},
        ],
    )
    assert measure_met(detail, "F1", "domestic_abuse") is complete


@pytest.mark.parametrize("identified,flagged", [("2015-02-28", False), ("2015-03-01", True)])
def test_leap_day_attachment_lookback(tmp_path, identified, flagged):
    # attached 29 Feb 2016: twelve months back is 28 Feb 2015, which is outside the lookback (S < d <= A)
    rows, _, _ = evaluate_rows(
        tmp_path,
        "2016-12-31",
        families=[family("F1", "2016-02-29")],
        members=[member("F1-P1", "F1", "1980-01-01"), member("F1-C1", "F1", "2010-01-01")],
        indicators=[
            {"person_id": "F1-P1", "indicator": "health.mental_health", "identified_date": identified},
            {"person_id": "F1-P1", "indicator": "domestic_abuse.marac", "identified_date": "2016-01-01"},
        ],
    )
    assert ("health" in rows["F1"]["themes_at_attachment"].split(";")) is flagged


def test_leap_day_as_of_window_start(tmp_path):
    # D = 2016-08-29: six months back is 2016-02-29, equal to the attachment day: the window is complete
    _, detail, _ = evaluate_rows(
        tmp_path,
        "2016-08-29",
        families=[family("F1", "2016-02-29")],
        members=[member("F1-P1", "F1", "1980-01-01"), member("F1-C1", "F1", "2010-01-01")],
        events=[{"person_id": "F1-P1", "event_type": "dv_incident", "event_date": "2016-01-02"}],
    )
    assert measure_met(detail, "F1", "domestic_abuse") is True


@pytest.mark.parametrize(
    "attached,benefit_end,met",
    [
        ("2017-01-01", "2017-01-01", True),  # Sunday: the week from Monday 2 January counts
        ("2017-01-02", "2017-01-02", False),  # Monday: that week's Monday is not after attachment
    ],
)
def test_attachment_on_a_sunday_and_on_a_monday_for_the_week_count(tmp_path, attached, benefit_end, met):
    # 26 weeks from Monday 2 January 2017 end on Sunday 2 July 2017
    rows, detail, _ = evaluate_rows(
        tmp_path,
        "2017-07-02",
        families=[family("F1", attached)],
        members=[member("F1-P1", "F1", "1980-01-01"), member("F1-C1", "F1", "2010-01-01")],
        episodes=[
            {"person_id": "F1-P1", "episode_type": "jsa", "start_date": "2016-01-01", "end_date": benefit_end},
            {"person_id": "F1-P1", "episode_type": "employment", "start_date": "2017-01-02", "end_date": ""},
        ],
    )
    assert rows["F1"]["ce_met"] is met
    evidence = detail.filter(detail["measure"] == "continuous_employment:F1-P1")["evidence"][0]
    assert ("counted by 2 Jul 2017: 26" in evidence) is met


@pytest.mark.parametrize("absent,met", [(10, False), (9, True)])
def test_exact_ten_percent_absence_is_not_below_the_threshold(tmp_path, absent, met):
    terms = ["2016-17-autumn", "2016-17-spring", "2016-17-summer"]
    _, detail, _ = evaluate_rows(
        tmp_path,
        "2017-10-31",
        families=[family("F1", "2016-08-20")],
        members=[member("F1-P1", "F1", "1980-01-01"), member("F1-C1", "F1", "2007-01-01")],
        indicators=[{"person_id": "F1-C1", "indicator": "education.poor_attendance", "identified_date": "2016-07-01"}],
        events=[{"person_id": "F1-P1", "event_type": "dv_incident", "event_date": "2016-08-02"}],
        attendance=[
            {
                "person_id": "F1-C1",
                "term_id": t,
                "possible_sessions": 100,
                "authorised_absence": 0,
                "unauthorised_absence": absent if t == "2016-17-spring" else 0,
            }
            for t in terms
        ],
    )
    assert measure_met(detail, "F1", "education") is met


def test_two_assessments_on_one_day_are_quarantined_as_a_duplicate_key(tmp_path):
    rows, detail, evaluation = evaluate_rows(
        tmp_path,
        "2017-10-31",
        families=[family("F1", "2016-09-01")],
        members=[member("F1-P1", "F1", "1980-01-01"), member("F1-C1", "F1", "2010-01-01")],
        indicators=[
            {"person_id": "F1-P1", "indicator": "health.mental_health", "identified_date": "2016-08-01"},
            {"person_id": "F1-P1", "indicator": "domestic_abuse.marac", "identified_date": "2016-08-01"},
        ],
        assessments=[
            {"family_id": "F1", "tool": "family_star", "domain": "health", "assessment_date": "2016-09-01", "score": s}
            for s in ("3", "4")
        ]
        + [
            {"family_id": "F1", "tool": "family_star", "domain": "health", "assessment_date": d, "score": "8"}
            for d in ("2017-01-01", "2017-08-01")
        ],
    )
    assert evaluation.quarantined == 2
    assert rows["F1"]["quarantined_records"] == 2
    assert measure_met(detail, "F1", "health") is False  # no baseline: both copies are held


def test_without_a_term_calendar_the_shipped_one_is_used(tmp_path):
    # the flagged child is 16 before the measured terms, so no attendance record is needed
    tables = dict(
        families=[family("F1", "2016-08-20")],
        members=[
            member("F1-P1", "F1", "1980-01-01"),
            member("F1-C1", "F1", "2000-06-01"),
            member("F1-C2", "F1", "2010-01-01"),
        ],
        indicators=[
            {"person_id": "F1-C1", "indicator": "education.x", "identified_date": "2016-07-01"},
            {"person_id": "F1-P1", "indicator": "domestic_abuse.x", "identified_date": "2016-07-01"},
        ],
    )
    rows, _, _ = evaluate_rows(tmp_path, "2017-10-31", **tables)
    (tmp_path / "terms.csv").unlink()
    import pbr

    bare = pbr.evaluate(data=tmp_path, as_of="2017-10-31")
    assert (
        bare.decisions.row(0, named=True)["themes_progress_met"]
        == rows["F1"]["themes_progress_met"]
        == "education;domestic_abuse"
    )
    assert any("default calendar" in w for w in bare.warnings)


def test_more_offences_after_attachment_than_before_read_as_a_rise(tmp_path):
    """Counts are unsigned: more after than before is a rise in words, never a wrapped-around fall."""
    data = _crime_and_dv([])
    data["events"] += [
        {"person_id": "F1-C1", "event_type": "offence", "event_date": day} for day in ("2017-06-01", "2017-07-01")
    ]
    _, detail, _ = evaluate_rows(tmp_path, "2017-10-31", **data)
    (evidence,) = detail.filter(detail["measure"] == "progress[0]:events_reduced")["evidence"].to_list()
    assert "offence: 1 in the 6 months" in evidence and "before attachment, 2 in the 6 months" in evidence
    assert "; a rise of 100%, at least 33% needed, so at most 0 allowed" in evidence
