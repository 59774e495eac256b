"""One family's file on a day: its decision and evidence, its records, the windows its measures look at and what
is held in quarantine. The family page and `pbr explain` read it; what they show comes from here only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from pbr.engine.status import with_status
from pbr.evaluate import Evaluation
from pbr.plan import Plan
from pbr.store import Store


@dataclass
class FamilyCase:
    family: dict
    decision: dict | None
    detail: list[dict]
    members: list[dict]
    events: list[dict]
    episodes: list[dict]
    records: list[dict]  # every dated record, newest first: date, what, who
    attendance: list[dict]  # person_id, term_id, term_end, absent, possible
    milestones: list[dict]  # milestone, milestone_date: the way of working on file
    windows: list[dict]  # theme, measure, what, start, end
    held: list[dict] = field(default_factory=list)
    closed: dt.date | None = None  # the case's closure as known on the day

    @property
    def people(self) -> list[str]:
        return [m["person_id"] for m in self.members]


def _score(value) -> str:
    return str(value).rstrip("0").rstrip(".") if "." in str(value) else str(value)


def _records(tables: dict[str, pl.DataFrame]) -> list[dict]:
    events = [
        {"date": e["event_date"], "what": e["event_type"], "who": e["person_id"]}
        for e in tables["events"].iter_rows(named=True)
    ]
    episodes = [
        {"date": e["start_date"], "what": f"{e['episode_type']} until {e['end_date'] or 'open'}", "who": e["person_id"]}
        for e in tables["episodes"].iter_rows(named=True)
    ]
    indicators = [
        {"date": i["identified_date"], "what": i["indicator"], "who": i["person_id"]}
        for i in tables["indicators"].iter_rows(named=True)
    ]
    milestones = [
        {"date": m["milestone_date"], "what": m["milestone"].replace("_", " "), "who": "family"}
        for m in tables["milestones"].iter_rows(named=True)
    ]
    assessments = [
        {"date": a["assessment_date"], "who": "family", "what": f"{a['tool']} {a['domain']} score {_score(a['score'])}"}
        for a in tables["assessments"].iter_rows(named=True)
    ]
    return sorted(events + episodes + indicators + assessments + milestones, key=lambda r: r["date"], reverse=True)


def family_case(
    store: Store, plan: Plan, evaluation: Evaluation, family_id: str, day: dt.date, family: dict
) -> FamilyCase:
    """The file of one family the caller may see (`family` is its stored row)."""
    decision = with_status(evaluation.decisions).filter(pl.col("family_id") == family_id).to_dicts()
    detail = evaluation.detail.filter(pl.col("family_id") == family_id).to_dicts()
    tables = store.load_tables(family_id)
    attendance = (
        tables["attendance"]
        .join(tables["terms"].select("term_id", pl.col("end_date").alias("term_end")), on="term_id")
        .sort("term_end", "person_id")
    )
    windows = evaluation.decided.windows.filter(pl.col("family_id") == family_id)
    closed = family["closure_date"] if family["closure_date"] and family["closure_date"] <= day else None
    return FamilyCase(
        family=family,
        decision=decision[0] if decision else None,
        detail=detail,
        members=tables["members"].select("person_id", "given_name", "family_name", "date_of_birth", "sex").to_dicts(),
        events=tables["events"].sort("event_date").to_dicts(),
        episodes=tables["episodes"].sort("start_date").to_dicts(),
        records=_records(tables),
        attendance=attendance.select(
            "person_id",
            "term_id",
            "term_end",
            (pl.col("authorised_absence") + pl.col("unauthorised_absence")).alias("absent"),
            pl.col("possible_sessions").alias("possible"),
        ).to_dicts(),
        milestones=tables["milestones"].sort("milestone_date").select("milestone", "milestone_date").to_dicts(),
        windows=windows.drop("family_id").to_dicts(),
        held=store.quarantine_frame(family_id).to_dicts(),
        closed=closed,
    )
