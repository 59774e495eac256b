"""One test per rule kind and option, on small plans written for the test."""

from __future__ import annotations

from engine.helpers import evaluate_rows, family, measure_met, member, plan_file


def members():
    return [
        member("F1-P1", "F1", "1980-01-01"),
        member("F1-C1", "F1", "2008-01-01"),
        member("F1-C2", "F1", "2009-01-01"),
    ]


def test_event_count_needs_min_count_for_one_person(tmp_path):
    plan = plan_file(
        tmp_path, {"crime": {"eligibility": [{"kind": "event_count", "event_types": ["offence"], "min_count": 2}]}}
    )
    one_each = [{"person_id": p, "event_type": "offence", "event_date": "2016-06-01"} for p in ("F1-C1", "F1-C2")]
    rows, _, _ = evaluate_rows(
        tmp_path / "a",
        "2017-01-01",
        plan=plan,
        families=[family("F1", "2016-09-01")],
        members=members(),
        events=one_each,
    )
    assert rows["F1"]["themes_at_attachment"] == ""
    rows, _, _ = evaluate_rows(
        tmp_path / "b",
        "2017-01-01",
        plan=plan,
        families=[family("F1", "2016-09-01")],
        members=members(),
        events=[*one_each, {**one_each[0], "event_date": "2016-07-01"}],
    )
    assert rows["F1"]["themes_at_attachment"] == "crime"


def test_episode_open_at_attachment_needs_the_episode_to_cover_the_day(tmp_path):
    themes = {
        "work": {"eligibility": [{"kind": "episode_open", "episode_types": ["jsa"], "at_attachment": True}]},
        "help": {"eligibility": [{"kind": "episode_open", "episode_types": ["jsa"]}]},
    }
    plan = plan_file(tmp_path, themes)
    rows, _, _ = evaluate_rows(
        tmp_path / "d",
        "2017-01-01",
        plan=plan,
        families=[family("F1", "2016-09-01")],
        members=members(),
        episodes=[{"person_id": "F1-P1", "episode_type": "jsa", "start_date": "2016-01-01", "end_date": "2016-08-31"}],
    )
    assert rows["F1"]["themes_at_attachment"] == "help"


def test_attendance_below_with_unauthorised_absence_only(tmp_path):
    themes = {
        "school": {
            "eligibility": [
                {"kind": "attendance_below", "min_absence_percent": 10, "terms": 3, "absence": "unauthorised"}
            ]
        }
    }
    plan = plan_file(tmp_path, themes)
    record = {"person_id": "F1-C1", "term_id": "2015-16-spring", "possible_sessions": 100}
    rows, _, _ = evaluate_rows(
        tmp_path / "a",
        "2017-01-01",
        plan=plan,
        families=[family("F1", "2016-09-01")],
        members=members(),
        attendance=[{**record, "authorised_absence": 20, "unauthorised_absence": 9}],
    )
    assert rows["F1"]["themes_at_attachment"] == ""
    rows, _, _ = evaluate_rows(
        tmp_path / "b",
        "2017-01-01",
        plan=plan,
        families=[family("F1", "2016-09-01")],
        members=members(),
        attendance=[{**record, "authorised_absence": 0, "unauthorised_absence": 10}],
    )
    assert rows["F1"]["themes_at_attachment"] == "school"


def test_attendance_below_only_looks_at_the_most_recent_terms_before_attachment(tmp_path):
    themes = {"school": {"eligibility": [{"kind": "attendance_below", "min_absence_percent": 10, "terms": 1}]}}
    plan = plan_file(tmp_path, themes)
    rows, _, _ = evaluate_rows(
        tmp_path,
        "2017-01-01",
        plan=plan,
        families=[family("F1", "2016-09-01")],
        members=members(),
        attendance=[
            {
                "person_id": "F1-C1",
                "term_id": "2015-16-spring",
                "possible_sessions": 100,
                "authorised_absence": 30,
                "unauthorised_absence": 0,
            }
        ],
    )
    assert rows["F1"]["themes_at_attachment"] == ""  # summer 2016 is the one most recent term


