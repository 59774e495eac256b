"""`pbr serve`: the web app for keyworkers, coordinators, auditors and finance, and its JSON API.

The app is routers over the services the CLI uses too (`pbr.services`, `pbr.casefile`, `pbr.claims`); every
route names its action and `pbr.web.permissions.can` decides it.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from pbr.context import AppContext
from pbr.rendering import environment
from pbr.returns import ReturnError
from pbr.settings import Settings
from pbr.version import VERSION
from pbr.web.auth import SignInThrottle
from pbr.web.cache import DecisionCache
from pbr.web.deps import WebState, allow, page
from pbr.web.routes import accounts, api, claims, dashboard, families, finance, matching, quarantine

HERE = Path(__file__).parent
SESSION_SECONDS = 8 * 3600


def templates() -> Jinja2Templates:
    """The Jinja environment of the app's pages (and of anything else pbr renders from HTML)."""
    return Jinja2Templates(env=environment())


def _context(context: AppContext | str | None) -> AppContext:
    """The app's context; given a database URL (or nothing), one built from the environment's settings: the app
    factory is an edge, like the CLI."""
    if isinstance(context, AppContext):
        return context
    return AppContext.from_settings(Settings.from_environ().overridden(database_url=context))


def _exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_errors(request: Request, error: HTTPException):
        if error.status_code == 303:
            return RedirectResponse(error.headers["Location"], status_code=303)
        if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
            return JSONResponse({"detail": error.detail}, status_code=error.status_code)
        return page(
            request, "error.html", None, status_code=error.status_code, message=error.detail, code=error.status_code
        )

    @app.exception_handler(ReturnError)
    async def period_refused(request: Request, error: ReturnError):
        """A return, report or reconciliation asked for a period it cannot be made for (e.g. financial year 0)."""
        return await http_errors(request, HTTPException(400, str(error)))

    @app.exception_handler(RequestValidationError)
    async def bad_form(request: Request, error: RequestValidationError):
        """A form or query value missing or of the wrong kind: a page that says which, not JSON."""
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'][1:]) or 'request'}: {e['msg'].lower()}" for e in error.errors()
        )
        if request.url.path.startswith("/api/"):
            return await request_validation_exception_handler(request, error)
        return page(request, "error.html", None, status_code=400, message=problems, code=400)


def _api_description(app: FastAPI) -> None:
    """The API's description, for signed-in users only: it maps what the app can do. (No browsable /docs: its
    page loads scripts from elsewhere, which the app's content policy refuses.)"""

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(user: dict = Depends(allow("use the app"))):
        return app.openapi()


# Every response: only the app's own scripts and styles, never inside a frame, no guessing of types, and no
# address of a page (which may hold a family's id) sent to another site.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def secured(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


ACCESS_LOG = logging.getLogger("pbr.access")


def _access_log(app: FastAPI) -> None:
    """One line per request: method, path, status, milliseconds and the user's role. Never the query string (a
    search can hold a name) nor who the user is beyond their role: no personal data in a log."""

    @app.middleware("http")
    async def logged(request: Request, call_next):
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            role = request.scope.get("session", {}).get("role", "-") if "session" in request.scope else "-"
            ACCESS_LOG.info(
                "%s %s %d %.0fms role=%s",
                request.method,
                request.url.path,
                status,
                1000 * (time.perf_counter() - started),
                role,
            )


def create_app(
    context: AppContext | str | None = None,
    as_of: dt.date | None = None,
    secret_key: str | None = None,
    throttle: SignInThrottle | None = None,
) -> FastAPI:
    """The app over one installation's context (or a database URL, the rest from the environment)."""
    ctx = _context(context)
    app = FastAPI(
        title="pbr",
        description="Outcomes tracking and payment-by-results claims",
        version=VERSION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    # behind HTTPS the session cookie is sent over HTTPS only; a key of the council's own keeps sessions across restarts
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key or ctx.settings.secret_key or secrets.token_urlsafe(32),
        same_site="strict",
        https_only=ctx.settings.secure_cookies,
        max_age=SESSION_SECONDS,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.state.web = WebState(ctx, templates(), DecisionCache(ctx.store, ctx.plan), throttle or SignInThrottle(), as_of)
    _exception_handlers(app)
    _security_headers(app)
    _access_log(app)
    for area in (accounts, families, dashboard, claims, quarantine, matching, finance, api):
        app.include_router(area.router)
    _api_description(app)
    return app
