"""Each rule kind is registered once: every kind a plan may name can be evaluated, forecast and pictured."""

from __future__ import annotations

import datetime as dt

import polars as pl

from conftest import write_dataset
from pbr.engine.decide import decide
from pbr.engine.kinds import CRITERIA, MEASURES, check_registry
from pbr.engine.windows import windows_of
from pbr.feeds import read_dataset
from pbr.plan import parse_plan
from pbr.plan.kinds import ELIGIBILITY_KINDS, PROGRESS_KINDS

EXAMPLE_PARAMS = {  # the least each kind needs
    "recorded_indicator": {},
    "event_count": {"event_types": ["offence"], "min_count": 1},
    "episode_open": {"episode_types": ["cin"]},
    "attendance_below": {"min_absence_percent": 10, "terms": 3},
    "no_events": {"event_types": ["offence"], "months": 6},
    "events_reduced": {"event_types": ["offence"], "reduction_percent": 33, "months": 6},
    "no_episodes": {"episode_types": ["cin"], "months": 6},
    "attendance_sustained": {"max_absence_percent": 10, "terms": 3},
    "score_improved": {"tool": "family_star", "domain": "health", "min_improvement": 2, "months": 3},
}


def test_the_grammar_and_the_engine_know_the_same_kinds():
    assert check_registry() == []
    assert set(CRITERIA) == set(ELIGIBILITY_KINDS) and set(MEASURES) == set(PROGRESS_KINDS)
    assert set(EXAMPLE_PARAMS) == set(ELIGIBILITY_KINDS) | set(PROGRESS_KINDS)
    for name, kind in MEASURES.items():
        assert kind.grammar is PROGRESS_KINDS[name] and callable(kind.windows) and callable(kind.change_days)


def test_every_kind_the_grammar_accepts_is_evaluated_forecast_and_pictured(tmp_path):
    themes = {
        f"t_{kind}": {
            "eligibility": [{"kind": "recorded_indicator"}, {"kind": kind, **EXAMPLE_PARAMS[kind]}]
            if kind in ELIGIBILITY_KINDS
            else [{"kind": "recorded_indicator"}],
            "progress": [{"kind": kind, **EXAMPLE_PARAMS[kind]}] if kind in PROGRESS_KINDS else [],
        }
        for kind in EXAMPLE_PARAMS
    }
    plan = parse_plan({"name": "every kind", "min_themes": 1, "themes": themes})
    indicators = [{"person_id": "P1", "indicator": f"{code}.x", "identified_date": "2016-08-01"} for code in themes]
    data = write_dataset(
        tmp_path,
        families=[{"family_id": "F1", "attachment_date": "2016-09-01"}],
        members=[{"person_id": "P1", "family_id": "F1", "date_of_birth": "2008-01-01"}],
        indicators=indicators,
    )
    tables = read_dataset(data, plan.theme_codes).tables
    decided = decide(plan, tables, dt.date(2017, 10, 31))
    assert decided.decisions["themes_at_attachment"].to_list() == [";".join(themes)]
    measured = set(decided.detail["measure"].str.split(":").list.last())
    assert measured == set(PROGRESS_KINDS)
    assert decided.detail.filter(pl.col("evidence").is_null() | (pl.col("evidence") == "")).height == 0
    windows = windows_of(plan, tables, dt.date(2017, 10, 31))
    assert set(windows["measure"].str.split(":").list.last()) >= set(PROGRESS_KINDS) - {"score_improved"}
