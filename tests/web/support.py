"""A database holding the basic example and one user of each role, for the web tests."""
from __future__ import annotations

import pytest

from conftest import EXAMPLES
from pbr.feeds.ingest import ingest
from pbr.plan import load_plan
from pbr.store import Store
from pbr.web.auth import add_user

PASSWORD = "correct horse battery"
USERS = [("kw1", "keyworker", "KW1"), ("kw2", "keyworker", "KW2"), ("coord", "coordinator", None),
         ("audit", "auditor", None), ("money", "finance", None)]


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
