"""Long lists in the web app: pages and search on the server, with counts; names beside families only for the roles
that may see them (keyworkers their own families', coordinators all, never finance)."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
import shutil

import polars as pl
import pytest
from starlette.requests import Request

from conftest import EXAMPLES, write_feed
from pbr.feeds.ingest import ingest
from pbr.plan import load_plan
from pbr.store import Store
from pbr.web.app import create_app
from pbr.web.listing import PER_PAGE, listing
from web.support import seed, signed_in


def request(path: str, query: str) -> Request:
    return Request({"type": "http", "path": path, "query_string": query.encode(), "headers": []})


def test_a_list_is_cut_into_pages_that_keep_the_other_parameters_and_its_search():
    frame = pl.DataFrame({"family_id": [f"F{i:04d}" for i in range(1, 121)], "names": ["Ash"] * 60 + ["Birch"] * 60})
    first = listing(request("/families", "as_of=2017-10-31"), frame, ["family_id", "names"])
    assert (first.total, first.pages, first.page, first.first, first.last) == (120, 3, 1, 1, PER_PAGE)
    assert first.rows[0]["family_id"] == "F0001" and len(first.rows) == PER_PAGE
    assert first.links == {"previous": None, "next": "/families?as_of=2017-10-31&page=2"}
    last = listing(request("/families", "as_of=2017-10-31&page=3"), frame, ["family_id"])
    assert [r["family_id"] for r in last.rows] == [f"F{i:04d}" for i in range(101, 121)]
    assert last.links["next"] is None and last.links["previous"].endswith("page=2")
    searched = listing(request("/families", "q=birch&page=9"), frame, ["family_id", "names"])  # any case
    assert (searched.total, searched.everything, searched.page) == (60, 120, 2)  # a page past the end: the last
    assert all(r["names"] == "Birch" for r in searched.rows) and "q=birch" in searched.links["previous"]
    assert listing(request("/families", "page=x"), frame, []).page == 1


@pytest.fixture
def named(tmp_path, sqlite_url):
    folder = tmp_path / "basic"
    shutil.copytree(EXAMPLES / "basic", folder)
    people = list(csv.DictReader(open(folder / "members.csv")))
    for person in people:
        person.update(given_name="Pat", family_name=f"Quillfeather{person['family_id']}")
    write_feed(folder, "members", people)
    store = seed(sqlite_url)
    ingest(folder, Store(sqlite_url), load_plan().theme_codes)
    return create_app(store.url, as_of=dt.date(2017, 10, 31), secret_key="test-secret")


def test_names_beside_families_for_keyworkers_and_coordinators_and_never_finance(named):
    coordinator = signed_in(named, "coord").get("/families?as_of=2017-10-31").text
    assert "<th>Names</th>" in coordinator and "QuillfeatherF02" in coordinator and "QuillfeatherF01" in coordinator
    keyworker = signed_in(named, "kw1").get("/families?as_of=2017-10-31").text
    assert "QuillfeatherF01" in keyworker and "QuillfeatherF02" not in keyworker  # their own families only
    auditor = signed_in(named, "audit").get("/families?as_of=2017-10-31").text
    assert "<th>Names</th>" not in auditor and "Quillfeather" not in auditor
    finance = signed_in(named, "money")
    assert finance.get("/families").status_code == 403
    claims = finance.get("/claims").text + finance.get("/finance").text
    assert "Quillfeather" not in claims


def test_a_coordinator_finds_a_family_by_name_keyworker_or_id_with_the_count(named):
    coordinator = signed_in(named, "coord")
    found = coordinator.get("/families?as_of=2017-10-31&q=quillfeatherf07").text
    assert re.findall(r'<a href="/families/(F\d+)\?', found) == ["F07"]
    assert "1 to 1 of 1 families matching “quillfeatherf07” (of 20)" in " ".join(found.split())
    by_keyworker = coordinator.get("/families?as_of=2017-10-31&q=KW2").text
    assert set(re.findall(r'<a href="/families/(F\d+)\?', by_keyworker)) == {
        "F02",
        "F05",
        "F08",
        "F11",
        "F14",
        "F17",
        "F20",
    }
    dashboard = coordinator.get("/dashboard?as_of=2017-10-31&q=F1").text
    assert set(re.findall(r'<a href="/families/(F\d+)\?', dashboard)) >= {f"F1{i}" for i in range(10)}
    assert "of 20)" in dashboard


def test_the_record_forms_offer_the_plan_s_themes_tools_and_domains(named):
    page = signed_in(named, "coord").get("/families/F01?as_of=2017-10-31").text
    indicators = re.search(r'<datalist id="indicators-indicator-choices">(.*?)</datalist>', page, re.S)[1]
    plan = load_plan()
    for theme in plan.themes:
        assert f'<option value="{theme.code}.">{theme.title}</option>' in indicators.replace("&#39;", "'")
    tools = re.search(r'<datalist id="assessments-tool-choices">(.*?)</datalist>', page, re.S)[1]
    assert 'value="family_star"' in tools
    assert re.search(
        r'<select name="event_type">.*<option >offence</option>', page.replace("<option>", "<option >"), re.S
    )


def test_held_families_are_counted_the_same_on_the_dashboard_and_the_quarantine_page(tmp_path, sqlite_url):
    store = seed(sqlite_url)
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "events.csv").write_text(
        "person_id,event_type,event_date\nF01-C1,Offence,2017-01-01\nF02-C1,not_a_type,2017-01-01\n"
    )
    ingest(extra, store, load_plan().theme_codes)
    app = create_app(store.url, as_of=dt.date(2017, 10, 31), secret_key="test-secret")
    coordinator = signed_in(app, "coord")
    dashboard = coordinator.get("/dashboard?as_of=2017-10-31").text
    tile = re.search(r'<span class="n">(\d+)</span><span>held</span>', dashboard)
    quarantine = coordinator.get("/quarantine?as_of=2017-10-31").text
    counted = re.search(r'<p id="held-count"><strong>(\d+)</strong>', quarantine)
    assert int(tile[1]) == int(counted[1]) == 2


def test_every_request_leaves_one_access_log_line_without_personal_data(named, caplog):
    coordinator = signed_in(named, "coord")
    with caplog.at_level(logging.INFO, logger="pbr.access"):
        coordinator.get("/families?as_of=2017-10-31&q=QuillfeatherF07")
        coordinator.get("/families/F99")
    lines = [r.getMessage() for r in caplog.records if r.name == "pbr.access"]
    assert len(lines) == 2
    assert re.fullmatch(r"GET /families 200 \d+ms role=coordinator", lines[0])
    assert re.fullmatch(r"GET /families/F99 404 \d+ms role=coordinator", lines[1])
    assert not any("Quillfeather" in line or "q=" in line or "coord " in line for line in lines)


def test_a_family_page_names_its_members_only_for_those_who_may_see_names(named):
    assert "Pat QuillfeatherF01" in signed_in(named, "kw1").get("/families/F01?as_of=2017-10-31").text
    assert "Pat QuillfeatherF01" in signed_in(named, "coord").get("/families/F01?as_of=2017-10-31").text
    assert "Quillfeather" not in signed_in(named, "audit").get("/families/F01?as_of=2017-10-31").text
