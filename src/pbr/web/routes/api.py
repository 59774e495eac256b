"""The JSON API: families and their decisions, and recording a family's records, for other systems.

Every answer has a model, so `/openapi.json` describes what each route returns, refusals included.
"""

from __future__ import annotations

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from pbr.engine.status import with_status
from pbr.web.deps import WebState, allow, check_csrf, day_of, jsonable, web
from pbr.web.routes.families import families_of, record


class Refusal(BaseModel):
    detail: str


class Decision(BaseModel):
    """One family's decision on the day asked (outputs.md, the decisions file), and where it stands."""

    family_id: str
    attachment_date: str
    eligible: bool
    themes_at_attachment: str
    themes_progress_met: str
    ssp_met: bool
    ce_met: bool
    claimable: bool
    claim_route: str
    reason: str
    earliest_claimable_date: str | None
    quarantined_records: int
    claimed_in: str
    themes_emerged: str = ""
    status: str


class Evidence(BaseModel):
    family_id: str
    theme: str
    measure: str
    met: bool
    evidence: str
    flagged_members: str | None
    reference: str | None


class FamilyDecision(BaseModel):
    decision: Decision | None
    evidence: list[Evidence]


class Saved(BaseModel):
    saved: bool


class FieldErrors(BaseModel):
    errors: dict[str, str]


REFUSALS = {401: {"model": Refusal}, 403: {"model": Refusal}, 404: {"model": Refusal}, 400: {"model": Refusal}}
router = APIRouter(prefix="/api", responses=REFUSALS)


@router.get("/families", response_model=list[Decision])
def api_families(request: Request, user: dict = Depends(allow("see families")), state: WebState = Depends(web)):
    """Every family the user sees, with its decision and status on the day asked (`as_of`)."""
    rows = with_status(state.decisions(day_of(request)).decisions).join(
        families_of(state, user).select("family_id"), on="family_id"
    )
    return [jsonable(r) for r in rows.to_dicts()]


@router.get("/families/{family_id}", response_model=FamilyDecision)
def api_family(
    request: Request, family_id: str, user: dict = Depends(allow("see families")), state: WebState = Depends(web)
):
    """One family's decision and the evidence of every measure."""
    state.family(user, family_id, "see families")
    evaluation = state.decisions(day_of(request))
    decision = with_status(evaluation.decisions).filter(pl.col("family_id") == family_id).to_dicts()
    detail = evaluation.detail.filter(pl.col("family_id") == family_id).to_dicts()
    return {"decision": jsonable(decision[0]) if decision else None, "evidence": [jsonable(d) for d in detail]}


@router.post(
    "/families/{family_id}/{table}",
    dependencies=[Depends(check_csrf)],
    status_code=201,
    response_model=Saved,
    responses={422: {"model": FieldErrors}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "the record's columns (feeds.md) and their values as text; the family's id is the path's",
            "content": {
                "application/json": {"schema": {"type": "object", "additionalProperties": {"type": ["string", "null"]}}}
            },
        }
    },
)
async def api_record(
    request: Request,
    family_id: str,
    table: str,
    user: dict = Depends(allow("record outcomes")),
    state: WebState = Depends(web),
):
    """Record one of a family's records, sent as a JSON object; the errors by field when it is refused."""
    try:
        body = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        body = None
    if not isinstance(body, dict):
        raise HTTPException(400, "send one record as a JSON object")
    errors = record(state, user, family_id, table, {k: "" if v is None else str(v) for k, v in body.items()})
    if errors:
        return JSONResponse({"errors": errors}, status_code=422)
    return {"saved": True}
