"""Families and their records: the list, a family's page, and the forms that record outcomes."""

from __future__ import annotations

import datetime as dt

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from pbr.casefile import family_case
from pbr.contract import contracts
from pbr.engine.reasons import ROUTE_WORDS
from pbr.engine.status import with_status
from pbr.services import FORM_TABLES, record_for_family
from pbr.snapshots import SnapshotError, changes
from pbr.store.models import Family, Member
from pbr.web import charts
from pbr.web.deps import WebState, allow, check_csrf, day_of, page, web
from pbr.web.listing import listing
from pbr.web.permissions import can

router = APIRouter()


def families_of(state: WebState, user: dict) -> pl.DataFrame:
    """The families a user sees: a keyworker's own, everyone's for the other roles; with `names` (its members'
    family names) for the roles that may see names."""
    table = Family.__table__
    query = select(table.c.family_id, table.c.attachment_date, table.c.keyworker_id)
    if user["role"] == "keyworker":
        query = query.where(table.c.keyworker_id == user["keyworker_id"])
    found = state.ctx.store.read(
        query, schema={"family_id": pl.String, "attachment_date": pl.Date, "keyworker_id": pl.String}
    )
    if not can(user, "see names"):
        return found
    members = Member.__table__
    names = (
        state.ctx.store.read(
            select(members.c.family_id, members.c.given_name, members.c.family_name),
            schema={"family_id": pl.String, "given_name": pl.String, "family_name": pl.String},
        )
        .filter(pl.col("family_name").is_not_null())
        .group_by("family_id")
        .agg(pl.col("family_name").unique().sort().str.join(" / ").alias("names"))
    )
    return found.join(names, on="family_id", how="left")


def latest_changes(state: WebState):
    """What the two latest nightly snapshots say changed; None before there are two."""
    try:
        return changes(state.ctx.store)
    except SnapshotError:
        return None


@router.get("/families", response_class=HTMLResponse, include_in_schema=False)
def family_list(request: Request, user: dict = Depends(allow("see families")), state: WebState = Depends(web)):
    day = day_of(request)
    mine = families_of(state, user)
    rows = with_status(state.decisions(day).decisions).join(mine.select("family_id", "keyworker_id"), on="family_id")
    rows = rows.join(mine.select("family_id", *(["names"] if "names" in mine.columns else [])), on="family_id")
    latest = latest_changes(state)
    if latest is not None:
        rows = rows.join(latest.families.select("family_id", "change"), on="family_id", how="left")
    shown = listing(request, rows.sort("family_id"), ["family_id", "names", "keyworker_id"])
    return page(request, "families.html", user, listing=shown, latest=latest, titles=_titles(state))


def _choices(state: WebState) -> dict[str, list[tuple[str, str]]]:
    """What the record forms offer: the plan's themes for an indicator, with those recorded already; the tools and
    domains the code lists, the plan and the records name. A value not offered can still be typed."""
    from sqlalchemy import text

    store, plan = state.ctx.store, state.ctx.plan
    recorded = store.read(
        text("SELECT DISTINCT indicator FROM indicators ORDER BY indicator LIMIT 300"), schema={"indicator": pl.String}
    )["indicator"].to_list()
    assessed = store.read(
        text("SELECT DISTINCT tool, domain FROM assessments"), schema={"tool": pl.String, "domain": pl.String}
    )
    rules = [rule for theme in plan.themes for rule in theme.progress if rule.kind == "score_improved"]
    tools = {*state.ctx.vocabularies.get("assessment_tools", {}), *(r["tool"] for r in rules), *assessed["tool"]}
    domains = {*(r["domain"] for r in rules), *assessed["domain"]}
    themes = [(f"{theme.code}.", theme.title) for theme in plan.themes]
    return {
        "indicator": themes + [(value, "recorded before") for value in recorded],
        "tool": [(tool, "") for tool in sorted(tools)],
        "domain": [(domain, domain.replace("_", " ")) for domain in sorted(domains)],
    }


