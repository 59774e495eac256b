"""`pbr serve`: the web app for keyworkers, coordinators, auditors and finance, and its JSON API."""
from __future__ import annotations

import datetime as dt
import math
import re
import secrets
import shutil
import tempfile
from pathlib import Path

import polars as pl
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.middleware.sessions import SessionMiddleware

import pbr.claims as claims
from pbr.feeds.contract import contracts
from pbr.feeds.ingest import save_rows
from pbr.plan import load_plan
from pbr.resources import vocabularies
from pbr.returns import ReturnError
from pbr.settings import council, secure_cookies, session_secret
from pbr.store import Store
from pbr.store.models import Family, Member
from pbr.web import charts
from pbr.money import pounds
from pbr.snapshots import SnapshotError, changes
from pbr.web.auth import SignInThrottle, authenticate, csrf_ok, csrf_token, user_by_name
from pbr.web.cache import DecisionCache

HERE = Path(__file__).parent
FORM_TABLES = {"events": "an incident", "episodes": "an episode", "indicators": "a problem", "assessments": "an assessment",
               "families": "the case's closure"}
CASE_ROLES = ("keyworker", "coordinator", "auditor")
QUARANTINE_PAGE_ROWS = 500


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()}


def download(write, filename: str) -> FileResponse:
    """Send the workbook `write(path)` makes; its folder is removed once sent or on failure, so no return (the
    impact-study one holds names) stays on the server."""
    folder = Path(tempfile.mkdtemp(prefix="pbr-download-"))
    try:
        write(folder / filename)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(folder / filename, filename=filename,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


def financial_year(request: Request, day: dt.date) -> int:
    """The `year` asked for (a financial year starts on 1 April), or the one holding `day`."""
    text = request.query_params.get("year")
    if not text:
        return day.year - (day.month < 4)
    if not text.isdigit() or len(text) != 4:
        raise HTTPException(400, "year is the year a financial year starts in, like 2017")
    return int(text)


class Forbidden(HTTPException):
    def __init__(self, detail: str = "not allowed for your role"):
        super().__init__(status_code=403, detail=detail)


def create_app(database_url: str | None = None, as_of: dt.date | None = None, secret_key: str | None = None,
               throttle: SignInThrottle | None = None) -> FastAPI:
    store = Store(database_url)
    throttle = throttle or SignInThrottle()
    plan = load_plan()
    app = FastAPI(title="pbr", description="Outcomes tracking and payment-by-results claims", version="0.1.0")
    # behind HTTPS the session cookie is sent over HTTPS only; a key of the council's own keeps sessions across restarts
    app.add_middleware(SessionMiddleware, secret_key=secret_key or session_secret() or secrets.token_urlsafe(32),
                       same_site="strict", https_only=secure_cookies(), max_age=8 * 3600)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["pounds"] = pounds
    default_as_of = as_of

    def day_of(request: Request) -> dt.date:
        text = request.query_params.get("as_of")
        if text:
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                raise HTTPException(400, f"as_of {text!r} is not a date YYYY-MM-DD") from None
        return default_as_of or dt.date.today()

    def current_user(request: Request) -> dict:
        name = request.session.get("user")
        user = user_by_name(store, name) if name else None
        if user is None or request.session.get("epoch") != user["session_epoch"]:
            if name:  # the account was disabled, or its password changed since this session signed in: it ends
                request.session.clear()
            if request.url.path.startswith("/api/"):
                raise HTTPException(401, "sign in first")
            raise HTTPException(303, headers={"Location": "/login"})
        return user

    def require(*roles: str):
        def check(user: dict = Depends(current_user)) -> dict:
            if user["role"] not in roles:
                raise Forbidden()
            return user
        return check

    async def check_csrf(request: Request) -> None:
        token = request.headers.get("x-csrf-token")
        if token is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            token = (await request.form()).get("csrf_token")
        if not csrf_ok(request.session, token):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")

    def families_of(user: dict) -> pl.DataFrame:
        table = Family.__table__
        query = select(table.c.family_id, table.c.attachment_date, table.c.keyworker_id)
        if user["role"] == "keyworker":
            query = query.where(table.c.keyworker_id == user["keyworker_id"])
        return store.read(query, schema={"family_id": pl.String, "attachment_date": pl.Date, "keyworker_id": pl.String})

    def allowed_family(user: dict, family_id: str) -> dict:
        if user["role"] not in CASE_ROLES:
            raise Forbidden("case records are not shown to your role")
        table = Family.__table__
        with store.engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.family_id == family_id)).mappings().first()
        # a keyworker is told the same for another's family as for none: nothing leaks
        if row is None or (user["role"] == "keyworker" and row["keyworker_id"] != user["keyworker_id"]):
            raise HTTPException(404, "no such family among yours")
        return dict(row)

    decisions = DecisionCache(store, plan).decisions

    def status_of(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.when(pl.col("claimed_in") != "").then(pl.lit("claimed"))
            .when(pl.col("claimable") & (pl.col("quarantined_records") > 0)).then(pl.lit("held"))
            .when(pl.col("claimable")).then(pl.lit("claimable now"))
            .when(pl.col("earliest_claimable_date").is_not_null()).then(pl.lit("claimable by date"))
            .when(pl.col("eligible")).then(pl.lit("in progress"))
            .otherwise(pl.lit("not eligible")).alias("status"))

    def page(request: Request, name: str, user: dict | None, status_code: int = 200, **context) -> HTMLResponse:
        try:
            shown_day = day_of(request)
        except HTTPException:  # the page telling of a bad as_of must not fail on it again
            shown_day = default_as_of or dt.date.today()
        return templates.TemplateResponse(request, name, {
            "user": user, "csrf": csrf_token(request.session), "council": council(), "as_of": shown_day,
            **context}, status_code=status_code)

    @app.exception_handler(HTTPException)
    async def http_errors(request: Request, error: HTTPException):
        if error.status_code == 303:
            return RedirectResponse(error.headers["Location"], status_code=303)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": error.detail}, status_code=error.status_code)
        return page(request, "error.html", None, status_code=error.status_code, message=error.detail,
                    code=error.status_code)

    @app.exception_handler(ReturnError)
    async def period_refused(request: Request, error: ReturnError):
        """A return, report or reconciliation asked for a period it cannot be made for (e.g. financial year 0)."""
        return await http_errors(request, HTTPException(400, str(error)))

    @app.exception_handler(RequestValidationError)
    async def bad_form(request: Request, error: RequestValidationError):
        """A form or query value missing or of the wrong kind: a page that says which, not JSON."""
        problems = "; ".join(f"{'.'.join(str(part) for part in e['loc'][1:]) or 'request'}: {e['msg'].lower()}"
                             for e in error.errors())
        if request.url.path.startswith("/api/"):
            return await request_validation_exception_handler(request, error)
        return page(request, "error.html", None, status_code=400, message=problems, code=400)

    # ---- sign in -------------------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request):
        return page(request, "login.html", None, error=None)

    @app.post("/login", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
    def login(request: Request, name: str = Form(...), password: str = Form(...)):
        wait = throttle.wait_seconds(name)
        if wait:
            minutes = math.ceil(wait / 60)
            return page(request, "login.html", None, status_code=429,
                        error=f"Too many failed sign-ins for this name: try again in {minutes} minute(s).")
        user = authenticate(store, name, password)
        if user is None:
            throttle.failed(name)
            return page(request, "login.html", None, status_code=401, error="Wrong name or password.")
        throttle.succeeded(name)
        request.session.clear()
        request.session["user"] = user["name"]
        request.session["epoch"] = user["session_epoch"]
        csrf_token(request.session)
        home = {"keyworker": "/families", "coordinator": "/dashboard", "auditor": "/claims", "finance": "/finance"}
        return RedirectResponse(home[user["role"]], status_code=303)

    @app.post("/logout", dependencies=[Depends(check_csrf)])
    def logout(request: Request):
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/")
    def home(user: dict = Depends(current_user)):
        return RedirectResponse({"keyworker": "/families", "coordinator": "/dashboard", "auditor": "/claims",
                                 "finance": "/finance"}[user["role"]], status_code=303)

    # ---- families --------------------------------------------------------------------------------
    def latest_changes():
        """What the two latest nightly snapshots say changed; None before there are two."""
        try:
            return changes(store)
        except SnapshotError:
            return None

    @app.get("/families", response_class=HTMLResponse)
    def family_list(request: Request, user: dict = Depends(require(*CASE_ROLES))):
        day = day_of(request)
        mine = families_of(user)
        rows = status_of(decisions(day).decisions).join(mine.select("family_id", "keyworker_id"), on="family_id")
        latest = latest_changes()
        if latest is not None:
            rows = rows.join(latest.families.select("family_id", "change"), on="family_id", how="left")
        return page(request, "families.html", user, families=rows.to_dicts(), latest=latest)


    def family_context(user: dict, family_id: str, day: dt.date) -> dict:
        family = allowed_family(user, family_id)
        evaluation = decisions(day)
        decision = status_of(evaluation.decisions).filter(pl.col("family_id") == family_id).to_dicts()
        detail = evaluation.detail.filter(pl.col("family_id") == family_id).to_dicts()
        tables = store.load_tables(family_id)
        members = tables["members"].select("person_id", "date_of_birth", "sex")
        people = members["person_id"].to_list()
        events = tables["events"].sort("event_date").to_dicts()
        episodes = tables["episodes"].sort("start_date").to_dicts()
        indicators = tables["indicators"].sort("identified_date").to_dicts()
        assessments = tables["assessments"].sort("assessment_date").to_dicts()
        attendance = tables["attendance"].join(
            tables["terms"].select("term_id", "end_date"), on="term_id").sort("end_date", "person_id")
        bars = [{"person_id": r["person_id"], "term_id": r["term_id"],
                 "percent": 100 * (r["authorised_absence"] + r["unauthorised_absence"]) / r["possible_sessions"]}
                for r in attendance.iter_rows(named=True)]
        attached = family["attachment_date"]
        windows = []
        for theme in plan.themes:
            for rule in theme.progress:
                months = rule.params.get("months")
                if months and decision and theme.code in decision[0]["themes_at_attachment"].split(";"):
                    start = (pl.Series([day]).dt.offset_by(f"-{months}mo")[0])
                    windows.append((f"{theme.code} measurement window ({months} months)", start, day))
        timeline_start = min([attached - dt.timedelta(days=365)] + [e["event_date"] for e in events]
                             + [e["start_date"] for e in episodes])
        records = sorted(
            [{"date": e["event_date"], "what": e["event_type"], "who": e["person_id"]} for e in events]
            + [{"date": e["start_date"], "what": f"{e['episode_type']} until {e['end_date'] or 'open'}",
                "who": e["person_id"]} for e in episodes]
            + [{"date": i["identified_date"], "what": i["indicator"], "who": i["person_id"]} for i in indicators]
            + [{"date": a["assessment_date"], "who": "family",
                "what": f"{a['tool']} {a['domain']} score {str(a['score']).rstrip('0').rstrip('.')}"}
               for a in assessments], key=lambda r: r["date"], reverse=True)
        closed = family["closure_date"] if family["closure_date"] and family["closure_date"] <= day else None  # known at D
        return {
            "family": family, "decision": decision[0] if decision else None, "detail": detail,
            "members": members.to_dicts(), "records": records, "people": people,
            "timeline": charts.timeline(timeline_start, max(day, attached), attached, people, events, episodes, windows,
                                        closed=closed),
            "attendance": charts.attendance_bars(bars), "vocab": vocabularies(), "themes": plan.theme_codes,
            "errors": {}, "form_table": None, "values": {}, "held": store.quarantine_frame(family_id).to_dicts(),
        }

    @app.get("/families/{family_id}", response_class=HTMLResponse)
    def family_page(request: Request, family_id: str, user: dict = Depends(require(*CASE_ROLES))):
        return page(request, "family.html", user, **family_context(user, family_id, day_of(request)))

    def record(user: dict, family_id: str, table: str, values: dict) -> dict[str, str]:
        if table not in FORM_TABLES:
            raise HTTPException(404, f"no form for {table}")
        if user["role"] not in ("keyworker", "coordinator"):
            raise Forbidden("only keyworkers and coordinators record outcomes")
        family = allowed_family(user, family_id)
        if table == "families":  # the closure form: the rest of the family's row is the case system's, kept as stored
            values = {"family_id": family_id, "attachment_date": family["attachment_date"].isoformat(),
                      "keyworker_id": family["keyworker_id"] or "", "closure_date": values.get("closure_date", "")}
        if "person_id" in contracts()[table].columns:
            person = values.get("person_id", "")
            member = Member.__table__.c
            with store.engine.connect() as connection:
                belongs = connection.execute(select(member.person_id).where(
                    member.person_id == person, member.family_id == family_id)).first()
            if belongs is None:
                return {"person_id": f"person_id '{person}' is not a member of family {family_id}"}
        if "family_id" in contracts()[table].columns:
            values = {**values, "family_id": family_id}
        source = f"web:{user['name']}:{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}"
        errors = save_rows(store, table, [values], source, plan.theme_codes)
        if not errors:
            with store.engine.begin() as connection:
                store.audit(connection, user["name"], f"record {table}", "family", family_id,
                            ", ".join(f"{k}={v}" for k, v in values.items() if v))
        return errors

    @app.post("/families/{family_id}/records/{table}", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
    async def record_form(request: Request, family_id: str, table: str, user: dict = Depends(require("keyworker", "coordinator"))):
        form = await request.form()
        values = {c: str(form.get(c, "")).strip() for c in contracts().get(table, contracts()["events"]).columns}
        errors = record(user, family_id, table, values)
        if errors:
            context = family_context(user, family_id, day_of(request))
            context.update(errors=errors, form_table=table, values=values)
            return page(request, "family.html", user, status_code=422, **context)
        suffix = f"?as_of={request.query_params['as_of']}" if "as_of" in request.query_params else ""
        return RedirectResponse(f"/families/{family_id}{suffix}", status_code=303)

    # ---- coordinator ---------------------------------------------------------------------------
    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard(request: Request, user: dict = Depends(require("coordinator", "auditor"))):
        day = day_of(request)
        rows = status_of(decisions(day).decisions).join(families_of(user).select("family_id", "keyworker_id"),
                                                        on="family_id", how="left")
        counts = dict(rows.group_by("status").len().iter_rows())
        status, keyworker, theme = (request.query_params.get(k) for k in ("status", "keyworker", "theme"))
        shown = rows
        if status:
            shown = shown.filter(pl.col("status") == status)
        if keyworker:
            shown = shown.filter(pl.col("keyworker_id") == keyworker)
        if theme:
            shown = shown.filter(pl.col("themes_at_attachment").str.split(";").list.contains(theme))
        claimed = claims.claims_frame(store).filter(pl.col("status").is_in(["submitted", "paid"]))
        chart = charts.claims_against_target(list(claimed.select("window_id", "live_lines").iter_rows()),
                                             council().target_per_year)
        latest = latest_changes()  # for a coordinator to act on before a window
        context = {"counts": counts, "families": shown.head(500).to_dicts(), "shown": shown.height, "latest": latest,
                   "statuses": ["not eligible", "in progress", "claimable by date", "claimable now", "held", "claimed"],
                   "keyworkers": sorted(k for k in rows["keyworker_id"].unique().to_list() if k),
                   "themes": plan.theme_codes, "filters": {"status": status, "keyworker": keyworker, "theme": theme},
                   "chart": chart}
        if request.headers.get("hx-request"):
            return page(request, "_family_rows.html", user, **context)
        return page(request, "dashboard.html", user, **context)

    @app.get("/claims", response_class=HTMLResponse)
    def claim_list(request: Request, user: dict = Depends(require("coordinator", "auditor", "finance"))):
        frame = claims.claims_frame(store)
        selected = request.query_params.get("ref") or (frame["ref"][-1] if frame.height else None)
        detail = claims.claim_detail(store, selected) if selected else None
        return page(request, "claims.html", user, claims=frame.to_dicts(), selected=selected,
                    claim=detail[0] if detail else None, lines=detail[1] if detail else [],
                    held=detail[2] if detail else [], log=claims.audit_log(store, selected) if selected else [],
                    error=request.query_params.get("error"))

    def claim_action(fn, *args, ref: str | None = None, **kwargs):
        try:
            fn(*args, **kwargs)
        except claims.ClaimError as error:
            from urllib.parse import quote
            return RedirectResponse(f"/claims?ref={ref or ''}&error={quote(str(error))}", status_code=303)
        return RedirectResponse(f"/claims?ref={ref or ''}", status_code=303)

    @app.post("/claims/prepare", dependencies=[Depends(check_csrf)])
    def claim_prepare(window: str = Form(...), evidence_date: str = Form(...), opens: str = Form(""),
                      closes: str = Form(""), user: dict = Depends(require("coordinator"))):
        try:
            days = [dt.date.fromisoformat(v) if v else None for v in (evidence_date, opens, closes)]
        except ValueError:
            raise HTTPException(400, "dates are written YYYY-MM-DD") from None
        try:
            prepared = claims.prepare(store, window, days[0], plan, actor=user["name"], opens=days[1], closes=days[2])
        except claims.ClaimError as error:
            from urllib.parse import quote
            return RedirectResponse(f"/claims?error={quote(str(error))}", status_code=303)
        return RedirectResponse(f"/claims?ref={prepared.ref}", status_code=303)

    @app.post("/claims/{ref}/sample", dependencies=[Depends(check_csrf)])
    def claim_sample(ref: str, seed: str = Form(""), user: dict = Depends(require("coordinator", "auditor"))):
        return claim_action(claims.sample, store, ref, int(seed) if seed.strip().isdigit() else None,
                            actor=user["name"], ref=ref)

    @app.post("/claims/{ref}/verdict", dependencies=[Depends(check_csrf)])
    def claim_verdict(ref: str, family_id: str = Form(...), verdict: str = Form(...), note: str = Form(""),
                      user: dict = Depends(require("auditor"))):
        return claim_action(claims.verdict, store, ref, family_id, verdict == "pass", user["name"], note or None, ref=ref)

    @app.post("/claims/{ref}/submit", dependencies=[Depends(check_csrf)])
    def claim_submit(ref: str, late: str = Form(""), user: dict = Depends(require("coordinator"))):
        return claim_action(claims.submit, store, ref, user["name"], late or None, ref=ref)

    @app.post("/claims/{ref}/review", dependencies=[Depends(check_csrf)])
    def claim_review(ref: str, note: str = Form(""), user: dict = Depends(require("coordinator"))):
        return claim_action(claims.review, store, ref, user["name"], note, ref=ref)

    @app.post("/claims/{ref}/paid", dependencies=[Depends(check_csrf)])
    def claim_paid(ref: str, amount: str = Form(...), reference: str = Form(""),
                   user: dict = Depends(require("finance", "coordinator"))):
        def record() -> None:  # the amount's mistakes are said like the claim's
            claims.paid(store, ref, claims.pounds_to_pence(amount), reference, actor=user["name"])
        return claim_action(record, ref=ref)

    @app.post("/claims/{ref}/recover", dependencies=[Depends(check_csrf)])
    def claim_recover(ref: str, family_id: str = Form(...), reason: str = Form(""),
                      user: dict = Depends(require("coordinator"))):
        return claim_action(claims.recover, store, ref, family_id, reason, user["name"], ref=ref)

    @app.get("/claims/{ref}/workbook.xlsx")
    def claim_workbook(ref: str, user: dict = Depends(require("coordinator", "auditor", "finance"))):
        from pbr.claims.workbook import write_claim_workbook
        try:
            return download(lambda path: write_claim_workbook(store, ref, path), f"{ref}.xlsx")
        except claims.ClaimError as error:
            raise HTTPException(404, str(error)) from None

    @app.get("/reports/{kind}.xlsx")
    def report_download(request: Request, kind: str, user: dict = Depends(require("coordinator", "finance"))):
        from pbr.returns.outcomes import write_outcomes_report
        from pbr.returns.progress import write_progress_return
        from pbr.returns.reconcile import reconcile, write_reconciliation
        day = day_of(request)
        quarter = request.query_params.get("quarter") or f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        year = financial_year(request, day)
        try:
            start = dt.date.fromisoformat(request.query_params.get("from") or f"{year}-04-01")
            end = dt.date.fromisoformat(request.query_params.get("to") or f"{year + 1}-03-31")
        except ValueError:
            raise HTTPException(400, "from and to are dates written YYYY-MM-DD") from None
        coordinator = user["role"] == "coordinator"

        def write(path: Path) -> None:
            if kind == "reconciliation":
                write_reconciliation(reconcile(store, plan, year, today=day), path)
            elif kind == "progress-return" and coordinator:
                write_progress_return(store, plan, quarter, path)
            elif kind == "outcomes" and coordinator:
                write_outcomes_report(store, plan, quarter, path)
            elif kind == "decisions" and coordinator:
                from pbr.evaluate import write_evaluation_workbook
                write_evaluation_workbook(decisions(day), path)
            elif kind == "impact-study" and coordinator:
                from pbr.returns.progress import write_impact_study_return
                write_impact_study_return(store, start, end, path)
                with store.engine.begin() as connection:
                    store.audit(connection, user["name"], "download impact-study return", "return", "impact-study",
                                f"{start} to {end}: personal data")
            else:
                raise Forbidden() if kind in ("progress-return", "outcomes", "decisions", "impact-study") else HTTPException(
                    404, "no such report")

        try:
            return download(write, f"{kind}.xlsx")
        except ReturnError as error:
            raise HTTPException(400, str(error)) from None

    # ---- quarantine ------------------------------------------------------------------------------
    @app.get("/quarantine", response_class=HTMLResponse)
    def quarantine_page(request: Request, user: dict = Depends(require("coordinator"))):
        source = request.query_params.get("source") or None
        everything = store.quarantine_frame()
        by_source = everything.group_by("source", "table").agg(
            pl.len().alias("rows"), pl.col("family_id").drop_nulls().n_unique().alias("families")).sort("source")
        shown = (store.quarantine_frame(source=source) if source else everything).sort("source", "row")
        return page(request, "quarantine.html", user, by_source=by_source.to_dicts(), source=source,
                    entries=shown.head(QUARANTINE_PAGE_ROWS).to_dicts(), total=shown.height, limit=QUARANTINE_PAGE_ROWS)

    @app.get("/quarantine.xlsx")
    def quarantine_download(request: Request, user: dict = Depends(require("coordinator"))):
        from pbr.workbooks import write_streamed
        source = request.query_params.get("source") or None
        # the name comes from the query: only letters, digits, - and _ reach the file system
        name = f"quarantine-{re.sub(r'[^A-Za-z0-9_-]+', '-', source)}.xlsx" if source else "quarantine.xlsx"
        held = store.quarantine_frame(source=source).sort("source", "row")
        return download(lambda path: write_streamed(path, {"Quarantine": held}), name)

    # ---- finance ---------------------------------------------------------------------------------
    @app.get("/finance", response_class=HTMLResponse)
    def finance(request: Request, user: dict = Depends(require("finance", "coordinator"))):
        from pbr.returns.reconcile import reconcile
        day = day_of(request)
        year = financial_year(request, day)
        result = reconcile(store, plan, year, today=day)
        return page(request, "finance.html", user, year=year, summary=result.summary.to_dicts(),
                    by_claim=result.by_claim.to_dicts(), unallocated=result.unallocated.to_dicts(),
                    claims=claims.claims_frame(store).to_dicts())

    # ---- JSON API --------------------------------------------------------------------------------
    @app.get("/api/families")
    def api_families(request: Request, user: dict = Depends(require(*CASE_ROLES))):
        rows = status_of(decisions(day_of(request)).decisions).join(families_of(user).select("family_id"), on="family_id")
        return [_jsonable(r) for r in rows.to_dicts()]

    @app.get("/api/families/{family_id}")
    def api_family(request: Request, family_id: str, user: dict = Depends(require(*CASE_ROLES))):
        allowed_family(user, family_id)
        evaluation = decisions(day_of(request))
        decision = status_of(evaluation.decisions).filter(pl.col("family_id") == family_id).to_dicts()
        detail = evaluation.detail.filter(pl.col("family_id") == family_id).to_dicts()
        return {"decision": _jsonable(decision[0]) if decision else None, "evidence": [_jsonable(d) for d in detail]}

    @app.post("/api/families/{family_id}/{table}", dependencies=[Depends(check_csrf)])
    async def api_record(request: Request, family_id: str, table: str, user: dict = Depends(require("keyworker", "coordinator"))):
        try:
            body = await request.json()
        except ValueError:  # not JSON, or not UTF-8
            body = None
        if not isinstance(body, dict):
            raise HTTPException(400, "send one record as a JSON object")
        errors = record(user, family_id, table, {k: "" if v is None else str(v) for k, v in body.items()})
        if errors:
            return JSONResponse({"errors": errors}, status_code=422)
        return JSONResponse({"saved": True}, status_code=201)

    @app.get("/api/session")
    def api_session(request: Request, user: dict = Depends(current_user)):
        """Who is signed in, and the CSRF token API clients send as X-CSRF-Token."""
        return {"user": user["name"], "role": user["role"], "csrf_token": csrf_token(request.session)}

    return app
