"""The web app in a real browser: Playwright drives Debian's Chromium against `pbr serve` on localhost.

Screenshots of the main pages are written to test-artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT
from web.support import PASSWORD, seed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "test-artifacts" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_browser():
    missing = None
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing = "the playwright package is not installed"
    if not Path(CHROMIUM).exists():
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs the browser tests: {missing}")
        pytest.skip(missing)


@contextlib.contextmanager
def serving(url: str, as_of: str = "2017-10-31"):
    """`pbr serve` on a free port of localhost, for the database at `url`: its base address while it runs."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "pbr.cli", "--db", url, "serve", "--port", str(port), "--as-of", as_of],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{base}/login", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        raise AssertionError("pbr serve did not start")
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require_browser()
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'pbr.db'}"
    seed(url)
    with serving(url) as base:
        yield base


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def fill(page, form: str, **values) -> None:
    """Fill a record form (selects and inputs by name) and submit it."""
    locator = page.locator(form)
    for name, value in values.items():
        field = locator.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    locator.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def sign_in(browser, server, name):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


@pytest.mark.parametrize(
    "name,heading,path",
    [
        ("kw1", "My families", "/families"),
        ("coord", "Where every family stands", "/dashboard"),
        ("audit", "Claims", "/claims"),
        ("money", "Grant income", "/finance"),
    ],
)
def test_each_role_signs_in_and_lands_on_its_home_page(browser, server, name, heading, path):
    page = sign_in(browser, server, name)
    assert page.url.startswith(f"{server}{path}")
    assert heading in page.inner_text("h1")
    page.screenshot(path=str(SHOTS / f"home-{name}.png"), full_page=True)
    page.close()


def test_a_keyworker_records_an_outcome_and_sees_the_decision_change(browser, server):
    page = sign_in(browser, server, "kw1")
    page.click("text=F01")
    page.wait_for_load_state("networkidle")
    assert "claimable now" in page.inner_text("#decision h2")
    assert page.locator("svg.timeline").count() == 1
    page.screenshot(path=str(SHOTS / "family-before.png"), full_page=True)
    fill(page, "#form-events", person_id="F01-C1", event_type="asb_incident", event_date="2017-10-01")
    status = page.inner_text("#decision h2")
    assert "claimable now" not in status and "claimable by date" in status
    assert "asb incident" in page.inner_text("#decision") and "1 Oct 2017" in page.inner_text("#decision")
    page.screenshot(path=str(SHOTS / "family-after.png"), full_page=True)
    page.close()


def test_a_keyworker_sees_the_error_next_to_the_field(browser, server):
    page = sign_in(browser, server, "kw1")
    page.goto(f"{server}/families/F04")
    fill(page, "#form-episodes", person_id="F04-C1", episode_type="cin", start_date="2017-09-01", end_date="2017-08-01")
    error = page.locator("#form-episodes .field-error")
    assert "is before start_date" in error.inner_text()
    page.screenshot(path=str(SHOTS / "family-form-error.png"), full_page=True)
    page.close()


def test_the_first_tab_offers_a_skip_past_the_navigation(browser, server):
    page = sign_in(browser, server, "coord")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.className, document.activeElement.getAttribute('href')]")
    assert focused == ["skip", "#main"] and page.locator("a.skip").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.close()


def test_a_keyworker_closes_a_case_and_sees_it_on_the_family_page(browser, server):
    page = sign_in(browser, server, "kw1")
    page.goto(f"{server}/families/F04")
    assert "closed" not in page.inner_text("p.muted >> nth=0")
    fill(page, "#form-families", closure_date="2017-06-30")
    assert "closed 30 Jun 2017" in page.inner_text("p.muted >> nth=0")
    assert page.locator("#form-families input[name=closure_date]").input_value() == "2017-06-30"
    assert (
        "closed 2017-06-30" in page.text_content("svg.timeline")
        and page.locator("svg.timeline line.closure").count() == 1
    )
    page.screenshot(path=str(SHOTS / "family-closed.png"), full_page=True)
    page.close()


