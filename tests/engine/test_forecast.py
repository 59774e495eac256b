"""earliest_claimable_date: one named test per way a measure can come to hold after D."""

from __future__ import annotations

from engine.helpers import evaluate_rows, family, member, plan_file


def members():
    return [member("F1-P1", "F1", "1980-01-01"), member("F1-C1", "F1", "2008-01-01")]


def forecast(rows: dict, fid: str = "F1") -> str:
    row = rows[fid]
    assert row["eligible"] is True and row["claimable"] is False, row
    value = row["earliest_claimable_date"]
    return "" if value is None else str(value)


def help_plan(tmp_path, months: int = 6):
    return plan_file(
        tmp_path,
        {
            "help": {
                "eligibility": [{"kind": "episode_open", "episode_types": ["cin"]}],
                "progress": [{"kind": "no_episodes", "episode_types": ["cin"], "months": months}],
            }
        },
    )


def cin(start: str, end: str = "") -> dict:
    return {"person_id": "F1-C1", "episode_type": "cin", "start_date": start, "end_date": end}


def test_no_episodes_holds_once_the_window_starts_on_or_after_the_episode_end(tmp_path):
    rows, _, _ = evaluate_rows(
        tmp_path / "a",
        "2017-01-15",
        plan=help_plan(tmp_path),
        families=[family("F1", "2016-08-31")],
        members=members(),
        episodes=[cin("2016-03-01", "2016-11-30")],
    )
    assert forecast(rows) == "2017-05-30"  # add_months(2017-05-30, -6) = 2016-11-30: an episode ending on S is outside


def test_no_episodes_forecast_clamps_to_the_month_end(tmp_path):
    # add_months(2017-02-28, -6) = 2016-08-28, before the episode's last day; 1 March is the first day whose S is after it.
    rows, _, _ = evaluate_rows(
        tmp_path,
        "2016-12-01",
        plan=help_plan(tmp_path),
        families=[family("F1", "2016-08-01")],
        members=members(),
        episodes=[cin("2016-03-01", "2016-08-31")],
    )
    assert forecast(rows) == "2017-03-01"


def test_an_episode_open_at_d_stays_open_so_there_is_no_forecast(tmp_path):
    rows, _, _ = evaluate_rows(
        tmp_path,
        "2017-01-15",
        plan=help_plan(tmp_path),
        families=[family("F1", "2016-08-31")],
        members=members(),
        episodes=[cin("2016-03-01", "2017-03-31")],
    )
    assert forecast(rows) == ""  # ends after D: treated as open through D, and assumed to stay open


def test_a_window_that_only_waits_for_attachment_settles_when_its_start_reaches_attachment(tmp_path):
    rows, _, _ = evaluate_rows(
        tmp_path,
        "2016-10-01",
        plan=help_plan(tmp_path),
        families=[family("F1", "2016-08-31")],
        members=members(),
        episodes=[cin("2016-03-01", "2016-06-30")],
    )
    assert forecast(rows) == "2017-03-01"  # add_months(2017-02-28, -6) = 2016-08-28 is still before A


def crime_plan(tmp_path, progress: list[dict]):
    return plan_file(
        tmp_path,
        {
            "crime": {
                "eligibility": [{"kind": "event_count", "event_types": ["offence", "asb_incident"], "min_count": 1}],
                "progress": progress,
            }
        },
    )


def event(kind: str, day: str, person: str = "F1-P1") -> dict:
    return {"person_id": person, "event_type": kind, "event_date": day}


def test_no_events_holds_once_the_last_event_is_out_of_the_window(tmp_path):
    plan = crime_plan(tmp_path, [{"kind": "no_events", "event_types": ["asb_incident"], "months": 6}])
    rows, _, _ = evaluate_rows(
        tmp_path,
        "2017-01-31",
        plan=plan,
        families=[family("F1", "2016-09-01")],
        members=members(),
        events=[event("asb_incident", "2016-06-01"), event("asb_incident", "2016-12-10", "F1-C1")],
    )
    assert forecast(rows) == "2017-06-10"  # S = 2016-12-10: the event on S is outside the window


