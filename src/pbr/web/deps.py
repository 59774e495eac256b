"""What every route of the web app shares: the application's state, who is signed in, the permission check, the
CSRF check, the day decisions are made for, and how a page is rendered."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.background import BackgroundTask

from pbr.context import AppContext
from pbr.evaluate import Evaluation
from pbr.store.models import Family
from pbr.web.auth import SignInThrottle, csrf_ok, csrf_token, session_open, user_by_name
from pbr.web.cache import DecisionCache
from pbr.web.permissions import PUBLIC, can


@dataclass
class WebState:
    """One running app: its context, templates, kept decisions and sign-in throttle."""

    ctx: AppContext
    templates: Jinja2Templates
    cache: DecisionCache
    throttle: SignInThrottle
    default_as_of: dt.date | None = None

    def decisions(self, day: dt.date) -> Evaluation:
        return self.cache.decisions(day)

    def records_end(self) -> dt.date | None:
        """The newest day any record speaks of, kept as the decisions are."""
        return self.cache.kept("records end", dt.date.min, self.ctx.store.newest_record_date)

    def family(self, user: dict, family_id: str, action: str) -> dict:
        """A family's stored row, when `user` may perform `action` on it; a keyworker is told the same for
        another's family as for none, so nothing leaks."""
        table = Family.__table__
        with self.ctx.store.engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.family_id == family_id)).mappings().first()
        if row is None or not can(user, action, dict(row)):
            if not can(user, action):
                raise Forbidden()
            raise HTTPException(404, "no such family among yours")
        return dict(row)


def web(request: Request) -> WebState:
    return request.app.state.web


class Forbidden(HTTPException):
    def __init__(self, detail: str = "not allowed for your role"):
        super().__init__(status_code=403, detail=detail)


def day_of(request: Request) -> dt.date:
    """The day decisions are made for: `as_of` in the address, else the app's default, else today."""
    text = request.query_params.get("as_of")
    if text:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise HTTPException(400, f"as_of {text!r} is not a date YYYY-MM-DD") from None
    state = web(request)
    return state.default_as_of or state.ctx.today()


def current_user(request: Request, state: WebState = Depends(web)) -> dict:
    name = request.session.get("user")
    user = user_by_name(state.ctx.store, name) if name else None
    if (
        user is None
        or request.session.get("epoch") != user["session_epoch"]
        or not session_open(state.ctx.store, name, request.session.get("token"))
    ):
        if name:  # signed out, disabled, or its password changed since this session signed in: it ends
            request.session.clear()
        if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
            raise HTTPException(401, "sign in first")
        raise HTTPException(303, headers={"Location": "/login"})
    return user


def allow(action: str):
    """The dependency of a route that performs `action`: the signed-in user, when `can` lets them."""
    if action == PUBLIC:

        def anyone() -> None:
            return None

        anyone.action = PUBLIC
        return anyone

    def signed_in_user(user: dict = Depends(current_user)) -> dict:
        if not can(user, action):
            raise Forbidden()
        return user

    signed_in_user.action = action
    return signed_in_user


async def check_csrf(request: Request) -> None:
    token = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        token = (await request.form()).get("csrf_token")
    if not csrf_ok(request.session, token):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def page(request: Request, name: str, user: dict | None, status_code: int = 200, **context) -> HTMLResponse:
    state = web(request)
    try:
        shown_day = day_of(request)
    except HTTPException:  # the page telling of a bad as_of must not fail on it again
        shown_day = state.default_as_of or state.ctx.today()
    return state.templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "csrf": csrf_token(request.session),
            "council": state.ctx.council,
            "as_of": shown_day,
            "records_end": state.records_end() if user else None,
            "can": lambda action, family=None: can(user, action, family),
            **context,
        },
        status_code=status_code,
    )


def download(write, filename: str) -> FileResponse:
    """Send the workbook `write(path)` makes; its folder is removed once sent or on failure, so no return (the
    impact-study one holds names) stays on the server."""
    folder = Path(tempfile.mkdtemp(prefix="pbr-download-"))
    try:
        write(folder / filename)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        folder / filename, filename=filename, background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True)
    )


def jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()}
