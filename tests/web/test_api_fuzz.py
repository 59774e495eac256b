"""The JSON API fuzzed by schemathesis from its own OpenAPI description, signed in as each role: no request,
however odd, gets a server error, and every answer matches the description. Bounded, and the same examples on
every CI run (the hypothesis profile of conftest)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from pbr.web.app import create_app
from web.support import USERS, signed_in

EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def clients(web_db):
    app = create_app(web_db, as_of=dt.date(2017, 10, 31), secret_key="fuzz")
    return {role: signed_in(app, name) for name, role, _ in USERS if name != "kw2"}


def test_no_request_to_the_api_gets_a_server_error_or_an_undescribed_answer(clients):
    description = clients["coordinator"].get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(description)
    operations = [found.ok() for found in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/families", "/api/families/{family_id}", "/api/session"}
    seen: list[int] = []

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=os.environ.get("CI") == "true",
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def answers_within_its_description(case):
            for client in clients.values():
                request = case.as_transport_kwargs(base_url="http://testserver", headers={"X-CSRF-Token": client.csrf})
                response = client.request(**{k: v for k, v in request.items() if k != "cookies"})
                seen.append(response.status_code)
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        answers_within_its_description()
    assert seen and max(seen) < 500
    assert {200, 404} <= set(seen)  # the fuzzing reached real answers, not only refusals