def test_a_coordinator_prepares_a_claim_and_an_auditor_records_a_verdict(browser, server):
    page = sign_in(browser, server, "coord")
    assert page.locator("svg.claims-chart").count() == 0  # nothing submitted yet: the card says so in words
    assert page.get_by_text("No submitted claims yet.").count() == 1
    page.select_option("form.filters select[name=status]", "claimable now")
    page.wait_for_function("document.querySelector('#shown').innerText.includes('families')")
    page.wait_for_timeout(500)
    rows = page.locator("#family-table tbody tr")
    assert rows.count() >= 1 and all("claimable now" in rows.nth(i).inner_text() for i in range(rows.count()))
    page.goto(f"{server}/claims")
    page.fill("#prepare input[name=window]", "2017-Q4")
    page.fill("#prepare input[name=evidence_date]", "2017-10-31")
    page.click("#prepare button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Claim 2017-Q4-1" in page.inner_text("#claim h2")
    lines = page.locator("#claim table tbody tr")
    assert lines.count() >= 5
    page.fill("#claim input[name=seed]", "7")
    page.click("text=Draw the audit sample")
    page.wait_for_load_state("networkidle")
    assert "sampled" in page.inner_text("#claim h2")
    page.screenshot(path=str(SHOTS / "claim-sampled.png"), full_page=True)
    page.close()

    auditor = sign_in(browser, server, "audit")
    auditor.goto(f"{server}/claims?ref=2017-Q4-1")
    passes = auditor.locator("#claim button[value=pass]")
    before = passes.count()
    assert before == 5
    passes.first.click()
    auditor.wait_for_load_state("networkidle")
    assert auditor.locator("#claim button[value=pass]").count() == before - 1
    assert "verdict pass" in auditor.inner_text("#claim ul.log")
    auditor.screenshot(path=str(SHOTS / "claim-verdict.png"), full_page=True)
    while auditor.locator("#claim button[value=pass]").count():
        auditor.locator("#claim button[value=pass]").first.click()
        auditor.wait_for_load_state("networkidle")
    auditor.close()

    coordinator = sign_in(browser, server, "coord")
    coordinator.goto(f"{server}/claims?ref=2017-Q4-1")
    coordinator.fill("#claim input[name=late]", "a test of the whole lifecycle on historical data")
    coordinator.click("text=Submit the claim")
    coordinator.wait_for_load_state("networkidle")
    assert "submitted" in coordinator.inner_text("#claim h2")
    claimed = coordinator.locator("main table tbody tr", has_text="2017-Q4-1").first.locator("td").nth(4).inner_text()
    coordinator.goto(f"{server}/dashboard")
    chart = coordinator.locator("svg.claims-chart")  # by programme year: April 2017 to March 2018
    assert chart.count() == 1 and f"2017-18: {claimed} families claimed" in chart.text_content()
    coordinator.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    coordinator.close()


def test_the_day_decisions_are_made_for_is_a_visible_choice_with_a_banner_after_the_records(browser, server):
    page = sign_in(browser, server, "coord")
    page.goto(f"{server}/dashboard?as_of=2030-01-01")
    banner = page.locator("#records-end-banner")
    assert banner.count() == 1 and "decisions as of 1 Jan 2030 assume nothing happened since" in banner.inner_text()
    page.screenshot(path=str(SHOTS / "records-end-banner.png"), full_page=False)
    banner.locator("a").click()
    page.wait_for_load_state("networkidle")
    records_end = page.locator("#as-of").input_value()
    assert f"as_of={records_end}" in page.url and page.locator("#records-end-banner").count() == 0
    page.fill("#as-of", "2017-10-31")
    page.locator("form.as-of button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "as_of=2017-10-31" in page.url and "Decisions as of 31 Oct 2017" in page.inner_text("footer")
    page.click("header nav >> text=Claims")  # the day is kept as the user moves between pages
    page.wait_for_load_state("networkidle")
    assert "as_of=2017-10-31" in page.url
    page.close()


def test_a_coordinator_reads_and_downloads_a_family_s_evidence_pack(browser, server):
    page = sign_in(browser, server, "coord")
    page.goto(f"{server}/claims")
    if "2017-Q4-1" not in page.inner_text("main"):  # run alone: the claim the lifecycle test prepares
        page.fill("#prepare input[name=window]", "2017-Q4")
        page.fill("#prepare input[name=evidence_date]", "2017-10-31")
        page.click("#prepare button[type=submit]")
        page.wait_for_load_state("networkidle")
    page.goto(f"{server}/claims?ref=2017-Q4-1")
    row = page.locator("#claim table tbody tr").first
    family = row.locator("td").first.inner_text()
    row.locator("text=facts").click()
    page.wait_for_load_state("networkidle")
    facts = page.inner_text("main")
    assert f"Evidence pack: family {family}" in facts and "1. Eligibility" in facts and "3. Validity" in facts
    page.screenshot(path=str(SHOTS / "evidence-pack.png"), full_page=False)
    with page.expect_download() as downloading:
        page.click("#pack-pdf")
    saved = downloading.value.path()
    assert open(saved, "rb").read(5) == b"%PDF-"
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(saved).pages)
    assert f"Evidence pack: family {family}" in text and "Names are withheld" in text
    page.goto(f"{server}/families/{family}?as_of=2017-10-31")  # the family page offers the same pack
    packs = page.locator("#packs")
    assert "Claim 2017-Q4-1" in packs.inner_text()
    with page.expect_download() as downloading:
        packs.locator("text=download the pack (PDF)").click()
    assert open(downloading.value.path(), "rb").read(5) == b"%PDF-"
    page.close()
    keyworker = sign_in(browser, server, "kw1")  # not a role packs go to
    response = keyworker.goto(f"{server}/claims/2017-Q4-1/families/{family}/pack.pdf")
    assert response.status == 403
    keyworker.close()


AXE = ROOT / "tests" / "web" / "vendor" / "axe.min.js"  # axe-core 4.14 (MPL-2.0), as published on npm
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PAGES_BY_ROLE = {
    "kw1": ["/families", "/families/F01"],
    "coord": [
        "/dashboard",
        "/families",
        "/families/F01",
        "/claims",
        "/claims?ref=2017-Q4-1",
        "/claims/2017-Q4-1/families/F01/pack",
        "/quarantine",
        "/matching",
        "/finance",
        "/dashboard?as_of=2030-01-01",  # with the banner after the records
    ],
    "audit": ["/claims", "/claims?ref=2017-Q4-1", "/dashboard", "/families/F01"],
    "money": ["/finance", "/claims", "/claims?ref=2017-Q4-1"],
}


def test_every_page_for_every_role_passes_axe_core_s_wcag_rules(browser, server):
    """axe-core's WCAG 2.2 A and AA rules on each page each role reaches (the sign-in page too): no violation."""
    coordinator = sign_in(browser, server, "coord")
    coordinator.goto(f"{server}/claims")
    if "2017-Q4-1" not in coordinator.inner_text("main"):
        coordinator.fill("#prepare input[name=window]", "2017-Q4")
        coordinator.fill("#prepare input[name=evidence_date]", "2017-10-31")
        coordinator.click("#prepare button[type=submit]")
        coordinator.wait_for_load_state("networkidle")
    coordinator.close()
    source = AXE.read_text()
    found = {}
    for name, paths in {None: ["/login"], **PAGES_BY_ROLE}.items():
        # the app's content security policy allows no injected script: axe is let in by the browser itself
        context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        if name:
            page.goto(f"{server}/login")
            page.fill("input[name=name]", name)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
        for path in paths:
            page.goto(f"{server}{path}")
            page.wait_for_load_state("networkidle")
            page.add_script_tag(content=source)
            violations = page.evaluate(
                "async (tags) => (await axe.run(document, {runOnly: tags})).violations"
                ".map(v => `${v.id}: ${v.nodes.length} (${v.nodes[0].target.join(' ')})`)",
                WCAG,
            )
            found[f"{name or 'anyone'} {path}"] = violations
        context.close()
    assert len(found) == 1 + sum(len(p) for p in PAGES_BY_ROLE.values())
    assert {page: v for page, v in found.items() if v} == {}
