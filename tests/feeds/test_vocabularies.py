"""A council's own code lists (PBR_VOCABULARIES / `pbr --vocabularies`): added to the shipped lists, used by
plans, validation and the keyworker template alike; a bad file is refused naming the entry."""

from __future__ import annotations

import csv

import openpyxl
import pytest
import yaml

from conftest import run_pbr, write_dataset
from pbr.resources import VocabularyError, vocabularies
from pbr.settings import VOCABULARIES_ENV, Settings

GANG = {
    "reference": "Council outcome plan 2019, annex B",
    "event_type": ["gang_incident"],
    "assessment_tools": {"outcome_star": {"min": 1, "max": 5}},
}


def write_yaml(path, body) -> str:
    path.write_text(yaml.safe_dump(body))
    return str(path)


def gang_plan(folder) -> str:
    themes = {
        "crime": {
            "eligibility": [{"kind": "event_count", "event_types": ["gang_incident"], "min_count": 1}],
            "progress": [{"kind": "no_events", "event_types": ["gang_incident"], "months": 6}],
        }
    }
    return write_yaml(
        folder / "plan.yaml",
        {
            "name": "gang-plan",
            "min_themes": 1,
            "require_dependent_child": False,
            "eligibility_lookback_months": 12,
            "themes": themes,
        },
    )


def gang_data(folder):
    return write_dataset(
        folder,
        families=[{"family_id": "F1", "attachment_date": "2016-09-01"}],
        members=[{"person_id": "F1-P1", "family_id": "F1", "date_of_birth": "1998-01-01"}],
        events=[{"person_id": "F1-P1", "event_type": "gang_incident", "event_date": "2016-05-01"}],
        assessments=[
            {
                "family_id": "F1",
                "tool": "outcome_star",
                "domain": "health",
                "assessment_date": "2016-09-01",
                "score": "6",
            }
        ],
    )


def test_a_council_file_adds_codes_and_keeps_the_shipped_ones(tmp_path):
    shipped = vocabularies()
    merged = vocabularies(write_yaml(tmp_path / "v.yaml", {**GANG, "episode_type": ["cin", "yot"]}))
    assert merged["event_type"] == shipped["event_type"] + ["gang_incident"]
    assert merged["episode_type"] == shipped["episode_type"] + ["yot"]  # cin is not listed twice
    assert merged["assessment_tools"] == {**shipped["assessment_tools"], "outcome_star": {"min": 1, "max": 5}}
    assert merged["sex"] == shipped["sex"]
    assert merged["reference"].endswith("Council outcome plan 2019, annex B")
    assert vocabularies() == shipped
    assert Settings.from_environ({VOCABULARIES_ENV: str(tmp_path / "v.yaml")}).vocabularies == str(tmp_path / "v.yaml")


@pytest.mark.parametrize(
    "body,message",
    [
        (
            {"sex": ["Q"]},
            "sex: not a code list a council can extend (one of event_type, episode_type, assessment_tools)",
        ),
        ({"event_type": ["gang incident"]}, "event_type: must be a list of codes of up to 50 letters, digits, _ and -"),
        ({"episode_type": ["x" * 51]}, "episode_type: must be a list of codes of up to 50"),  # what the database holds
        ({"event_type": "gang_incident"}, "event_type: must be a list of codes"),
        (
            {"assessment_tools": {"outcome_star": {"min": 10, "max": 1}}},
            "assessment_tools.outcome_star: must give whole numbers min and max, with min <= max",
        ),
        (["gang_incident"], "must be a mapping of code lists"),
    ],
)
def test_a_bad_council_file_is_refused_naming_the_entry(tmp_path, body, message):
    with pytest.raises(VocabularyError) as error:
        vocabularies(write_yaml(tmp_path / "v.yaml", body))
    assert message in str(error.value)
    assert str(tmp_path / "v.yaml") in str(error.value)


