"""Signing in and out, the home page of each role, and who is signed in."""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel

from pbr.web.auth import NAME_MAX, authenticate, close_session, csrf_token, open_session
from pbr.web.deps import WebState, allow, check_csrf, page, web
from pbr.web.permissions import HOME, PUBLIC
from pbr.web.routes.api import Refusal

router = APIRouter()
PASSWORD_MAX = 1000  # a password longer than this is a way to make argon2 work, not a password


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, _: None = Depends(allow(PUBLIC))):
    return page(request, "login.html", None, error=None)


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(check_csrf)], include_in_schema=False)
def login(
    request: Request,
    name: str = Form(..., max_length=NAME_MAX),
    password: str = Form(..., max_length=PASSWORD_MAX),
    _: None = Depends(allow(PUBLIC)),
    state: WebState = Depends(web),
):
    wait = state.throttle.wait_seconds(name)
    if wait:
        minutes = math.ceil(wait / 60)
        return page(
            request,
            "login.html",
            None,
            status_code=429,
            error=f"Too many failed sign-ins for this name: try again in {minutes} minute(s).",
        )
    user = authenticate(state.ctx.store, name, password)
    if user is None:
        state.throttle.failed(name)
        return page(request, "login.html", None, status_code=401, error="Wrong name or password.")
    state.throttle.succeeded(name)
    request.session.clear()
    request.session["user"] = user["name"]
    request.session["role"] = user["role"]  # for the access log, which names no one
    request.session["epoch"] = user["session_epoch"]
    request.session["token"] = open_session(state.ctx.store, user["name"])
    csrf_token(request.session)
    return RedirectResponse(HOME[user["role"]], status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)], include_in_schema=False)
def logout(request: Request, _: None = Depends(allow(PUBLIC)), state: WebState = Depends(web)):
    close_session(state.ctx.store, request.session.get("token"))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/", include_in_schema=False)
def home(user: dict = Depends(allow("use the app"))):
    return RedirectResponse(HOME[user["role"]], status_code=303)


class Session(BaseModel):
    """Who is signed in, and the token a client sends as X-CSRF-Token with every change."""

    user: str
    role: str
    csrf_token: str


@router.get("/api/session", response_model=Session, responses={401: {"model": Refusal}})
def api_session(request: Request, user: dict = Depends(allow("use the app"))):
    """Who is signed in, and the CSRF token API clients send as X-CSRF-Token."""
    return {"user": user["name"], "role": user["role"], "csrf_token": csrf_token(request.session)}
