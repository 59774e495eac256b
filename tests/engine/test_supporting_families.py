"""The shipped Supporting Families plan: three needs, progress after case closure, no employment route."""

from __future__ import annotations

import datetime as dt

import pbr
from engine.helpers import evaluate_rows, family, member

A = "2018-03-01"
CLOSED = "2018-12-31"
# F1 has four needs: crime and domestic abuse (incidents), children's safety (a protection plan), financial
# stability (on JSA at attachment); then the parent works from Monday 3 September 2018, after the JSA ended.
MEMBERS = [
    member("F1-P1", "F1", "1985-04-02"),
    member("F1-C1", "F1", "2010-05-06"),
    member("F2-P1", "F2", "1985-04-02"),
    member("F2-C1", "F2", "2010-05-06"),
    member("F3-P1", "F3", "1985-04-02"),
    member("F3-C1", "F3", "2010-05-06"),
]
EVENTS = [
    {"person_id": f"{f}-P1", "event_type": kind, "event_date": day}
    for f in ("F1", "F2", "F3")
    for kind, day in (("offence", "2018-01-10"), ("dv_incident", "2018-02-01"))
]
EPISODES = [
    {"person_id": "F1-C1", "episode_type": "cp", "start_date": "2017-10-01", "end_date": "2018-06-30"},
    {"person_id": "F1-P1", "episode_type": "jsa", "start_date": "2017-06-01", "end_date": "2018-08-31"},
    {"person_id": "F1-P1", "episode_type": "employment", "start_date": "2018-09-03", "end_date": ""},
]
INDICATORS = [{"person_id": "F3-P1", "indicator": "housing.temporary_accommodation", "identified_date": "2018-02-20"}]
# the way of working the plan asks for, on file for every family
MILESTONES = [
    {"family_id": f, "milestone": milestone, "milestone_date": "2018-03-15"}
    for f in ("F1", "F2", "F3")
    for milestone in ("lead_practitioner_assigned", "whole_family_assessment", "family_plan_agreed")
]


def _evaluate(tmp_path, as_of: str, plan):
    rows, _, _ = evaluate_rows(
        tmp_path / as_of,
        as_of,
        plan=plan,
        families=[family(f, A, closure_date=CLOSED) for f in ("F1", "F2", "F3")],
        members=MEMBERS,
        events=EVENTS,
        episodes=EPISODES,
        indicators=INDICATORS,
        milestones=MILESTONES,
    )
    return rows


def test_the_plan_is_shipped_and_named_by_its_name():
    plan = pbr.load_plan("supporting-families-2022")
    assert plan.name == "supporting-families-2022" and plan.min_themes == 3 and plan.benefit_rules == ()
    assert len(plan.themes) == 10


def test_a_family_needs_three_needs(tmp_path):
    rows = _evaluate(tmp_path, "2019-07-01", pbr.load_plan("supporting-families-2022"))
    assert rows["F1"]["themes_at_attachment"] == "children_safe;crime;domestic_abuse;financial_stability"
    assert rows["F2"]["themes_at_attachment"] == "crime;domestic_abuse" and rows["F2"]["eligible"] is False
    assert rows["F3"]["themes_at_attachment"] == "crime;domestic_abuse;housing" and rows["F3"]["eligible"] is True
    # housing is evidenced by a scored assessment, and F3 has none
    assert rows["F3"]["themes_progress_met"] == "crime;domestic_abuse" and rows["F3"]["claimable"] is False


def test_progress_counts_only_six_months_after_the_case_closed_and_work_is_no_route(tmp_path):
    supporting = pbr.load_plan("supporting-families-2022")
    before = _evaluate(tmp_path, "2019-06-30", supporting)["F1"]  # its window starts 2018-12-30, before closure
    assert before["eligible"] is True and before["themes_progress_met"] == ""
    assert before["ce_met"] is False and before["claimable"] is False
    assert before["earliest_claimable_date"] == dt.date(2019, 7, 1)
    after = _evaluate(tmp_path, "2019-07-01", supporting)["F1"]
    assert after["ssp_met"] is True and after["claim_route"] == "ssp"

    # the same records under the 2015 programme: the job is a continuous-employment result already
    troubled = _evaluate(tmp_path, "2019-06-30", pbr.load_plan("troubled-families-2015"))["F1"]
    assert troubled["ce_met"] is True and troubled["claim_route"] == "ce"


def test_indicators_loaded_under_another_plan_are_named_in_a_warning(sqlite_url):
    from conftest import EXAMPLES
    from pbr.feeds.ingest import ingest
    from pbr.store import Store

    ingest(EXAMPLES / "basic", Store(sqlite_url), pbr.load_plan().theme_codes)  # one crime_asb indicator
    under_sf = pbr.evaluate(as_of="2017-10-31", plan="supporting-families-2022", database_url=sqlite_url)
    assert (
        "1 indicator(s) name a theme plan supporting-families-2022 does not have (crime_asb): they take no part "
        "in these decisions"
    ) in under_sf.warnings
    assert not any(
        "indicator(s) name a theme" in w for w in pbr.evaluate(as_of="2017-10-31", database_url=sqlite_url).warnings
    )
