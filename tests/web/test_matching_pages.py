"""The coordinators' review page: the queue beside its candidates, decisions with the session's CSRF token, two
coordinators at once, the identified households card, and identity shown to coordinators only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from matching.conftest import D, matched_store
from pbr import matching, services
from pbr.web.app import create_app
from pbr.web.auth import add_user
from web.support import PASSWORD, signed_in


@pytest.fixture
def app_with_partners(db_url):
    ctx, _ = matched_store(db_url)
    for name, role, keyworker in (
        ("coord", "coordinator", None),
        ("coord2", "coordinator", None),
        ("kw", "keyworker", "KW001"),
        ("audit", "auditor", None),
    ):
        add_user(ctx.store, name, role, PASSWORD, keyworker)
    return ctx, create_app(ctx)


def test_only_coordinators_see_partner_rows(app_with_partners):
    ctx, app = app_with_partners
    coordinator = signed_in(app, "coord")
    shown = coordinator.get("/matching")
    assert shown.status_code == 200 and "waiting for review" in shown.text
    first = matching.review_queue(ctx.store, ctx.matching)[0]
    assert first.identity["family_name"] in shown.text  # the name as sent, beside its candidates
    assert "date of birth: agreed" in shown.text or "date of birth: close" in shown.text
    for name in ("kw", "audit"):
        other = signed_in(app, name)
        assert other.get("/matching").status_code == 403
        assert other.get("/identified.xlsx").status_code == 403
        assert first.identity["family_name"] not in other.get("/quarantine").text


def test_a_coordinator_accepts_with_the_csrf_token_and_a_second_is_told(app_with_partners):
    ctx, app = app_with_partners
    row = matching.review_queue(ctx.store, ctx.matching)[0]
    person = row.candidates[0].person_id
    first, second = signed_in(app, "coord"), signed_in(app, "coord2")
    form = {"person_id": person, "version": str(row.version), "note": "seen"}
    refused = first.post(f"/matching/{row.id}/accept", data=form)
    assert refused.status_code == 403  # no CSRF token
    done = first.post(f"/matching/{row.id}/accept", data=form | {"csrf_token": first.csrf})
    assert done.status_code == 303 and "message=" in done.headers["location"]
    late = second.post(f"/matching/{row.id}/reject", data={"version": str(row.version), "csrf_token": second.csrf})
    told = second.get(late.headers["location"]).text
    assert "decided by coord meanwhile: it is now linked" in told
    audit = ctx.store.read(text("SELECT actor, action FROM audit_log WHERE action LIKE 'match %'"))
    assert ("coord", "match accept") in audit.rows() and not any(a == "coord2" for a, _ in audit.rows())
    assert matching.partner_row(ctx.store, row.id, ctx.matching).status == "linked"


def test_the_dashboard_counts_the_households_that_would_be_eligible(app_with_partners):
    ctx, app = app_with_partners
    page = signed_in(app, "coord").get(f"/dashboard?as_of={D}").text
    found = re.search(r'<span class="n">(\d+)</span> of (\d+) households', page)
    assert found is not None
    listed = services.identify_households(ctx, D)
    assert (int(found[1]), int(found[2])) == (listed.eligible.height, listed.households.height)
    workbook = signed_in(app, "coord").get("/identified.xlsx?as_of=2019-03-31")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"


def test_a_coordinator_reviews_a_row_in_the_browser(tmp_path_factory):
    from web.test_browser import ARGS, CHROMIUM, SHOTS, _require_browser, serving

    _require_browser()
    from playwright.sync_api import sync_playwright

    url = f"sqlite:///{tmp_path_factory.mktemp('matching-web') / 'pbr.db'}"
    ctx, _ = matched_store(url)
    add_user(ctx.store, "coord", "coordinator", PASSWORD)
    row = matching.review_queue(ctx.store, ctx.matching)[0]
    with serving(url, as_of="2019-03-31") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/login")
        page.fill("input[name=name]", "coord")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.click("nav >> text=Matching")
        page.wait_for_load_state("networkidle")
        card = page.locator(f"#row-{row.id}")
        assert "Why it waits" in card.inner_text() and card.locator(".fields li").count() >= 4
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "matching-review.png"), full_page=True)
        card.locator("form[action$='/accept'] >> nth=0").locator("input[name=note]").fill("the school's roll")
        card.locator("form[action$='/accept'] >> nth=0").locator("button").click()
        page.wait_for_load_state("networkidle")
        assert f"row {row.id} linked to {row.candidates[0].person_id}" in page.inner_text("[role=status]")
        assert page.locator(f"#row-{row.id}").count() == 0
        browser.close()
    assert matching.partner_row(ctx.store, row.id, ctx.matching).status == "linked"
