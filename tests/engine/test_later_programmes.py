"""The plan fields of later programmes and audited practice (outcome-plan.md, last section), edge by edge.

Most edges are families of the public example `sf-basic`, each named here for the rule it holds; the rest are
built in the test.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml

from conftest import EXAMPLES, write_dataset
from pbr.engine import reasons
from pbr.evaluate import evaluate
from pbr.plan import PlanError, load_plan, parse_plan

SF = EXAMPLES / "sf-basic"
D = dt.date(2024, 3, 31)


@pytest.fixture(scope="module")
def decided():
    evaluation = evaluate(data=SF, as_of=D, plan=SF / "plan.yaml")
    return {row["family_id"]: row for row in evaluation.decisions.iter_rows(named=True)}


def claimable(row) -> tuple:
    return row["ssp_met"], row["claimable"], row["earliest_claimable_date"]


# ---- result_after_closure_months ----------------------------------------------------------------------------
def test_a_case_closed_exactly_m_months_before_d_gives_a_result(decided):
    assert claimable(decided["S02"]) == (True, True, None)  # closed 2023-09-30 = add_months(D, -6)


def test_a_case_closed_one_day_less_waits_for_the_day(decided):
    row = decided["S03"]  # closed 2023-10-01
    assert claimable(row) == (False, False, dt.date(2024, 4, 1))
    assert row["themes_progress_met"] == row["themes_at_attachment"]  # the gate is on ssp_met only
    assert row["reason_kind"] == reasons.CLOSED_RECENTLY
    assert "the case closed on 1 Oct 2023, 5 months ago; a result needs 6" in row["reason"]


def test_a_case_closing_after_d_is_open_at_d_and_never_closes_in_the_forecast(decided):
    for family in ("S12", "S13"):  # no closure; closed 2024-05-01, after D
        row = decided[family]
        assert claimable(row) == (False, False, None) and row["themes_progress_met"] == ""
        assert row["reason_kind"] == reasons.CASE_OPEN and "the case is still open" in row["reason"]


# ---- window_after: closure on score_improved -----------------------------------------------------------------
def test_a_score_seen_again_exactly_months_after_closure_is_met(decided):
    assert decided["S04"]["themes_progress_met"] == "health;family_relationships;housing"  # 2024-02-29


def test_a_score_seen_again_one_day_early_is_not_met_and_no_new_assessment_comes(decided):
    row = decided["S05"]  # 2024-02-28, one day before add_months(2023-08-31, 6)
    assert row["themes_progress_met"] == "family_relationships;housing" and claimable(row) == (False, False, None)
    assert "must still hold on or after 29 Feb 2024 (6 months after the case closed on 31 Aug 2023)" in row["reason"]


def test_attendance_after_closure_counts_terms_starting_strictly_after_it(decided):
    assert "education" not in decided["S14"]["themes_progress_met"]  # closed on the term's first day
    assert claimable(decided["S15"]) == (True, True, None)  # closed the day before


def test_a_quiet_window_after_closure_starts_on_or_after_it(decided):
    row = decided["S16"]  # the nine-month window from 2023-06-30 starts before closure on 2023-08-15
    assert "domestic_abuse" not in row["themes_progress_met"] and row["earliest_claimable_date"] == dt.date(2024, 5, 15)


# ---- needs: at_attachment_and_since --------------------------------------------------------------------------
def test_an_emerged_need_that_is_met_counts_towards_the_result(decided):
    row = decided["S06"]
    assert row["themes_emerged"] == "crime" and "crime" not in row["themes_at_attachment"]
    assert row["themes_progress_met"] == "substance_use;family_relationships;crime;housing"  # plan order
    assert claimable(row) == (True, True, None)


def test_an_emerged_need_not_met_holds_the_result_and_is_named(decided):
    row = decided["S07"]
    assert row["themes_emerged"] == "domestic_abuse" and claimable(row) == (False, False, dt.date(2024, 5, 15))
    assert row["reason_kind"] == reasons.EMERGED and "emerged need Safe from domestic abuse" in row["reason"]


def test_emerged_needs_do_not_make_a_family_eligible(tmp_path):
    plan = yaml.safe_load((SF / "plan.yaml").read_text())
    data = write_dataset(
        tmp_path,
        families=[{"family_id": "F1", "attachment_date": "2022-09-15"}],
        members=[
            {"person_id": "P1", "family_id": "F1", "date_of_birth": "1990-01-01"},
            {"person_id": "C1", "family_id": "F1", "date_of_birth": "2015-01-01"},
        ],
        indicators=[
            {"person_id": "P1", "indicator": f"{t}.x", "identified_date": "2023-01-01"}
            for t in ("housing", "health", "substance_use")
        ],  # all after attachment
    )
    row = evaluate(data=data, as_of=D, plan=parse_plan(plan)).decisions.row(0, named=True)
    assert row["themes_at_attachment"] == "" and row["themes_emerged"] == "health;substance_use;housing"
    assert not row["eligible"] and row["reason_kind"] == reasons.TOO_FEW_NEEDS


def test_emerged_attendance_counts_every_term_ending_since_attachment(tmp_path):
    plan = {
        "name": "p",
        "min_themes": 1,
        "needs": "at_attachment_and_since",
        "require_dependent_child": False,
        "themes": {
            "health": {"eligibility": [{"kind": "recorded_indicator"}]},
            "education": {
                "eligibility": [{"kind": "attendance_below", "min_absence_percent": 10, "terms": 1}],
                "progress": [],
            },
        },
    }
    data = write_dataset(
        tmp_path,
        families=[{"family_id": "F1", "attachment_date": "2016-09-01"}],
        members=[{"person_id": "C1", "family_id": "F1", "date_of_birth": "2008-01-01"}],
        indicators=[{"person_id": "C1", "indicator": "health.x", "identified_date": "2016-08-01"}],
        attendance=[  # poor two terms after attachment, good in the latest: `terms: 1` does not apply since
            {
                "person_id": "C1",
                "term_id": "2016-17-spring",
                "possible_sessions": "100",
                "authorised_absence": "0",
                "unauthorised_absence": "20",
            },
            {
                "person_id": "C1",
                "term_id": "2016-17-summer",
                "possible_sessions": "100",
                "authorised_absence": "0",
                "unauthorised_absence": "1",
            },
        ],
    )
    row = evaluate(data=data, as_of=dt.date(2017, 8, 31), plan=parse_plan(plan)).decisions.row(0, named=True)
    assert row["themes_emerged"] == "education"


# ---- dependent_child -----------------------------------------------------------------------------------------
def test_a_pregnancy_covering_attachment_counts_as_a_child(decided):
    assert decided["S08"]["eligible"] and claimable(decided["S08"]) == (True, True, None)


def test_a_pregnancy_ended_the_day_before_attachment_does_not(decided):
    row = decided["S09"]
    assert not row["eligible"] and row["themes_progress_met"] == row["themes_at_attachment"]
    assert row["reason"] == "Not eligible: no dependent child or expectant parent on the attachment day."


# ---- way_of_working ------------------------------------------------------------------------------------------
def test_a_milestone_recorded_on_d_counts(decided):
    assert claimable(decided["S17"]) == (True, True, None)


def test_a_milestone_recorded_after_d_is_missing_and_stays_missing(decided):
    for family in ("S10", "S11"):  # never recorded; recorded on D + 1
        row = decided[family]
        assert row["ssp_met"] and not row["claimable"] and row["earliest_claimable_date"] is None
        assert row["reason_kind"] == reasons.WAY_OF_WORKING
        assert "family plan agreed is not recorded (the way of working)" in row["reason"]


# ---- the plan grammar ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field,value,message",
    [
        ("needs", "always", "needs: must be at_attachment or at_attachment_and_since"),
        ("result_after_closure_months", -1, "result_after_closure_months: must be a whole number >= 0"),
        ("dependent_child", {"under_age": 0}, "dependent_child.under_age: must be a whole number >= 1"),
        ("dependent_child", {"pregnant": True}, "dependent_child: unknown key pregnant"),
        ("dependent_child", {"pregnancy": "yes"}, "dependent_child.pregnancy: must be true or false"),
        ("way_of_working", ["family_plan_agreed", "coffee"], "way_of_working: unknown milestone coffee"),
        ("way_of_working", "family_plan_agreed", "way_of_working: must be a list of milestones"),
        ("programme", "", "programme: must be the name of a programme's money parameters"),
    ],
)
def test_a_later_field_that_cannot_be_used_is_refused_with_its_path(field, value, message):
    plan = yaml.safe_load((SF / "plan.yaml").read_text())
    plan[field] = value
    with pytest.raises(PlanError, match=re.escape(message)):
        parse_plan(plan)


def test_the_shipped_supporting_families_plan_never_claims_an_open_case():
    plan = load_plan("supporting-families-2022")
    assert plan.result_after_closure_months == 6 and plan.needs == "at_attachment_and_since"
    assert plan.pregnancy_counts and plan.way_of_working and plan.programme == "supporting-families-2022"
    assert all(rule["window_after"] == "closure" for theme in plan.themes for rule in theme.progress)
    assert not plan.benefit_rules


# ---- programme: money per programme --------------------------------------------------------------------------
def test_a_supporting_families_claim_and_reconciliation_are_priced_by_their_programme(tmp_path, sqlite_url):
    import openpyxl

    import pbr.claims as claims
    from pbr.claims.workbook import write_claim_workbook
    from pbr.feeds.ingest import ingest
    from pbr.returns.reconcile import reconcile
    from pbr.store import Store

    plan = load_plan(SF / "plan.yaml")
    store = Store(sqlite_url)
    ingest(SF, store, plan.theme_codes, vocabularies=plan.vocabularies)
    prepared = claims.prepare(store, "2024-Q1", D, plan, today=dt.date(2024, 4, 2))
    assert prepared.by_route == {"ssp": 7} and prepared.total_pence == 7 * 80000
    result = reconcile(store, plan, 2022, today=dt.date(2024, 4, 2))
    expected = dict(result.summary.select("kind", "expected").iter_rows())
    assert expected["attachment"] == 0 and result.attachments.height == 16  # attached, eligible, no fee
    write_claim_workbook(store, prepared.ref, tmp_path / "claim.xlsx")
    summary = {row[0]: row[1] for row in openpyxl.load_workbook(tmp_path / "claim.xlsx")["Summary"].values}
    assert summary["Programme (money parameters)"] == "supporting-families-2022"
    assert summary["Results payment source"] == "Supporting Families 2022-2025 - results payment per family"


# ---- the milestones feed, end to end -------------------------------------------------------------------------
def test_the_keyworker_template_has_a_milestones_sheet_with_a_drop_down(tmp_path):
    import openpyxl

    from pbr.feeds.template import write_template

    plan = load_plan(SF / "plan.yaml")
    write_template(tmp_path / "t.xlsx", plan.theme_codes, codes=plan.vocabularies)
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx")["milestones"]
    assert [c.value for c in sheet[1]] == ["family_id", "milestone", "milestone_date"]
    [listing] = [dv for dv in sheet.data_validations.dataValidation if dv.type == "list"]
    assert listing.formula1 == '"' + ",".join(plan.vocabularies["milestone"]) + '"'


def test_a_keyworker_records_a_milestone_and_the_page_shows_it(tmp_path, sqlite_url):
    import re

    from pbr.context import AppContext
    from pbr.feeds.ingest import ingest
    from pbr.settings import Settings
    from pbr.store import Store
    from pbr.web.app import create_app
    from pbr.web.auth import add_user
    from web.support import PASSWORD, signed_in

    plan = load_plan(SF / "plan.yaml")
    store = Store(sqlite_url)
    ingest(SF, store, plan.theme_codes, vocabularies=plan.vocabularies)
    add_user(store, "kw", "keyworker", PASSWORD, None)
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE families SET keyworker_id = 'kw' WHERE family_id = 'S10'")
    ctx = AppContext.from_settings(Settings(database_url=sqlite_url, plan=str(SF / "plan.yaml")), store=store)
    client = signed_in(create_app(ctx, as_of=D, secret_key="s"), "kw")
    before = client.get("/families/S10")
    assert "family plan agreed is not recorded" in before.text and 'name="milestone"' in before.text
    saved = client.post(
        "/families/S10/records/milestones",
        data={"milestone": "family_plan_agreed", "milestone_date": "2023-01-05", "csrf_token": client.csrf},
    )
    assert saved.status_code == 303
    after = client.get("/families/S10")
    assert "Claimable: significant and sustained progress" in after.text
    assert re.search(r'<path class="milestone"[^>]*><title>family plan agreed 5 Jan 2023</title>', after.text)
    refused = client.post(
        "/families/S10/records/milestones",
        data={"milestone": "cup_of_tea", "milestone_date": "2023-01-05", "csrf_token": client.csrf},
    )
    assert refused.status_code == 422 and "is not a known code" in refused.text