def test_events_reduced_holds_once_enough_events_have_left_the_window(tmp_path):
    plan = crime_plan(
        tmp_path, [{"kind": "events_reduced", "event_types": ["offence"], "reduction_percent": 50, "months": 6}]
    )
    before = [event("offence", "2016-05-01"), event("offence", "2016-06-01")]
    after = [event("offence", day) for day in ("2016-10-01", "2016-11-01", "2016-12-01")]
    rows, _, _ = evaluate_rows(
        tmp_path,
        "2017-01-31",
        plan=plan,
        families=[family("F1", "2016-09-01")],
        members=members(),
        events=before + after,
    )
    assert forecast(rows) == "2017-05-01"  # at most one of the three left: S must reach 2016-11-01


def test_a_forecast_beyond_730_days_is_empty_and_one_on_day_730_is_kept(tmp_path):
    def with_months(months, folder):
        plan = crime_plan(folder, [{"kind": "no_events", "event_types": ["asb_incident"], "months": months}])
        rows, _, _ = evaluate_rows(
            folder,
            "2017-01-01",
            plan=plan,
            families=[family("F1", "2016-09-01")],
            members=members(),
            events=[event("asb_incident", "2016-06-01"), event("asb_incident", "2017-01-01")],
        )
        return forecast(rows)

    assert with_months(24, tmp_path / "a") == "2019-01-01"  # D + 730 days
    assert with_months(25, tmp_path / "b") == ""


def health_theme(months: int = 3) -> dict:
    return {
        "eligibility": [{"kind": "recorded_indicator"}],
        "progress": [
            {
                "kind": "score_improved",
                "tool": "family_star",
                "domain": "health",
                "min_improvement": 2,
                "months": months,
                "baseline_grace_days": 14,
            }
        ],
    }


def star(day: str, score: str) -> dict:
    return {"family_id": "F1", "tool": "family_star", "domain": "health", "assessment_date": day, "score": score}


def test_a_score_that_needs_a_new_assessment_has_no_forecast(tmp_path):
    plan = plan_file(tmp_path, {"health": health_theme()})
    rows, _, _ = evaluate_rows(
        tmp_path,
        "2016-11-15",
        plan=plan,
        families=[family("F1", "2016-09-01")],
        members=members(),
        indicators=[{"person_id": "F1-P1", "indicator": "health.mental_health", "identified_date": "2016-08-01"}],
        assessments=[star("2016-08-15", "4"), star("2016-10-01", "6")],
    )
    assert forecast(rows) == ""


def test_a_score_met_at_d_waits_for_the_other_themes(tmp_path):
    themes = {
        "health": health_theme(),
        "help": {
            "eligibility": [{"kind": "episode_open", "episode_types": ["cin"]}],
            "progress": [{"kind": "no_episodes", "episode_types": ["cin"], "months": 6}],
        },
    }
    plan = plan_file(tmp_path, themes, min_themes=2)
    rows, _, _ = evaluate_rows(
        tmp_path,
        "2017-02-01",
        plan=plan,
        families=[family("F1", "2016-09-01")],
        members=members(),
        episodes=[cin("2016-03-01", "2016-12-20")],
        indicators=[{"person_id": "F1-P1", "indicator": "health.mental_health", "identified_date": "2016-08-01"}],
        assessments=[star("2016-08-15", "4"), star("2016-10-01", "6"), star("2017-01-05", "7")],
    )
    assert forecast(rows) == "2017-06-20"


def education_plan(tmp_path):
    return plan_file(
        tmp_path,
        {
            "education": {
                "eligibility": [{"kind": "recorded_indicator"}],
                "progress": [
                    {
                        "kind": "attendance_sustained",
                        "max_absence_percent": 10,
                        "terms": 3,
                        "max_fixed_exclusions": 2,
                        "scope": "flagged",
                    }
                ],
            }
        },
    )


def pupil(born: str) -> list[dict]:
    return [member("F1-P1", "F1", "1980-01-01"), member("F1-C1", "F1", born)]


def spring_2017(absent: int) -> list[dict]:
    return [
        {
            "person_id": "F1-C1",
            "term_id": "2016-17-spring",
            "possible_sessions": 100,
            "authorised_absence": absent,
            "unauthorised_absence": 0,
        }
    ]


def truancy() -> list[dict]:
    return [{"person_id": "F1-C1", "indicator": "education.persistent_absence", "identified_date": "2016-06-01"}]


