"""The coordinators' dashboard: where every family stands, filtered, with the changes the nightly run saw."""

from __future__ import annotations

import polars as pl
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import text

import pbr.claims as claims
from pbr.engine import reasons
from pbr.engine.status import STATUSES, with_status
from pbr.web import charts
from pbr.web.deps import WebState, allow, day_of, page, web
from pbr.web.listing import listing
from pbr.web.routes.families import families_of, latest_changes

router = APIRouter()


def _identified(state: WebState, day) -> dict | None:
    """How many households of people no member matched would be eligible on `day`; None before any match."""
    from pbr import services

    if not state.ctx.store.read(text("SELECT COUNT(*) AS n FROM partner_rows WHERE latest"))["n"][0]:
        return None
    found = state.cache.kept("identified", day, lambda: services.identify_households(state.ctx, day))
    return {"eligible": found.eligible.height, "households": found.households.height}


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard(request: Request, user: dict = Depends(allow("see the dashboard")), state: WebState = Depends(web)):
    day = day_of(request)
    rows = with_status(state.decisions(day).decisions).join(families_of(state, user), on="family_id", how="left")
    counts = dict(rows.group_by("status").len().iter_rows())
    status, keyworker, theme, why = (request.query_params.get(k) for k in ("status", "keyworker", "theme", "why"))
    shown = rows
    if status:
        shown = shown.filter(pl.col("status") == status)
    if keyworker:
        shown = shown.filter(pl.col("keyworker_id") == keyworker)
    if theme:
        shown = shown.filter(pl.col("themes_at_attachment").str.split(";").list.contains(theme))
    if why:
        shown = shown.filter(pl.col("reason_kind") == why)
    claimed = claims.claims_frame(state.ctx.store).filter(pl.col("status").is_in(["submitted", "paid"]))
    chart = charts.claims_against_target(
        list(claimed.select("evidence_date", "live_lines").iter_rows()), state.ctx.council.target_per_year
    )
    context = {
        "counts": counts,
        "listing": listing(request, shown.sort("family_id"), ["family_id", "names", "keyworker_id"]),
        "titles": {theme.code: theme.title for theme in state.ctx.plan.themes},
        "latest": latest_changes(state),
        "statuses": list(STATUSES),
        "keyworkers": sorted(k for k in rows["keyworker_id"].unique().to_list() if k),
        "themes": state.ctx.plan.theme_codes,
        "filters": {"status": status, "keyworker": keyworker, "theme": theme, "why": why},
        "reason_kinds": list(reasons.KINDS),
        "chart": chart,
        "identified": _identified(state, day),
    }
    if request.headers.get("hx-request"):
        return page(request, "_family_rows.html", user, **context)
    return page(request, "dashboard.html", user, **context)
