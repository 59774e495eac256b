"""A database holding the basic example and one user of each role, for the web tests."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from conftest import EXAMPLES
from pbr.feeds.ingest import ingest
from pbr.plan import load_plan
from pbr.store import Store
from pbr.web.auth import add_user

PASSWORD = "correct horse battery"
USERS = [
    ("kw1", "keyworker", "KW1"),
    ("kw2", "keyworker", "KW2"),
    ("coord", "coordinator", None),
    ("audit", "auditor", None),
    ("money", "finance", None),
]


def seed(url: str) -> Store:
    store = Store(url)
    ingest(EXAMPLES / "basic", store, load_plan().theme_codes)
    for name, role, keyworker in USERS:
        add_user(store, name, role, PASSWORD, keyworker)
    return store


@pytest.fixture
def web_db(db_url) -> str:
    seed(db_url)
    return db_url


def sign_in(app, name: str, password: str = PASSWORD) -> tuple[TestClient, object]:
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]
    return client, client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def signed_in(app, name: str, password: str = PASSWORD) -> TestClient:
    client, response = sign_in(app, name, password)
    assert response.status_code == 303, response.text
    client.csrf = client.get("/api/session").json()["csrf_token"]
    return client