def test_attendance_holds_at_a_term_end_when_the_flagged_child_has_left_school_age(tmp_path):
    # The child is 16 from 1 March 2017: the summer and autumn terms of 2017 need no record, spring 2017 does.
    rows, _, _ = evaluate_rows(
        tmp_path / "a",
        "2017-05-01",
        plan=education_plan(tmp_path),
        members=pupil("2001-03-01"),
        families=[family("F1", "2016-09-15")],
        indicators=truancy(),
        attendance=spring_2017(5),
    )
    assert forecast(rows) == "2017-12-31"  # the end of the third whole term after attachment
    rows, _, _ = evaluate_rows(
        tmp_path / "b",
        "2017-05-01",
        plan=education_plan(tmp_path),
        members=pupil("2001-03-01"),
        families=[family("F1", "2016-09-15")],
        indicators=truancy(),
        attendance=spring_2017(10),
    )
    assert forecast(rows) == "2018-04-15"  # spring 2017 at 10% absence: not until it has left the three measured terms


def test_attendance_that_needs_records_for_terms_after_d_has_no_forecast(tmp_path):
    rows, _, _ = evaluate_rows(
        tmp_path,
        "2017-05-01",
        plan=education_plan(tmp_path),
        members=pupil("2005-03-01"),
        families=[family("F1", "2016-09-15")],
        indicators=truancy(),
        attendance=spring_2017(5),
    )
    assert forecast(rows) == ""


def test_continuous_employment_forecast_is_the_sunday_that_completes_the_weeks(tmp_path):
    plan = plan_file(
        tmp_path,
        {
            "work": {
                "eligibility": [{"kind": "episode_open", "episode_types": ["jsa"], "at_attachment": True}],
                "progress": [{"kind": "no_episodes", "episode_types": ["jsa"], "months": 6}],
            }
        },
        continuous_employment={"benefit_types": {"jsa": {"weeks_employed": 2, "within_weeks": 2}}},
    )
    episodes = [
        {"person_id": "F1-P1", "episode_type": "jsa", "start_date": "2016-01-01", "end_date": "2016-09-30"},
        {"person_id": "F1-P1", "episode_type": "employment", "start_date": "2016-10-03", "end_date": ""},
    ]
    rows, _, _ = evaluate_rows(
        tmp_path, "2016-10-05", plan=plan, families=[family("F1", "2016-09-01")], members=members(), episodes=episodes
    )
    assert forecast(rows) == "2016-10-16"  # weeks of 3 and 10 October; the jsa window would not settle until 2017-03-30


def test_the_forecast_stops_at_the_last_day_a_date_can_hold(tmp_path):
    # D + 730 days passes 9999-12-31: the forecast looks as far as there are days, and on that last day not at all.
    # F1's child is past school age by then, so the three terms of 9999 need no records; F2's episode stays open.
    plan = plan_file(
        tmp_path,
        {
            "education": {
                "eligibility": [{"kind": "recorded_indicator"}],
                "progress": [{"kind": "attendance_sustained", "max_absence_percent": 10, "terms": 3}],
            },
            "help": {
                "eligibility": [{"kind": "episode_open", "episode_types": ["cin"]}],
                "progress": [{"kind": "no_episodes", "episode_types": ["cin"], "months": 1}],
            },
        },
    )
    terms = [
        {"term_id": t, "start_date": start, "end_date": end}
        for t, start, end in (
            ("A", "9999-01-05", "9999-03-31"),
            ("B", "9999-04-15", "9999-07-20"),
            ("C", "9999-09-01", "9999-12-20"),
        )
    ]
    tables = dict(
        families=[family("F1", "2016-08-31"), family("F2", "2016-08-31")],
        members=[*members(), member("F2-C1", "F2", "2008-01-01")],
        terms=terms,
        indicators=[{"person_id": "F1-C1", "indicator": "education.x", "identified_date": "2016-08-01"}],
        episodes=[{**cin("2016-03-01"), "person_id": "F2-C1"}],
    )
    rows, _, _ = evaluate_rows(tmp_path / "june", "9999-06-01", plan=plan, **tables)
    assert forecast(rows, "F1") == "9999-12-20" and forecast(rows, "F2") == ""
    rows, _, _ = evaluate_rows(tmp_path / "last", "9999-12-31", plan=plan, **tables)
    assert rows["F1"]["claimable"] is True and forecast(rows, "F2") == ""