def test_scope_flagged_ignores_other_members_and_scope_family_does_not(tmp_path):
    def crime(scope):
        return {
            "crime": {
                "eligibility": [{"kind": "event_count", "event_types": ["offence"], "min_count": 1}],
                "progress": [
                    {"kind": "no_events", "event_types": ["offence", "asb_incident"], "months": 6, "scope": scope}
                ],
            }
        }

    tables = dict(
        families=[family("F1", "2016-09-01")],
        members=members(),
        events=[
            {"person_id": "F1-C1", "event_type": "offence", "event_date": "2016-06-01"},
            {"person_id": "F1-C2", "event_type": "asb_incident", "event_date": "2017-05-01"},
        ],
    )
    _, detail, _ = evaluate_rows(tmp_path / "f", "2017-09-01", plan=plan_file(tmp_path, crime("flagged")), **tables)
    assert measure_met(detail, "F1", "crime") is True
    _, detail, _ = evaluate_rows(tmp_path / "w", "2017-09-01", plan=plan_file(tmp_path, crime("family")), **tables)
    assert measure_met(detail, "F1", "crime") is False


def test_events_reduced_with_none_before_needs_none_after(tmp_path):
    themes = {
        "crime": {
            "eligibility": [{"kind": "recorded_indicator"}],
            "progress": [{"kind": "events_reduced", "event_types": ["offence"], "reduction_percent": 50, "months": 6}],
        }
    }
    plan = plan_file(tmp_path, themes)
    tables = dict(
        families=[family("F1", "2016-09-01")],
        members=members(),
        indicators=[{"person_id": "F1-C1", "indicator": "crime.police", "identified_date": "2016-08-01"}],
    )
    _, detail, _ = evaluate_rows(tmp_path / "a", "2017-06-01", plan=plan, **tables)
    assert measure_met(detail, "F1", "crime") is True
    _, detail, _ = evaluate_rows(
        tmp_path / "b",
        "2017-06-01",
        plan=plan,
        **tables,
        events=[{"person_id": "F1-C1", "event_type": "offence", "event_date": "2017-05-01"}],
    )
    assert measure_met(detail, "F1", "crime") is False


def test_attendance_sustained_needs_a_record_only_from_flagged_children_of_school_age(tmp_path):
    themes = {
        "school": {
            "eligibility": [{"kind": "recorded_indicator"}],
            "progress": [{"kind": "attendance_sustained", "max_absence_percent": 10, "terms": 3}],
        }
    }
    plan = plan_file(tmp_path, themes)
    terms = ["2016-17-autumn", "2016-17-spring", "2016-17-summer"]
    tables = dict(
        families=[family("F1", "2016-08-20")],
        members=[
            member("F1-P1", "F1", "1980-01-01"),
            member("F1-C1", "F1", "2000-06-01"),
            member("F1-C2", "F1", "2008-01-01"),
        ],
        indicators=[
            {"person_id": p, "indicator": "school.poor", "identified_date": "2016-07-01"} for p in ("F1-C1", "F1-C2")
        ],
        attendance=[
            {
                "person_id": "F1-C2",
                "term_id": t,
                "possible_sessions": 100,
                "authorised_absence": 2,
                "unauthorised_absence": 1,
            }
            for t in terms
        ],
    )
    _, detail, _ = evaluate_rows(tmp_path / "a", "2017-10-31", plan=plan, **tables)
    assert measure_met(detail, "F1", "school") is True  # C1 turned 16 before autumn 2016
    tables["members"][1] = member("F1-C1", "F1", "")  # without a date of birth C1 counts as of school age
    _, detail, _ = evaluate_rows(tmp_path / "b", "2017-10-31", plan=plan, **tables)
    assert measure_met(detail, "F1", "school") is False


