"""Roles, CSRF and validation through the app's HTTP interface (pages and JSON API)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from conftest import context_at, write_council_plan
from pbr.jobs.config import load_config
from pbr.jobs.tasks import nightly_evaluation
from pbr.store import Store
from pbr.store.models import Family
from pbr.web.app import create_app
from pbr.web.auth import SignInThrottle, UserError, add_user, disable_user, enable_user, set_password
from web.support import PASSWORD, sign_in, signed_in

AS_OF = dt.date(2017, 10, 31)


@pytest.fixture
def app(web_db):
    return create_app(web_db, as_of=AS_OF, secret_key="test-secret")


def test_disabling_a_user_or_changing_their_password_ends_their_open_sessions(app, web_db):
    store = Store(web_db)
    keyworker, coordinator = signed_in(app, "kw1"), signed_in(app, "coord")
    set_password(store, "kw1", "a new passphrase")
    assert keyworker.get("/api/families").status_code == 401  # signed in with the old password
    assert keyworker.get("/families").headers["location"] == "/login"
    assert sign_in(app, "kw1")[1].status_code == 401
    keyworker = signed_in(app, "kw1", "a new passphrase")
    assert keyworker.get("/api/families").status_code == 200

    disable_user(store, "kw1")  # the keyworker has left
    assert keyworker.get("/api/families").status_code == 401
    refused = sign_in(app, "kw1", "a new passphrase")[1]
    assert refused.status_code == 401 and "Wrong name or password." in refused.text
    assert coordinator.get("/api/families").status_code == 200  # nobody else is signed out
    enable_user(store, "kw1")
    assert signed_in(app, "kw1", "a new passphrase").get("/api/families").status_code == 200
    with store.engine.connect() as connection:
        actions = (
            connection.execute(text("SELECT action FROM audit_log WHERE entity_id = 'kw1' ORDER BY id")).scalars().all()
        )
    assert actions[-3:] == ["set password", "disable user", "enable user"]
    with pytest.raises(UserError, match="no user 'nobody'"):
        disable_user(store, "nobody")
    with pytest.raises(UserError, match="at least 8 characters"):
        set_password(store, "kw1", "short")


def test_a_wrong_password_is_refused(app):
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]
    response = client.post("/login", data={"name": "kw1", "password": "nope", "csrf_token": token})
    assert response.status_code == 401 and "Wrong name or password" in response.text
    assert client.get("/families").status_code == 303
    hostile = client.post("/login", data={"name": "kw1\x00", "password": PASSWORD, "csrf_token": token})
    assert hostile.status_code == 401 and "Wrong name or password" in hostile.text  # PostgreSQL refuses a NUL


def test_guessing_a_password_is_slowed_per_name(web_db):
    now = [0.0]
    app = create_app(
        web_db,
        as_of=AS_OF,
        secret_key="test-secret",
        throttle=SignInThrottle(limit=3, window=900, clock=lambda: now[0]),
    )
    for _ in range(3):
        assert sign_in(app, "kw1", "a wrong guess")[1].status_code == 401
    refused = sign_in(app, "kw1")[1]  # the right password, but too soon
    assert (
        refused.status_code == 429
        and "Too many failed sign-ins for this name: try again in 15 minute(s)." in refused.text
    )
    assert sign_in(app, "kw2")[1].status_code == 303  # another name is not slowed
    for _ in range(3):
        sign_in(app, "nobody-here", "a wrong guess")
    assert sign_in(app, "nobody-here")[1].status_code == 429  # a name without an account is slowed alike
    now[0] = 899.0
    assert "try again in 1 minute(s)" in sign_in(app, "kw1")[1].text
    now[0] = 900.0
    assert sign_in(app, "kw1")[1].status_code == 303
    assert sign_in(app, "kw1", "a wrong guess")[1].status_code == 401  # a success starts the count again


def test_the_sign_in_throttle_keeps_a_bounded_number_of_names():
    throttle = SignInThrottle(limit=2, window=900, clock=lambda: 0.0, names_kept=3)
    for name in ("a", "b", "c", "d"):
        throttle.failed(name)
        throttle.failed(name)
    assert [throttle.wait_seconds(n) for n in ("a", "b", "c", "d")] == [0.0, 900.0, 900.0, 900.0]


def test_the_session_cookie_is_https_only_when_the_council_says_so(web_db, monkeypatch):
    def cookie(**env) -> str:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        client = TestClient(create_app(web_db, as_of=AS_OF, secret_key="k"), follow_redirects=False)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]
        return client.post("/login", data={"name": "kw1", "password": PASSWORD, "csrf_token": token}).headers[
            "set-cookie"
        ]

    plain = cookie()
    assert "samesite=strict" in plain.lower() and "httponly" in plain.lower() and "secure" not in plain.lower()
    assert "; secure" in cookie(PBR_SECURE_COOKIES="1").lower()


def test_a_form_post_without_a_csrf_token_is_refused(app, web_db):
    client = signed_in(app, "kw1")
    data = {"person_id": "F01-C1", "event_type": "asb_incident", "event_date": "2017-10-01"}
    assert client.post("/families/F01/records/events", data=data).status_code == 403
    assert client.post("/families/F01/records/events", data={**data, "csrf_token": "forged"}).status_code == 403
    assert client.post("/api/families/F01/events", json=data).status_code == 403
    assert client.post("/logout").status_code == 403
    with Store(web_db).engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM events WHERE event_date = '2017-10-01'")).scalar_one() == 0
    anonymous = TestClient(app, follow_redirects=False)
    assert anonymous.post("/login", data={"name": "kw1", "password": PASSWORD}).status_code == 403


def test_a_keyworker_sees_and_changes_only_their_own_families(app, web_db):
    client = signed_in(app, "kw1")
    listed = {f["family_id"] for f in client.get("/api/families").json()}
    assert listed == {"F01", "F04", "F07", "F10", "F13", "F16", "F19"}
    page = client.get("/families").text
    assert "F01" in page and "F02" not in page
    assert client.get("/families/F02").status_code == 404
    assert client.get("/api/families/F02").status_code == 404
    bad = {"person_id": "F02-C1", "event_type": "asb_incident", "event_date": "2017-10-01"}
    assert client.post("/api/families/F02/events", json=bad, headers={"X-CSRF-Token": client.csrf}).status_code == 404
    assert client.post("/families/F02/records/events", data={**bad, "csrf_token": client.csrf}).status_code == 404
    # a member of another family cannot be smuggled into one's own
    response = client.post("/api/families/F01/events", json=bad, headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 422 and "not a member of family F01" in response.json()["errors"]["person_id"]
    with Store(web_db).engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM events WHERE event_date = '2017-10-01'")).scalar_one() == 0


def test_finance_sees_money_not_case_records(app):
    client = signed_in(app, "money")
    for path in ("/families", "/families/F01", "/dashboard", "/api/families", "/api/families/F01"):
        assert client.get(path).status_code == 403, path
    page = client.get("/finance")
    assert page.status_code == 200 and "Grant income" in page.text
    assert client.get("/finance?year=2017-18").status_code == 400
    assert client.get("/claims").status_code == 200


def test_recording_an_outcome_changes_the_decision_and_is_audited(app, web_db):
    client = signed_in(app, "kw1")
    before = client.get("/api/families/F01").json()["decision"]
    assert before["claimable"] is True
    response = client.post(
        "/families/F01/records/events",
        data={
            "person_id": "F01-C1",
            "event_type": "asb_incident",
            "event_date": "2017-10-01",
            "csrf_token": client.csrf,
        },
    )
    assert response.status_code == 303
    after = client.get("/api/families/F01").json()
    assert after["decision"]["claimable"] is False
    assert any("asb incident" in e["evidence"] and "1 Oct 2017" in e["evidence"] for e in after["evidence"])
    with Store(web_db).engine.connect() as connection:
        actor, detail = connection.execute(
            text("SELECT actor, detail FROM audit_log WHERE action = 'record events'")
        ).one()
    assert actor == "kw1" and "2017-10-01" in detail


def test_the_app_decides_by_the_council_plan(web_db, tmp_path, monkeypatch):
    own = write_council_plan(tmp_path)  # F02 is claimable under it
    monkeypatch.setenv("PBR_PLAN", str(own))
    client = signed_in(create_app(web_db, as_of=AS_OF, secret_key="test-secret"), "kw2")
    assert client.get("/api/families/F02").json()["decision"]["claimable"] is True
    monkeypatch.setenv("PBR_PLAN", "supporting-families-2022")  # a shipped plan, by its name
    client = signed_in(create_app(web_db, as_of=AS_OF, secret_key="test-secret"), "kw2")
    decision = client.get("/api/families/F02").json()["decision"]
    assert decision["themes_at_attachment"] == "crime;domestic_abuse" and decision["eligible"] is False


def test_a_bad_value_is_shown_next_to_its_field_and_nothing_is_saved(app, web_db):
    client = signed_in(app, "kw1")
    response = client.post(
        "/families/F01/records/episodes",
        data={
            "person_id": "F01-C1",
            "episode_type": "cin",
            "start_date": "2017-09-01",
            "end_date": "2017-08-01",
            "csrf_token": client.csrf,
        },
    )
    assert response.status_code == 422
    assert re.search(
        r'name="end_date"[^>]*value="2017-08-01">\s*<span class="field-error" role="alert">end_date 2017-08-01 '
        r"is before start_date 2017-09-01",
        response.text,
    )
    with Store(web_db).engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM episodes WHERE person_id = 'F01-C1'")).scalar_one() == 0
    # the rejected form keeps its values; the other forms do not take them
    incident = re.search(r'<form[^>]*id="form-events".*?</form>', response.text, re.S)[0]
    assert "selected" not in incident and 'value="2017-09-01"' not in response.text.split('id="form-episodes"')[0]


def test_a_keyworker_records_the_case_closure_and_nothing_else_of_the_family_row(app, web_db):
    client = signed_in(app, "kw1")
    family = Family.__table__.c

    def close(day: str, **more: str):
        return client.post(
            "/families/F01/records/families", data={"closure_date": day, "csrf_token": client.csrf, **more}
        )

    def stored() -> tuple:
        with Store(web_db).engine.connect() as connection:
            return tuple(
                connection.execute(
                    select(family.attachment_date, family.keyworker_id, family.closure_date).where(
                        family.family_id == "F01"
                    )
                ).one()
            )

    # the form changes the closure only: a keyworker cannot hand the family to another or move its attachment
    assert close("2017-06-30", keyworker_id="KW2", attachment_date="2016-01-01").status_code == 303
    assert stored() == (dt.date(2016, 9, 15), "KW1", dt.date(2017, 6, 30))
    page = client.get("/families/F01").text
    assert "keyworker KW1 · closed 30 Jun 2017" in page
    assert re.search(r'id="form-families".*?name="closure_date" type="date" value="2017-06-30"', page, re.S)
    with Store(web_db).engine.connect() as connection:
        assert (
            connection.execute(text("SELECT actor FROM audit_log WHERE action = 'record families'")).scalar_one()
            == "kw1"
        )
        change = connection.execute(text("SELECT before, after FROM corrections WHERE table_name = 'families'")).one()
    assert "2017-06-30" in change.after and "2017-06-30" not in change.before  # logged as a correction

    refused = close("2016-09-01")
    assert refused.status_code == 422
    assert re.search(
        r'name="closure_date" type="date" value="2016-09-01">\s*<span class="field-error" role="alert">'
        r"closure_date 2016-09-01 is before attachment_date 2016-09-15",
        refused.text,
    )
    assert stored()[2] == dt.date(2017, 6, 30)  # nothing saved
    assert close("").status_code == 303 and stored()[2] is None  # reopened
    assert (
        client.post(
            "/families/F02/records/families", data={"closure_date": "2017-06-30", "csrf_token": client.csrf}
        ).status_code
        == 404
    )  # not kw1's family


def test_the_dashboard_shows_what_changed_between_the_last_two_snapshots(app, web_db):
    coordinator = signed_in(app, "coord")
    assert 'id="changes"' not in coordinator.get("/dashboard").text  # no snapshots yet
    for day in (dt.date(2017, 10, 31), dt.date(2017, 11, 2)):
        nightly_evaluation(load_config(None), context_at(Store(web_db), day))
    page = coordinator.get("/dashboard").text
    section = re.search(r'<section class="card" id="changes">.*?</section>', page, re.S)[0]
    assert "As of 2017-10-31 and as of 2017-11-02: claimable 6 → 7." in section
    assert re.search(r'<a href="/families/F02\?as_of=2017-10-31">F02</a></td><td>became claimable \(ssp\)', section)
    keyworker = signed_in(app, "kw2").get("/families").text  # F02 is kw2's
    assert "between the nightly snapshots as of 31 Oct 2017 and 2 Nov 2017" in keyworker
    row = re.search(r"<tr><td><a [^>]*>F02</a>.*?</tr>", keyworker, re.S)[0]  # one row, over three lines
    assert row.endswith("<td>became claimable (ssp)</td></tr>")


def test_roles_guard_claim_actions(app):
    keyworker = signed_in(app, "kw1")
    assert keyworker.get("/claims").status_code == 403
    coordinator = signed_in(app, "coord")
    prepared = coordinator.post(
        "/claims/prepare", data={"window": "2017-Q4", "evidence_date": "2017-10-31", "csrf_token": coordinator.csrf}
    )
    assert prepared.status_code == 303 and "ref=2017-Q4-1" in prepared.headers["location"]
    page = coordinator.get(prepared.headers["location"]).text
    assert "outcome plan troubled-families-2015 (SHA-256 " in page  # what the claim rests on
    assert re.search(r"<li>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · coord · prepare: evidence date 2017-10-31", page)
    assert (
        coordinator.post(
            "/claims/2017-Q4-1/verdict", data={"family_id": "F01", "verdict": "pass", "csrf_token": coordinator.csrf}
        ).status_code
        == 403
    )
    finance = signed_in(app, "money")
    assert (
        finance.post(
            "/claims/prepare", data={"window": "X", "evidence_date": "2017-10-31", "csrf_token": finance.csrf}
        ).status_code
        == 403
    )
    workbook = finance.get("/claims/2017-Q4-1/workbook.xlsx")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"


def test_a_claim_goes_from_preparation_to_payment_and_recovery_in_the_app(app, web_db):
    coordinator, auditor, finance = signed_in(app, "coord"), signed_in(app, "audit"), signed_in(app, "money")
    coordinator.post(
        "/claims/prepare", data={"window": "2017-Q4", "evidence_date": "2017-10-31", "csrf_token": coordinator.csrf}
    )
    coordinator.post("/claims/2017-Q4-1/sample", data={"seed": "7", "csrf_token": coordinator.csrf})
    sampled = re.findall(r'name="family_id" value="(F\d+)"', auditor.get("/claims?ref=2017-Q4-1").text)
    assert len(sampled) == 5
    for family in sampled:  # two of five fail: more than one in five, so the whole claim needs a full review
        verdict = "fail" if family in sampled[:2] else "pass"
        auditor.post(
            "/claims/2017-Q4-1/verdict", data={"family_id": family, "verdict": verdict, "csrf_token": auditor.csrf}
        )
    refused = coordinator.post("/claims/2017-Q4-1/submit", data={"late": "test", "csrf_token": coordinator.csrf})
    assert "the+whole+claim+needs+a+full+review" in refused.headers["location"].replace("%20", "+")
    assert 'id="review"' in coordinator.get("/claims?ref=2017-Q4-1").text
    assert auditor.post("/claims/2017-Q4-1/review", data={"note": "x", "csrf_token": auditor.csrf}).status_code == 403
    coordinator.post(
        "/claims/2017-Q4-1/review",
        data={"note": "every line checked again: the rest stand", "csrf_token": coordinator.csrf},
    )
    submitted = coordinator.post("/claims/2017-Q4-1/submit", data={"late": "test", "csrf_token": coordinator.csrf})
    assert "error" not in submitted.headers["location"]
    page = finance.get("/claims?ref=2017-Q4-1").text
    assert 'id="paid"' in page and 'id="recover"' not in page  # finance records money, never a recovery
    bad = finance.post(
        "/claims/2017-Q4-1/paid", data={"amount": "12.345", "reference": "BACS 1", "csrf_token": finance.csrf}
    )
    assert "has+more+than+2+decimal+places" in bad.headers["location"].replace("%20", "+")
    cells = r'<tr><td><a href="/families/({family})\?as_of=[\d-]+">\1</a></td><td>[\w ]+</td><td>£800\.00</td><td>{status}</td>'
    live = re.findall(cells.format(family=r"F\d+", status="live"), page)
    finance.post(
        "/claims/2017-Q4-1/paid",
        data={"amount": f"{800 * len(live):,}.00", "reference": "BACS 1", "csrf_token": finance.csrf},
    )
    recovered = live[0]
    coordinator.post(
        "/claims/2017-Q4-1/recover",
        data={"family_id": recovered, "reason": "a later offence came to light", "csrf_token": coordinator.csrf},
    )
    page = coordinator.get("/claims?ref=2017-Q4-1").text
    assert re.search(cells.format(family=recovered, status="recovered"), page)
    assert "coord · full review: every line checked again" in page and "money · paid: £" in page
    assert "coord · recover" in page and "a later offence came to light" in page


def test_the_api_is_described_by_openapi_to_signed_in_users_only(app):
    assert TestClient(app).get("/openapi.json").status_code == 401
    assert TestClient(app).get("/docs").status_code == 404  # no browsable page: it would load scripts from elsewhere
    spec = signed_in(app, "kw1").get("/openapi.json").json()
    assert "/api/families" in spec["paths"] and "/api/families/{family_id}" in spec["paths"]
    assert not any(path.startswith(("/login", "/claims", "/families")) for path in spec["paths"])  # pages are not API


@pytest.mark.parametrize("kind", ["progress-return", "outcomes", "reconciliation", "decisions", "impact-study"])
def test_a_coordinator_downloads_every_workbook_and_finance_only_money(app, kind):
    import io

    import openpyxl

    coordinator = signed_in(app, "coord")
    response = coordinator.get(f"/reports/{kind}.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames
    finance = signed_in(app, "money")
    assert finance.get(f"/reports/{kind}.xlsx").status_code == (200 if kind == "reconciliation" else 403)


def test_downloads_leave_no_file_on_the_server(app, tmp_path, monkeypatch):
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    coordinator = signed_in(app, "coord")
    assert coordinator.get("/reports/impact-study.xlsx").status_code == 200  # names: must not stay behind
    assert coordinator.get("/reports/outcomes.xlsx?quarter=2017-Q9").status_code == 400
    assert coordinator.get("/reports/impact-study.xlsx?from=2017-13-01").status_code == 400
    assert coordinator.get("/reports/reconciliation.xlsx?year=last").status_code == 400
    assert coordinator.get("/claims/NOPE/workbook.xlsx").status_code == 404
    assert list(scratch.iterdir()) == []


def test_a_family_page_lists_its_rows_held_in_quarantine(app, web_db, tmp_path):
    from pbr.feeds.ingest import ingest
    from pbr.plan import load_plan

    (tmp_path / "police__events.csv").write_text(
        "person_id,event_type,event_date\nF01-C1,offence,2017-02-30\nF01-C1,<b>riot</b>,2017-03-01\n"
    )
    ingest(tmp_path, Store(web_db), load_plan().theme_codes)
    page = signed_in(app, "coord").get("/families/F01").text
    held = page[page.index('id="held"') : page.index("Timeline")]
    assert "police__events.csv" in held and "2017-02-30" in held and "not a date written YYYY-MM-DD" in held
    assert "&lt;b&gt;riot&lt;/b&gt;" in held and "<b>riot" not in held  # input is shown, never rendered
    assert 'id="held"' not in signed_in(app, "coord").get("/families/F02").text


def test_the_quarantine_page_groups_held_rows_by_file_for_coordinators_only(app, web_db, tmp_path):
    import io

    import openpyxl

    from pbr.feeds.ingest import ingest
    from pbr.plan import load_plan

    (tmp_path / "police__events.csv").write_text(
        "person_id,event_type,event_date\nF01-C1,offence,2017-02-30\nF02-C1,=1+1,2017-03-01\n"
    )
    (tmp_path / "schools__events.csv").write_text("person_id,event_type,event_date\nNOBODY,offence,2017-03-01\n")
    ingest(tmp_path, Store(web_db), load_plan().theme_codes)
    coordinator = signed_in(app, "coord")
    page = coordinator.get("/quarantine").text
    listing = page[page.index("By file") : page.index('id="entries"')]
    assert re.search(r"police__events.csv</a></td><td>events</td>\s*<td>2</td><td>2</td>", listing)
    assert re.search(r"schools__events.csv</a></td><td>events</td>\s*<td>1</td><td>0</td>", listing)
    for name in ("schools__events.csv", "Schools__Events.CSV"):  # file names match in any case, on every database
        one = coordinator.get(f"/quarantine?source={name}").text
        assert "1 row(s)" in one and "NOBODY" in one and "2017-02-30" not in one
    workbook = coordinator.get("/quarantine.xlsx?source=police__events.csv")
    assert (
        workbook.status_code == 200 and "quarantine-police__events-csv.xlsx" in workbook.headers["content-disposition"]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content))["Quarantine"]
    values = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert sheet.max_row == 3 and set(values) == {"police__events.csv"}
    cells = {c.value for row in sheet.iter_rows(min_row=2) for c in row}
    assert "=1+1" in cells and all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert coordinator.get("/quarantine.xlsx?source=../../x").status_code == 200  # a name, never a path
    for name in ("kw1", "audit", "money"):
        assert signed_in(app, name).get("/quarantine").status_code == 403


def test_a_bad_date_or_a_missing_field_gets_a_page_saying_which(app):
    coordinator = signed_in(app, "coord")
    bad_day = coordinator.get("/families/F01?as_of=2017-02-30")
    assert bad_day.status_code == 400 and "as_of &#39;2017-02-30&#39; is not a date YYYY-MM-DD" in bad_day.text
    year_zero = coordinator.get("/finance?as_of=0001-01-01")  # in financial year 0, which no calendar holds
    assert year_zero.status_code == 400 and "financial year 0 is not one pbr can work with" in year_zero.text
    missing = coordinator.post("/claims/prepare", data={"window": "2017-Q4", "csrf_token": coordinator.csrf})
    assert missing.status_code == 400 and missing.headers["content-type"].startswith("text/html")
    assert "evidence_date: field required" in missing.text
    refused = coordinator.post(
        "/claims/prepare", data={"window": "2017/Q4", "evidence_date": "2017-10-31", "csrf_token": coordinator.csrf}
    )
    assert refused.status_code == 303 and "error=window%20id" in refused.headers["location"]
    for body in (b"{not json", b"\xff", b"[1, 2]"):
        sent = coordinator.post(
            "/api/families/F01/events",
            content=body,
            headers={"x-csrf-token": coordinator.csrf, "content-type": "application/json"},
        )
        assert sent.status_code == 400 and sent.json() == {"detail": "send one record as a JSON object"}
    api = coordinator.post(
        "/api/families/F01/events", json={"person_id": "F01-C1"}, headers={"x-csrf-token": coordinator.csrf}
    )
    assert api.status_code == 422 and api.json()["errors"] == {
        "event_type": "event_type is empty but is required",
        "event_date": "event_date is empty but is required",
    }


@pytest.mark.parametrize(
    "name,keyworker,words",
    [
        ("", None, "a user name is 1 to 100 characters"),
        (" kw3", None, "without spaces at either end: ' kw3'"),
        ("k" * 101, None, "a user name is 1 to 100 characters"),
        ("kw3", "K" * 101, "a keyworker id is 1 to 100 characters"),
        ("kw1", None, "user 'kw1' exists already"),
    ],
)
def test_a_user_is_refused_a_name_the_app_could_not_hold(web_db, name, keyworker, words):
    with pytest.raises(UserError, match=re.escape(words)):
        add_user(Store(web_db), name, "keyworker", PASSWORD, keyworker)
    with pytest.raises(UserError, match="a password needs at least 8 characters"):
        add_user(Store(web_db), "kw3", "keyworker", "short")
