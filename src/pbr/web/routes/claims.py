"""Claims: the list and one claim's page, and every step of its lifecycle through the same claim rules as the CLI."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import polars as pl
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

import pbr.claims as claims
from pbr import services
from pbr.engine.reasons import ROUTE_WORDS
from pbr.web.deps import WebState, allow, check_csrf, download, page, web
from pbr.web.listing import listing

router = APIRouter()


@router.get("/claims", response_class=HTMLResponse, include_in_schema=False)
def claim_list(request: Request, user: dict = Depends(allow("see claims")), state: WebState = Depends(web)):
    store = state.ctx.store
    frame = claims.claims_frame(store)
    selected = request.query_params.get("ref") or (frame["ref"][-1] if frame.height else None)
    try:
        detail = claims.claim_detail(store, selected) if selected else None
    except claims.ClaimError as error:
        raise HTTPException(404, str(error)) from None
    return page(
        request,
        "claims.html",
        user,
        claims=frame.to_dicts(),
        selected=selected,
        claim=detail[0] if detail else None,
        lines=detail[1] if detail else [],
        line_listing=listing(
            request, pl.DataFrame(detail[1] if detail else [], infer_schema_length=None), ["family_id"]
        ),
        held=detail[2] if detail else [],
        log=claims.audit_log(store, selected) if selected else [],
        error=request.query_params.get("error"),
        route_words=ROUTE_WORDS,
    )


def claim_action(fn, *args, ref: str | None = None, **kwargs):
    """Do a claim step and return to the claim's page, saying why when the claim rules refuse it."""
    try:
        fn(*args, **kwargs)
    except claims.ClaimError as error:
        return RedirectResponse(f"/claims?ref={quote(ref or '')}&error={quote(str(error))}", status_code=303)
    return RedirectResponse(f"/claims?ref={quote(ref or '')}", status_code=303)


@router.post("/claims/prepare", dependencies=[Depends(check_csrf)], include_in_schema=False)
def claim_prepare(
    window: str = Form(...),
    evidence_date: str = Form(...),
    opens: str = Form(""),
    closes: str = Form(""),
    user: dict = Depends(allow("prepare claims")),
    state: WebState = Depends(web),
):
    try:
        days = [dt.date.fromisoformat(v) if v else None for v in (evidence_date, opens, closes)]
    except ValueError:
        raise HTTPException(400, "dates are written YYYY-MM-DD") from None
    try:
        prepared = services.prepare_claim(state.ctx, window, days[0], user["name"], opens=days[1], closes=days[2])
    except claims.ClaimError as error:
        return RedirectResponse(f"/claims?error={quote(str(error))}", status_code=303)
    return RedirectResponse(f"/claims?ref={quote(prepared.ref)}", status_code=303)


@router.post("/claims/{ref}/sample", dependencies=[Depends(check_csrf)], include_in_schema=False)
def claim_sample(
    ref: str, seed: str = Form(""), user: dict = Depends(allow("draw audit samples")), state: WebState = Depends(web)
):
    return claim_action(
        services.sample_claim, state.ctx, ref, int(seed) if seed.strip().isdigit() else None, user["name"], ref=ref
    )


@router.post("/claims/{ref}/verdict", dependencies=[Depends(check_csrf)], include_in_schema=False)
def claim_verdict(
    ref: str,
    family_id: str = Form(...),
    verdict: str = Form(...),
    note: str = Form(""),
    user: dict = Depends(allow("record verdicts")),
    state: WebState = Depends(web),
):
    return claim_action(
        claims.verdict, state.ctx.store, ref, family_id, verdict == "pass", user["name"], note or None, ref=ref
    )


@router.post("/claims/{ref}/submit", dependencies=[Depends(check_csrf)], include_in_schema=False)
def claim_submit(
    ref: str, late: str = Form(""), user: dict = Depends(allow("submit claims")), state: WebState = Depends(web)
):
    return claim_action(services.submit_claim, state.ctx, ref, user["name"], late or None, ref=ref)


@router.post("/claims/{ref}/review", dependencies=[Depends(check_csrf)], include_in_schema=False)
def claim_review(
    ref: str, note: str = Form(""), user: dict = Depends(allow("record full reviews")), state: WebState = Depends(web)
):
    return claim_action(claims.review, state.ctx.store, ref, user["name"], note, ref=ref)


@router.post("/claims/{ref}/paid", dependencies=[Depends(check_csrf)], include_in_schema=False)
def claim_paid(
    ref: str,
    amount: str = Form(...),
    reference: str = Form(""),
    user: dict = Depends(allow("record payments")),
    state: WebState = Depends(web),
):
    return claim_action(services.record_payment, state.ctx, ref, amount, reference, user["name"], ref=ref)


@router.post("/claims/{ref}/recover", dependencies=[Depends(check_csrf)], include_in_schema=False)
def claim_recover(
    ref: str,
    family_id: str = Form(...),
    reason: str = Form(""),
    user: dict = Depends(allow("book recoveries")),
    state: WebState = Depends(web),
):
    return claim_action(services.recover_line, state.ctx, ref, family_id, reason, user["name"], ref=ref)


@router.get("/claims/{ref}/families/{family_id}/pack", response_class=HTMLResponse, include_in_schema=False)
def claim_pack_page(
    request: Request,
    ref: str,
    family_id: str,
    user: dict = Depends(allow("download evidence packs")),
    state: WebState = Depends(web),
):
    """The facts of a family's evidence pack on a page: built by the same service as the PDF."""
    try:
        pack = services.evidence_packs(state.ctx, ref, [family_id])[0]
    except claims.ClaimError as error:
        raise HTTPException(404, str(error)) from None
    return page(request, "pack_page.html", user, pack=pack)


@router.get("/claims/{ref}/families/{family_id}/pack.pdf", include_in_schema=False)
def claim_pack(
    ref: str, family_id: str, user: dict = Depends(allow("download evidence packs")), state: WebState = Depends(web)
):
    """One family's spot-check evidence pack, as `pbr claim pack` writes it."""
    from pbr.claims.packs import write_pdf

    try:
        packs = services.evidence_packs(state.ctx, ref, [family_id])
    except claims.ClaimError as error:
        raise HTTPException(404, str(error)) from None
    return download(lambda path: write_pdf(packs[0], path, state.ctx.council), packs[0].file_name)


@router.get("/claims/{ref}/workbook.xlsx", include_in_schema=False)
def claim_workbook(ref: str, user: dict = Depends(allow("download claim workbooks")), state: WebState = Depends(web)):
    try:
        return download(lambda path: services.write_claim_workbook(state.ctx, ref, path), f"{ref}.xlsx")
    except claims.ClaimError as error:
        raise HTTPException(404, str(error)) from None