def _titles(state: WebState) -> dict[str, str]:
    return {theme.code: theme.title for theme in state.ctx.plan.themes}


def _claimed_lines(state: WebState, family_id: str) -> list[dict]:
    """The claims the family has a line in, for links to its evidence packs."""
    from sqlalchemy import text

    found = state.ctx.store.read(
        text(
            "SELECT l.claim_ref, l.claim_route, l.status, c.evidence_date FROM claim_lines l "
            "JOIN claims c ON c.ref = l.claim_ref WHERE l.family_id = :family ORDER BY c.evidence_date"
        ).bindparams(family=family_id),
        schema={"claim_ref": pl.String, "claim_route": pl.String, "status": pl.String, "evidence_date": pl.Date},
    )
    return found.to_dicts()


def family_context(state: WebState, user: dict, family_id: str, day: dt.date) -> dict:
    family = state.family(user, family_id, "see families")
    case = family_case(state.ctx.store, state.ctx.plan, state.decisions(day), family_id, day, family)
    attached = family["attachment_date"]
    timeline_start = min(
        [attached - dt.timedelta(days=365)]
        + [e["event_date"] for e in case.events]
        + [e["start_date"] for e in case.episodes]
    )
    shaded = [(f"{w['theme']} {w['measure']}: {w['what']}", w["start"], w["end"]) for w in case.windows]
    bars = [
        {"person_id": r["person_id"], "term_id": r["term_id"], "percent": 100 * r["absent"] / r["possible"]}
        for r in case.attendance
    ]
    return {
        "family": family,
        "decision": case.decision,
        "detail": case.detail,
        "members": case.members,
        "records": case.records,
        "people": case.people,
        "held": case.held,
        "timeline": charts.timeline(
            timeline_start,
            max(day, attached),
            attached,
            case.people,
            case.events,
            case.episodes,
            shaded,
            closed=case.closed,
            milestones=case.milestones,
        ),
        "attendance": charts.attendance_bars(bars),
        "claimed_lines": _claimed_lines(state, family_id),
        "titles": _titles(state),
        "route_words": ROUTE_WORDS,
        "choices": _choices(state),
        "vocab": state.ctx.vocabularies,
        "themes": state.ctx.plan.theme_codes,
        "errors": {},
        "form_table": None,
        "values": {},
    }


@router.get("/families/{family_id}", response_class=HTMLResponse, include_in_schema=False)
def family_page(
    request: Request, family_id: str, user: dict = Depends(allow("see families")), state: WebState = Depends(web)
):
    return page(request, "family.html", user, **family_context(state, user, family_id, day_of(request)))


def record(state: WebState, user: dict, family_id: str, table: str, values: dict) -> dict[str, str]:
    """A record typed in for a family the user may record for; the errors by field, or none when saved."""
    if table not in FORM_TABLES:
        raise HTTPException(404, f"no form for {table}")
    family = state.family(user, family_id, "record outcomes")
    return record_for_family(state.ctx, user["name"], family, table, values)


@router.post(
    "/families/{family_id}/records/{table}",
    response_class=HTMLResponse,
    dependencies=[Depends(check_csrf)],
    include_in_schema=False,
)
async def record_form(
    request: Request,
    family_id: str,
    table: str,
    user: dict = Depends(allow("record outcomes")),
    state: WebState = Depends(web),
):
    form = await request.form()
    values = {c: str(form.get(c, "")).strip() for c in contracts().get(table, contracts()["events"]).columns}
    errors = record(state, user, family_id, table, values)
    if errors:
        context = family_context(state, user, family_id, day_of(request))
        context.update(errors=errors, form_table=table, values=values)
        return page(request, "family.html", user, status_code=422, **context)
    suffix = f"?as_of={request.query_params['as_of']}" if "as_of" in request.query_params else ""
    return RedirectResponse(f"/families/{family_id}{suffix}", status_code=303)
