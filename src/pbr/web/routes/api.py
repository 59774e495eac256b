"""The JSON API: families and their decisions, and recording a family's records, for other systems."""

from __future__ import annotations

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from pbr.engine.status import with_status
from pbr.web.deps import WebState, allow, check_csrf, day_of, jsonable, web
from pbr.web.routes.families import families_of, record

router = APIRouter(prefix="/api")


@router.get("/families")
def api_families(request: Request, user: dict = Depends(allow("see families")), state: WebState = Depends(web)):
    """Every family the user sees, with its decision and status on the day asked (`as_of`)."""
    rows = with_status(state.decisions(day_of(request)).decisions).join(
        families_of(state, user).select("family_id"), on="family_id"
    )
    return [jsonable(r) for r in rows.to_dicts()]


@router.get("/families/{family_id}")
def api_family(
    request: Request, family_id: str, user: dict = Depends(allow("see families")), state: WebState = Depends(web)
):
    """One family's decision and the evidence of every measure."""
    state.family(user, family_id, "see families")
    evaluation = state.decisions(day_of(request))
    decision = with_status(evaluation.decisions).filter(pl.col("family_id") == family_id).to_dicts()
    detail = evaluation.detail.filter(pl.col("family_id") == family_id).to_dicts()
    return {"decision": jsonable(decision[0]) if decision else None, "evidence": [jsonable(d) for d in detail]}


@router.post("/families/{family_id}/{table}", dependencies=[Depends(check_csrf)])
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
    return JSONResponse({"saved": True}, status_code=201)