def test_score_improved_needs_an_unbroken_run_to_the_latest(tmp_path):
    themes = {
        "health": {
            "eligibility": [{"kind": "recorded_indicator"}],
            "progress": [
                {
                    "kind": "score_improved",
                    "tool": "family_star",
                    "domain": "health",
                    "min_improvement": 2,
                    "months": 6,
                    "baseline_grace_days": 30,
                }
            ],
        }
    }
    plan = plan_file(tmp_path, themes)
    base = dict(
        families=[family("F1", "2016-09-01")],
        members=members(),
        indicators=[{"person_id": "F1-P1", "indicator": "health.mh", "identified_date": "2016-08-01"}],
    )

    def scores(*pairs):
        return [
            {"family_id": "F1", "tool": "family_star", "domain": "health", "assessment_date": d, "score": s}
            for d, s in pairs
        ]

    _, detail, _ = evaluate_rows(
        tmp_path / "a",
        "2017-12-31",
        plan=plan,
        **base,
        assessments=scores(("2016-09-20", "4"), ("2017-01-10", "6.5"), ("2017-07-10", "6")),
    )
    assert measure_met(detail, "F1", "health") is True
    _, detail, _ = evaluate_rows(
        tmp_path / "b",
        "2017-12-31",
        plan=plan,
        **base,
        assessments=scores(("2016-09-20", "4"), ("2017-01-10", "6"), ("2017-04-01", "5"), ("2017-09-01", "7")),
    )
    assert measure_met(detail, "F1", "health") is False  # the run restarted in September


def test_continuous_employment_13_within_15_and_a_gap(tmp_path):
    plan = plan_file(
        tmp_path,
        {"work": {"eligibility": [{"kind": "episode_open", "episode_types": ["esa"], "at_attachment": True}]}},
        continuous_employment={"benefit_types": {"esa": {"weeks_employed": 13, "within_weeks": 15}}},
    )
    tables = dict(families=[family("F1", "2016-10-03")], members=members())
    spells = [("2017-05-01", "2017-06-30"), ("2017-07-15", "2017-08-20")]  # 8 weeks, 3 off, 5 weeks
    episodes = [{"person_id": "F1-P1", "episode_type": "esa", "start_date": "2015-06-01", "end_date": "2017-04-30"}]
    jobs = [{"person_id": "F1-P1", "episode_type": "employment", "start_date": s, "end_date": e} for s, e in spells]
    rows, _, _ = evaluate_rows(tmp_path / "a", "2017-10-31", plan=plan, **tables, episodes=episodes + jobs)
    assert rows["F1"]["ce_met"] is False
    jobs[1]["start_date"] = "2017-07-08"
    rows, _, _ = evaluate_rows(tmp_path / "b", "2017-10-31", plan=plan, **tables, episodes=episodes + jobs)
    assert rows["F1"]["ce_met"] is True and rows["F1"]["claim_route"] == "ce"


def test_a_benefit_day_inside_a_week_stops_it_counting(tmp_path):
    plan = plan_file(
        tmp_path,
        {"work": {"eligibility": [{"kind": "episode_open", "episode_types": ["jsa"], "at_attachment": True}]}},
        continuous_employment={"benefit_types": {"jsa": {"weeks_employed": 2, "within_weeks": 2}}},
    )
    episodes = [
        {"person_id": "F1-P1", "episode_type": "jsa", "start_date": "2016-01-01", "end_date": "2016-09-30"},
        {"person_id": "F1-P1", "episode_type": "employment", "start_date": "2016-10-03", "end_date": ""},
        {"person_id": "F1-P1", "episode_type": "jsa", "start_date": "2016-10-12", "end_date": "2016-10-12"},
    ]
    rows, detail, _ = evaluate_rows(
        tmp_path / "a",
        "2016-10-23",
        plan=plan,
        families=[family("F1", "2016-09-01")],
        members=members(),
        episodes=episodes,
    )
    assert rows["F1"]["ce_met"] is False
    assert (
        "counted by 23 Oct 2016: 2 (3 Oct 2016 to 23 Oct 2016)" in detail["evidence"][0]
    )  # weeks of 3 and 17 October, not 10 October
    rows, _, _ = evaluate_rows(
        tmp_path / "b",
        "2016-10-30",
        plan=plan,
        families=[family("F1", "2016-09-01")],
        members=members(),
        episodes=episodes,
    )
    assert rows["F1"]["ce_met"] is True  # 17 and 24 October are two weeks in a row


def test_a_family_attached_after_the_as_of_date_gets_nothing(tmp_path):
    rows, detail, _ = evaluate_rows(
        tmp_path,
        "2017-01-01",
        families=[family("F1", "2017-06-01")],
        members=members(),
        events=[{"person_id": "F1-P1", "event_type": "dv_incident", "event_date": "2016-12-01"}],
    )
    row = rows["F1"]
    assert (row["eligible"], row["themes_at_attachment"], row["ce_met"], row["claimable"]) == (False, "", False, False)
    assert detail.filter(detail["family_id"] == "F1").height == 0
