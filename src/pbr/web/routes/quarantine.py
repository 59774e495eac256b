"""What is held in quarantine, by file, with a workbook of each sender's bad rows to send back."""

from __future__ import annotations

import re

import polars as pl
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from pbr.engine.status import with_status
from pbr.web.deps import WebState, allow, day_of, download, page, web
from pbr.web.listing import listing

router = APIRouter()


@router.get("/quarantine", response_class=HTMLResponse, include_in_schema=False)
def quarantine_page(request: Request, user: dict = Depends(allow("see quarantine")), state: WebState = Depends(web)):
    store = state.ctx.store
    source = request.query_params.get("source") or None
    everything = store.quarantine_frame()
    by_source = (
        everything.group_by("source", "table")
        .agg(pl.len().alias("rows"), pl.col("family_id").drop_nulls().n_unique().alias("families"))
        .sort("source")
    )
    shown = (store.quarantine_frame(source=source) if source else everything).sort("source", "row")
    held = with_status(state.decisions(day_of(request)).decisions).filter(pl.col("status") == "held").height
    return page(
        request,
        "quarantine.html",
        user,
        by_source=by_source.to_dicts(),
        source=source,
        listing=listing(request, shown, ["source", "reason", "family_id", "column"]),
        total=shown.height,
        held=held,
    )


@router.get("/quarantine.xlsx", include_in_schema=False)
def quarantine_download(
    request: Request, user: dict = Depends(allow("see quarantine")), state: WebState = Depends(web)
):
    from pbr.workbooks import write_streamed

    source = request.query_params.get("source") or None
    # the name comes from the query: only letters, digits, - and _ reach the file system
    name = f"quarantine-{re.sub(r'[^A-Za-z0-9_-]+', '-', source)}.xlsx" if source else "quarantine.xlsx"
    held = state.ctx.store.quarantine_frame(source=source).sort("source", "row")
    return download(lambda path: write_streamed(path, {"Quarantine": held}), name)
