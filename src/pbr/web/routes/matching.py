"""The coordinators' review of partner rows the matcher could not decide alone, and the families found in the rows
that matched nobody (matching.md). Identity is shown here only: the page is the coordinators'."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import text

from pbr import matching, services
from pbr.web.deps import WebState, allow, check_csrf, day_of, download, page, web

router = APIRouter()
REVIEW_PAGE_ROWS = 50
MARKS = {"agreed": "✓", "close": "≈", "disagreed": "✗", "missing": "–"}


def _by_source(state: WebState) -> list[dict]:
    found = state.ctx.store.read(
        text(
            "SELECT source, table_name, status, COUNT(*) AS n FROM partner_rows WHERE latest "
            "GROUP BY source, table_name, status ORDER BY source"
        )
    )
    summary: dict[str, dict] = {}
    for row in found.iter_rows(named=True):
        entry = summary.setdefault(row["source"], {"source": row["source"], "table": row["table_name"]})
        entry[row["status"]] = row["n"]
    return list(summary.values())


@router.get("/matching", response_class=HTMLResponse, include_in_schema=False)
def review_page(request: Request, user: dict = Depends(allow("review partner rows")), state: WebState = Depends(web)):
    source = request.query_params.get("source") or None
    queue = matching.review_queue(state.ctx.store, state.ctx.matching, source=source)
    return page(
        request,
        "matching.html",
        user,
        by_source=_by_source(state),
        source=source,
        queue=queue[:REVIEW_PAGE_ROWS],
        total=len(queue),
        limit=REVIEW_PAGE_ROWS,
        marks=MARKS,
        message=request.query_params.get("message"),
        error=request.query_params.get("error"),
    )


def _decided(fn, *args, source: str | None, done: str, **kwargs) -> RedirectResponse:
    back = f"/matching?source={quote(source)}&" if source else "/matching?"
    try:
        fn(*args, **kwargs)
    except matching.ReviewError as error:
        return RedirectResponse(f"{back}error={quote(str(error))}", status_code=303)
    return RedirectResponse(f"{back}message={quote(done)}", status_code=303)


def _version(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


@router.post("/matching/{row_id}/accept", dependencies=[Depends(check_csrf)], include_in_schema=False)
def accept_row(
    row_id: int,
    person_id: str = Form(..., max_length=100),
    version: str = Form(""),
    note: str = Form("", max_length=2000),
    source: str = Form(""),
    user: dict = Depends(allow("review partner rows")),
    state: WebState = Depends(web),
):
    return _decided(
        matching.accept,
        state.ctx.store,
        row_id,
        person_id,
        user["name"],
        note or None,
        version=_version(version),
        at=state.ctx.now(),
        source=source or None,
        done=f"row {row_id} linked to {person_id}",
    )


@router.post("/matching/{row_id}/reject", dependencies=[Depends(check_csrf)], include_in_schema=False)
def reject_row(
    row_id: int,
    version: str = Form(""),
    note: str = Form("", max_length=2000),
    source: str = Form(""),
    user: dict = Depends(allow("review partner rows")),
    state: WebState = Depends(web),
):
    return _decided(
        matching.reject,
        state.ctx.store,
        row_id,
        user["name"],
        note or None,
        version=_version(version),
        at=state.ctx.now(),
        source=source or None,
        done=f"row {row_id} rejected: it is unmatched",
    )


@router.get("/identified.xlsx", include_in_schema=False)
def identified_workbook(
    request: Request, user: dict = Depends(allow("review partner rows")), state: WebState = Depends(web)
):
    from pbr.matching.workbook import write_identification

    day = day_of(request)
    found = services.identify_households(state.ctx, day)
    return download(lambda path: write_identification(found, path, state.ctx.plan), f"identified-{day}.xlsx")