def test_plan_and_records_with_a_council_code_need_the_council_file(tmp_path):
    plan, data, out = gang_plan(tmp_path), gang_data(tmp_path / "data"), tmp_path / "decisions.csv"
    args = ("evaluate", "--data", str(data), "--as-of", "2017-06-01", "--out", str(out), "--plan", plan)

    refused = run_pbr(*args, env={VOCABULARIES_ENV: ""})
    assert refused.returncode == 2
    assert "themes.crime.eligibility[0].event_types: unknown event_type gang_incident" in refused.stderr

    extension = write_yaml(tmp_path / "council.yaml", GANG)
    run_pbr("--vocabularies", extension, *args, check=True)
    with open(out, newline="", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    # the gang incident counts; the outcome_star score of 6 is outside the council's scale of 1 to 5
    assert (row["themes_at_attachment"], row["eligible"], row["quarantined_records"]) == ("crime", "true", "1")

    # the shipped plan with the shipped lists: the same records are held, naming the unknown codes
    run_pbr("--db", f"sqlite:///{tmp_path / 'shipped.db'}", "ingest", str(data), env={VOCABULARIES_ENV: ""}, check=True)
    listing = run_pbr(
        "--db", f"sqlite:///{tmp_path / 'shipped.db'}", "quarantine", env={VOCABULARIES_ENV: ""}, check=True
    ).stdout
    assert "'gang_incident' is not a known code" in listing
    assert "outside the scale" not in listing  # an unlisted tool has no scale check

    # with the council file, the outcome_star scale of 1 to 5 is checked
    run_pbr(
        "--db",
        f"sqlite:///{tmp_path / 'council.db'}",
        "ingest",
        str(data),
        env={VOCABULARIES_ENV: extension},
        check=True,
    )
    listing = run_pbr(
        "--db", f"sqlite:///{tmp_path / 'council.db'}", "quarantine", env={VOCABULARIES_ENV: extension}, check=True
    ).stdout
    assert "score 6 is outside the scale of outcome_star (1 to 5)" in listing
    assert "gang_incident" not in listing


def test_a_bad_council_file_stops_the_command_with_one_line(tmp_path):
    bad = write_yaml(tmp_path / "council.yaml", {"grant_kind": ["bonus"]})
    result = run_pbr("--vocabularies", bad, "evaluate", "--data", str(tmp_path), "--out", str(tmp_path / "d.csv"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "grant_kind: not a code list a council can extend" in lines[0]
    missing = run_pbr("--vocabularies", str(tmp_path / "nowhere.yaml"), "evaluate", "--data", str(tmp_path))
    assert missing.returncode == 2 and "cannot be read" in missing.stderr


def test_the_template_lists_a_long_council_list_on_a_hidden_sheet(tmp_path):
    many = [f"council_event_{i:02d}" for i in range(20)]
    extension = write_yaml(tmp_path / "council.yaml", {"event_type": many})
    template = tmp_path / "template.xlsx"
    run_pbr("template", "--out", str(template), env={VOCABULARIES_ENV: extension}, check=True)
    book = openpyxl.load_workbook(template)
    codes = book["codes"]
    assert codes.sheet_state == "hidden"
    column = [c.value for c in next(col for col in codes.iter_cols() if col[0].value == "event_type")]
    assert column[1:] == vocabularies()["event_type"] + many
    events = book["events"]
    listing = next(dv for dv in events.data_validations.dataValidation if dv.type == "list")
    letter = openpyxl.utils.get_column_letter([c[0].value for c in codes.iter_cols()].index("event_type") + 1)
    assert listing.formula1 == f"codes!${letter}$2:${letter}${len(column)}"
    episode_list = next(dv for dv in book["episodes"].data_validations.dataValidation if dv.type == "list")
    assert episode_list.formula1 == '"' + ",".join(vocabularies()["episode_type"]) + '"'  # short lists stay inline
