"""Every route of the app, read from its own route table, asked by every role: the answer is the permission
table's. A route added without naming its action fails here."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount

from pbr.web.app import create_app
from pbr.web.permissions import PERMISSIONS, PUBLIC, ROLES, can
from web.support import USERS, signed_in

AS_OF = dt.date(2017, 10, 31)
NAME_OF_ROLE = {role: name for name, role, _ in USERS if name != "kw2"}
# a family of the keyworker kw1, an unknown claim (the answer to a role is the same), a table with a form
PATH_VALUES = {"family_id": "F01", "ref": "NO-CLAIM-1", "table": "events", "row_id": "1"}


def action_of(route: APIRoute) -> str | None:
    """The action a route names: the `allow(action)` dependency among its dependencies."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if hasattr(dependency.call, "action"):
            return dependency.call.action
        pending += dependency.dependencies
    return None


@pytest.fixture
def app(web_db):
    return create_app(web_db, as_of=AS_OF, secret_key="test-secret")


def flattened(table: list, prefix: str = "") -> list[tuple[str, object]]:
    """(path, route) for every route of a route table, through the routers it includes."""
    found = []
    for route in table:
        router = getattr(route, "original_router", None)  # an included router, kept whole by FastAPI
        if router is not None:
            found += flattened(router.routes, prefix + route.include_context.prefix)
        else:
            found.append((prefix + route.path, route))
    return found


def routes(app) -> list[tuple[str, str, APIRoute]]:
    found = []
    for path, route in flattened(app.routes):
        if isinstance(route, Mount):
            assert path == "/static", f"a mount nobody checks: {path}"
            continue
        assert isinstance(route, APIRoute), f"a route of another kind: {route}"
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, path.format(**PATH_VALUES), route))
    assert len(found) >= 25, "the walk found too few routes: is the route table read whole?"
    return found


def test_every_route_names_an_action_of_the_permission_table(app):
    unnamed = [f"{method} {route.path}" for method, _, route in routes(app) if action_of(route) is None]
    assert not unnamed, f"routes that ask no permission: {unnamed}"
    unknown = {action_of(r) for _, _, r in routes(app)} - set(PERMISSIONS) - {PUBLIC}
    assert not unknown, f"actions missing from the permission table: {unknown}"


def test_every_route_answers_every_role_as_the_table_says(app):
    clients = {role: signed_in(app, name) for role, name in NAME_OF_ROLE.items()}
    wrong = []
    for method, path, route in routes(app):
        action = action_of(route)
        if path == "/logout":
            continue  # it ends the session the walk goes on with; it is public and needs only the CSRF token
        for role, client in clients.items():
            response = client.request(method, path, headers={"X-CSRF-Token": client.csrf})
            allowed = can({"role": role, "keyworker_id": "KW1"}, action)
            refused = response.status_code in (401, 403)
            if allowed == refused or response.status_code >= 500:
                wrong.append(f"{role} {method} {path}: {response.status_code} (allowed: {allowed})")
    assert not wrong, wrong


def test_nobody_signed_out_gets_past_a_route_that_is_not_public(app):
    from fastapi.testclient import TestClient

    anonymous = TestClient(app, follow_redirects=False)
    token = anonymous.get("/login")  # a session with a CSRF token, but no user
    assert token.status_code == 200
    for method, path, route in routes(app):
        if action_of(route) == PUBLIC:
            continue
        response = anonymous.request(method, path)
        assert response.status_code in (303, 401, 403), f"{method} {path}: {response.status_code}"
        if response.status_code == 303:
            assert response.headers["location"] == "/login"


def test_a_keyworker_is_told_another_keyworkers_family_does_not_exist(app):
    keyworker = signed_in(app, "kw1")
    for path in ("/families/F02", "/api/families/F02"):
        assert keyworker.get(path).status_code == 404
    refused = keyworker.post("/api/families/F02/events", json={}, headers={"X-CSRF-Token": keyworker.csrf})
    assert refused.status_code == 404
    assert set(ROLES) == set(NAME_OF_ROLE)
