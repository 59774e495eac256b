"""Finance: the reconciliation and the claims' money, and the returns and reports as workbooks."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

import pbr.claims as claims
from pbr import services
from pbr.evaluate import write_evaluation_workbook
from pbr.returns import ReturnError
from pbr.web.deps import WebState, allow, day_of, download, page, web

router = APIRouter()


def period(request: Request) -> tuple[dt.date, str, int]:
    """The day, quarter and financial year a page or report is for (from the address, else the day's)."""
    day = day_of(request)
    quarter, year = services.period_of_request(
        day, request.query_params.get("quarter"), request.query_params.get("year")
    )
    return day, quarter, year


@router.get("/finance", response_class=HTMLResponse, include_in_schema=False)
def finance(request: Request, user: dict = Depends(allow("see finance")), state: WebState = Depends(web)):
    day, _, year = period(request)
    result = services.reconciliation(state.ctx, year, day=day)
    return page(
        request,
        "finance.html",
        user,
        year=year,
        summary=result.summary.to_dicts(),
        by_claim=result.by_claim.to_dicts(),
        unallocated=result.unallocated.to_dicts(),
        bridge=result.bridge.to_dicts(),
        variance=result.variance,
        claims=claims.claims_frame(state.ctx.store).to_dicts(),
    )


def _report(write, name: str):
    try:
        return download(write, name)
    except ReturnError as error:
        raise HTTPException(400, str(error)) from None


@router.get("/reports/reconciliation.xlsx", include_in_schema=False)
def reconciliation_download(
    request: Request, user: dict = Depends(allow("see finance")), state: WebState = Depends(web)
):
    day, _, year = period(request)
    return _report(lambda path: services.write_reconciliation(state.ctx, year, path, day=day), "reconciliation.xlsx")


@router.get("/reports/progress-return.xlsx", include_in_schema=False)
def progress_return_download(
    request: Request, user: dict = Depends(allow("download returns")), state: WebState = Depends(web)
):
    _, quarter, _ = period(request)
    return _report(lambda path: services.write_progress_return(state.ctx, quarter, path), "progress-return.xlsx")


@router.get("/reports/outcomes.xlsx", include_in_schema=False)
def outcomes_download(
    request: Request, user: dict = Depends(allow("download returns")), state: WebState = Depends(web)
):
    _, quarter, _ = period(request)
    return _report(lambda path: services.write_outcomes_report(state.ctx, quarter, path), "outcomes.xlsx")


@router.get("/reports/decisions.xlsx", include_in_schema=False)
def decisions_download(
    request: Request, user: dict = Depends(allow("download returns")), state: WebState = Depends(web)
):
    day = day_of(request)
    return _report(
        lambda path: write_evaluation_workbook(state.decisions(day), path, state.ctx.council), "decisions.xlsx"
    )


@router.get("/reports/impact-study.xlsx", include_in_schema=False)
def impact_study_download(
    request: Request, user: dict = Depends(allow("download personal data")), state: WebState = Depends(web)
):
    _, _, year = period(request)
    try:
        start = dt.date.fromisoformat(request.query_params.get("from") or f"{year}-04-01")
        end = dt.date.fromisoformat(request.query_params.get("to") or f"{year + 1}-03-31")
    except ValueError:
        raise HTTPException(400, "from and to are dates written YYYY-MM-DD") from None
    return _report(
        lambda path: services.write_impact_study_return(state.ctx, start, end, path, actor=user["name"]),
        "impact-study.xlsx",
    )
