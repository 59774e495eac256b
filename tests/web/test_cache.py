"""The web app works decisions out once per as-of day and again as soon as the database changes."""

from __future__ import annotations

import datetime as dt

import pytest

import pbr.web.cache as cache
from conftest import write_dataset
from pbr.feeds.ingest import ingest
from pbr.plan import load_plan
from pbr.store import Store
from pbr.web.app import create_app
from web.test_access import AS_OF, signed_in


@pytest.fixture
def evaluations(monkeypatch) -> list[dt.date]:
    """The as-of day of every evaluation the app makes."""
    made: list[dt.date] = []
    real = cache.evaluate

    def counted(**kwargs):
        made.append(kwargs["as_of"])
        return real(**kwargs)

    monkeypatch.setattr(cache, "evaluate", counted)
    return made


def test_pages_share_one_evaluation_while_nothing_changes(web_db, evaluations):
    client = signed_in(create_app(web_db, as_of=AS_OF, secret_key="s"), "coord")
    for path in ("/api/families", "/families", "/dashboard", "/families/F01", "/api/families/F01"):
        assert client.get(path).status_code == 200, path
    assert evaluations == [AS_OF]
    assert client.get("/api/families?as_of=2018-03-31").status_code == 200
    assert client.get("/api/families").status_code == 200
    assert evaluations == [AS_OF, dt.date(2018, 3, 31)]


def test_a_load_from_outside_the_app_is_seen_on_the_next_page(web_db, evaluations, tmp_path):
    client = signed_in(create_app(web_db, as_of=AS_OF, secret_key="s"), "coord")
    assert client.get("/api/families/F01").json()["decision"]["claimable"] is True
    incident = write_dataset(
        tmp_path / "more", events=[{"person_id": "F01-C1", "event_type": "asb_incident", "event_date": "2017-10-01"}]
    )
    ingest(incident, Store(web_db), load_plan().theme_codes)
    after = client.get("/api/families/F01").json()
    assert after["decision"]["claimable"] is False
    assert any("1 Oct 2017" in row["evidence"] for row in after["evidence"])
    assert evaluations == [AS_OF, AS_OF]


def test_an_audited_action_or_age_makes_the_app_evaluate_again(web_db, evaluations):
    now = [0.0]
    store = Store(web_db)
    decisions = cache.DecisionCache(store, load_plan(), max_age=600, clock=lambda: now[0]).decisions
    first = decisions(AS_OF)
    assert decisions(AS_OF) is first
    with store.engine.begin() as connection:
        store.audit(connection, "coord", "prepare", "claim", "C-1")
    second = decisions(AS_OF)
    assert second is not first and decisions(AS_OF) is second
    now[0] = 599.0
    assert decisions(AS_OF) is second
    now[0] = 600.0
    assert decisions(AS_OF) is not second
    assert len(evaluations) == 3


def test_only_the_most_recently_used_days_are_kept(web_db, evaluations):
    decisions = cache.DecisionCache(Store(web_db), load_plan(), keep=2).decisions
    days = [
        dt.date(2017, 10, 31),
        dt.date(2017, 11, 30),
        dt.date(2017, 10, 31),
        dt.date(2017, 12, 31),
        dt.date(2017, 10, 31),
        dt.date(2017, 11, 30),
    ]
    for day in days:
        decisions(day)
    # 10-31 stays (used again each time); 11-30 is pushed out by 12-31 and made again at the end
    assert evaluations == [dt.date(2017, 10, 31), dt.date(2017, 11, 30), dt.date(2017, 12, 31), dt.date(2017, 11, 30)]
