"""Outcome plans and dated parameters: the shipped plan means the spec's plan; bad plans name the YAML path."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from conftest import ROOT, SPEC
from pbr.plan import PlanError, load_parameters, load_plan, parse_plan

SPEC_PLAN = SPEC / "outcome_plan.yaml"


def base() -> dict:
    return yaml.safe_load((ROOT / "schemas" / "outcome_plans" / "troubled-families-2015.yaml").read_text())


@pytest.mark.skipif(not SPEC_PLAN.exists(), reason="the shared spec is not beside the project")
def test_the_shipped_plan_means_the_same_as_the_spec_plan():
    shipped, spec = load_plan(), load_plan(SPEC_PLAN)
    assert shipped.themes == spec.themes
    assert shipped.benefit_rules == spec.benefit_rules
    assert (shipped.min_themes, shipped.require_dependent_child, shipped.eligibility_lookback_months) == (
        spec.min_themes,
        spec.require_dependent_child,
        spec.eligibility_lookback_months,
    )
    assert shipped.reference  # every parameter carries its source


def test_every_shipped_plan_loads_under_its_own_name_with_its_source():
    from pbr.resources import shipped_plans

    plans = shipped_plans()
    assert {"troubled-families-2015", "supporting-families-2022"} <= set(plans)
    for name, path in plans.items():
        plan = load_plan(name)
        assert plan.name == name and plan.sha256 == load_plan(path).sha256 and plan.reference


def test_a_file_beside_the_command_wins_over_a_shipped_plan_of_the_same_name(tmp_path, monkeypatch):
    own = base() | {"name": "ours"}
    (tmp_path / "supporting-families-2022").write_text(yaml.safe_dump(own))
    monkeypatch.chdir(tmp_path)
    assert load_plan("supporting-families-2022").name == "ours"


@pytest.mark.parametrize(
    "change,message",
    [
        (
            lambda p: p["themes"]["education"]["progress"][0].update(terms=0),
            "themes.education.progress[0].terms: must be a whole number >= 1",
        ),
        (
            lambda p: p["themes"]["education"]["progress"][0].update(terms="three"),
            "themes.education.progress[0].terms: must be a whole number >= 1",
        ),
        (
            lambda p: p["themes"]["crime_asb"]["progress"][1].update(kind="no_offences"),
            "themes.crime_asb.progress[1].kind: unknown kind 'no_offences'",
        ),
        (
            lambda p: p["themes"]["crime_asb"]["progress"][0].pop("months"),
            "themes.crime_asb.progress[0].months: missing (required by kind events_reduced)",
        ),
        (
            lambda p: p["themes"]["crime_asb"]["eligibility"][1].update(event_types=["burglary"]),
            "themes.crime_asb.eligibility[1].event_types: unknown event_type burglary",
        ),
        (
            lambda p: p["themes"]["children_need_help"]["progress"][0].update(episode_types=["cin", "jail"]),
            "themes.children_need_help.progress[0].episode_types: unknown episode_type jail",
        ),
        (
            lambda p: p["themes"]["education"]["progress"][0].update(scope="street"),
            "themes.education.progress[0].scope: must be one of family, flagged",
        ),
        (
            lambda p: p["themes"]["crime_asb"]["progress"][0].update(reduction_percent=150),
            "themes.crime_asb.progress[0].reduction_percent: must be a number from 0 to 100",
        ),
        (
            lambda p: p["themes"]["health"]["progress"][0].update(colour="red"),
            "themes.health.progress[0]: unknown parameter colour",
        ),
        (
            lambda p: p["continuous_employment"]["benefit_types"].update(
                pension={"weeks_employed": 1, "within_weeks": 1}
            ),
            "continuous_employment.benefit_types.pension: unknown episode type 'pension'",
        ),
        (
            lambda p: p["continuous_employment"]["benefit_types"]["jsa"].update(within_weeks=20),
            "continuous_employment.benefit_types.jsa.within_weeks: must be at least weeks_employed (26)",
        ),
        (lambda p: p.update(min_themes=7), "min_themes: 7 is more than the plan's 6 themes"),
        (
            lambda p: p["themes"].update({"housing.bad": {"eligibility": [{"kind": "recorded_indicator"}]}}),
            "themes.housing.bad: a theme code is 1 to 40 letters, digits, _ or -",
        ),
        (
            lambda p: p["themes"].update({"housing;debt": {"eligibility": [{"kind": "recorded_indicator"}]}}),
            "themes.housing;debt: a theme code is 1 to 40 letters",
        ),  # lists of themes are joined by ';'
        (
            lambda p: p["themes"].update(
                {f"{'x' * 38}{i:02d}": {"eligibility": [{"kind": "recorded_indicator"}]} for i in range(6)}
            ),
            "themes: the theme codes take 319 characters when listed, and a claim line holds 300: use shorter codes",
        ),
        (lambda p: p.update(name="x" * 201), "name: must be 1 to 200 characters, as a claim records it"),
        (lambda p: p.update(name=" "), "name: must be 1 to 200 characters"),
    ],
)
def test_a_bad_plan_is_refused_with_its_yaml_path(change, message):
    from pbr.plan.model import PLAN_NAME_MAX, THEMES_LISTED_MAX
    from pbr.store.models import Claim, ClaimLine

    assert ClaimLine.__table__.c.themes_at_attachment.type.length == THEMES_LISTED_MAX
    assert Claim.__table__.c.plan_name.type.length == PLAN_NAME_MAX
    plan = base()
    change(plan)
    with pytest.raises(PlanError) as error:
        parse_plan(plan)
    assert message in str(error.value)


def test_a_plan_that_is_not_yaml_is_refused(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("themes: [unclosed")
    with pytest.raises(PlanError, match="not valid YAML"):
        load_plan(path)
    path.write_text("name: p\nreference: agreed 2017-02-30\ndecided: 2017-02-30\n")  # PyYAML reads that as a date
    with pytest.raises(PlanError, match=r"plan.yaml: not valid YAML: a date that does not exist \(day is out of range"):
        load_plan(path)
    path.write_bytes(load_plan().text.encode("utf-16"))
    with pytest.raises(PlanError, match=r"plan\.yaml: not UTF-8 text: save the plan as UTF-8"):
        load_plan(path)
    money = tmp_path / "money.yaml"
    money.write_text("fee:\n  reference: a council letter\n  values:\n    2015-02-30: 100000\n")
    with pytest.raises(PlanError, match=r"money\.yaml: a date that does not exist"):
        load_parameters(money)


def test_a_council_changes_a_threshold_in_data_not_code(tmp_path):
    plan = base()
    plan["themes"]["crime_asb"]["progress"][0]["reduction_percent"] = 50
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    loaded = load_plan(path)
    assert loaded.theme("crime_asb").progress[0]["reduction_percent"] == 50
    assert loaded.sha256 != load_plan().sha256


def test_dated_parameters_are_looked_up_by_date_and_carry_their_source(tmp_path):
    params = load_parameters().money()
    fee = params["attachment_fee_pence"]
    assert fee.reference and fee.at(dt.date(2017, 1, 1)) == 100000
    assert params["results_payment_pence"].at(dt.date(2015, 4, 1)) == 80000
    with pytest.raises(PlanError, match="no value in force on 2015-03-31"):
        fee.at(dt.date(2015, 3, 31))
    path = tmp_path / "money.yaml"
    result = "results_payment_pence:\n  reference: a council letter\n  values: {2015-04-01: 80000}\n"
    path.write_text(
        "attachment_fee_pence:\n  reference: a council letter\n  values:\n    2015-04-01: 100000\n"
        "    2017-10-01: 90000\n" + result
    )
    changed = load_parameters(path).money()["attachment_fee_pence"]
    assert (changed.at(dt.date(2017, 9, 30)), changed.at(dt.date(2017, 10, 1))) == (100000, 90000)
    path.write_text("fee:\n  values:\n    2015-04-01: 1.5\n")
    with pytest.raises(PlanError, match=r"fee\.reference"):
        load_parameters(path)
    path.write_text(result)
    with pytest.raises(PlanError, match=r"money\.yaml: missing attachment_fee_pence"):
        load_parameters(path)
    path.write_text(result + "attachment_fee_pence:\n  reference: a council letter\n  values: {}\n")
    with pytest.raises(PlanError, match=r"attachment_fee_pence\.values: give at least one date and value"):
        load_parameters(path)
