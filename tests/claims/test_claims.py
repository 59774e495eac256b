"""Claims on the basic example: contents, one result per family, sample, lifecycle, immutability, concurrency."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import threading

import openpyxl
import polars as pl
import pytest
import yaml
from sqlalchemy import text

import pbr.claims as claims
from conftest import EXAMPLES, run_pbr, write_council_plan
from pbr.claims.workbook import write_claim_workbook
from pbr.feeds.ingest import ingest
from pbr.plan import load_plan, parse_plan
from pbr.store import Store

BASIC = EXAMPLES / "basic"
PLAN = load_plan()
EXPECTED = {r["family_id"]: r for r in csv.DictReader(open(BASIC / "expected_decisions_2017-10-31.csv"))}
CLAIMABLE = sorted(f for f, r in EXPECTED.items() if r["claimable"] == "true")
D1, D2 = dt.date(2017, 10, 31), dt.date(2018, 3, 31)


@pytest.fixture
def store(db_url) -> Store:
    store = Store(db_url)
    ingest(BASIC, store, PLAN.theme_codes)
    return store


def lines_of(store: Store, ref: str) -> dict[str, dict]:
    return {line["family_id"]: line for line in claims.claim_detail(store, ref)[1]}


def pass_sample(store: Store, ref: str, seed: int = 1) -> list[str]:
    chosen = claims.sample(store, ref, seed)
    give_verdicts(store, ref, chosen)
    return chosen


def give_verdicts(store: Store, ref: str, chosen: list[str], fail: set[str] = frozenset()) -> None:
    for family in chosen:
        claims.verdict(
            store, ref, family, family not in fail, "auditor", "checked" if family not in fail else "no evidence"
        )


def test_a_claim_holds_exactly_the_claimable_families(store):
    prepared = claims.prepare(store, "2017-Q4", D1, PLAN, opens=dt.date(2017, 11, 1), closes=dt.date(2017, 11, 30))
    assert prepared.ref == "2017-Q4-1"
    lines = lines_of(store, prepared.ref)
    assert sorted(lines) == CLAIMABLE
    assert {f: line["claim_route"] for f, line in lines.items()} == {f: EXPECTED[f]["claim_route"] for f in CLAIMABLE}
    assert prepared.total_pence == 80000 * len(CLAIMABLE)
    assert all(line["amount_pence"] == 80000 and line["evidence"] for line in lines.values())


def test_a_second_window_does_not_claim_them_again_once_the_first_is_submitted(store):
    ref = claims.prepare(store, "2017-Q4", D1, PLAN).ref
    draft_again = claims.prepare(store, "2018-Q1", D2, PLAN).ref
    assert set(CLAIMABLE) <= set(lines_of(store, draft_again))  # a draft blocks nothing
    pass_sample(store, ref)
    claims.submit(store, ref, "coordinator")
    later = claims.prepare(store, "2018-Q1", D2, PLAN)
    assert later.ref == draft_again  # the draft is rebuilt, not duplicated
    assert not set(CLAIMABLE) & set(lines_of(store, later.ref))
    decisions = pl.read_csv(_evaluate_db(store, D2), infer_schema=False)
    claimed = dict(decisions.select("family_id", "claimed_in").iter_rows())
    assert all(claimed[f] == ref for f in CLAIMABLE)


def _evaluate_db(store, day):
    import tempfile

    from pbr.evaluate import evaluate, write_decisions

    out = tempfile.mktemp(suffix=".csv")
    write_decisions(evaluate(as_of=day, database_url=store.url), out)
    return out


def test_a_withdrawn_lines_family_is_claimable_again(store):
    ref = claims.prepare(store, "2017-Q4", D1, PLAN).ref
    chosen = claims.sample(store, ref, seed=3)
    failed = chosen[0]
    for family in chosen:
        claims.verdict(store, ref, family, family != failed, "auditor", "no evidence on file")
    assert lines_of(store, ref)[failed]["status"] == "withdrawn"
    claims.submit(store, ref, "coordinator")
    later = claims.prepare(store, "2018-Q1", D2, PLAN)
    assert failed in lines_of(store, later.ref)
    assert not (set(CLAIMABLE) - {failed}) & set(lines_of(store, later.ref))


def test_a_recovered_family_may_be_claimed_again_in_a_later_window(store):
    ref = claims.prepare(store, "2017-Q4", D1, PLAN).ref
    pass_sample(store, ref)
    claims.submit(store, ref, "coordinator")
    claims.paid(store, ref, 80000 * len(CLAIMABLE), "BACS-1")
    assert claims.recover(store, ref, "F01", "spot check found no offending record", "finance") == -80000
    with pytest.raises(claims.ClaimError, match="already recovered"):
        claims.recover(store, ref, "F01", "again", "finance")
    with store.engine.connect() as connection:  # the line row stays as it was; the recovery is a record of its own
        assert (
            connection.execute(
                text(f"SELECT status FROM claim_lines WHERE claim_ref = '{ref}' AND family_id = 'F01'")
            ).scalar_one()
            == "live"
        )
    assert lines_of(store, ref)["F01"]["status"] == "recovered"
    # not on the same evidence: a window with the recovered claim's evidence date is not a later window
    again = claims.prepare(store, "2017-Q4", D1, PLAN)
    assert again.ref == "2017-Q4-2" and again.recovered == 1 and "F01" not in lines_of(store, again.ref)
    held = {h["family_id"]: h["reason"] for h in claims.claim_detail(store, again.ref)[2]}
    assert held == {
        "F01": f"result recovered from claim {ref} (evidence date 2017-10-31): it may be claimed again "
        "only in a window whose evidence date is later"
    }
    later = claims.prepare(store, "2018-Q1", D2, PLAN)
    assert later.recovered == 0 and "F01" in lines_of(store, later.ref)


def test_a_draft_holding_a_family_recovered_since_is_not_submitted_on_the_same_evidence(store):
    first, second = (claims.prepare(store, window, D1, PLAN).ref for window in ("2017-Q4", "2017-Q4b"))
    pass_sample(store, first)
    claims.submit(store, first, "coordinator")
    claims.recover(store, first, "F01", "spot check found no offending record", "finance")
    pass_sample(store, second)
    with pytest.raises(
        claims.ClaimError,
        match=rf"F01: result recovered from claim {first} \(evidence date "
        r"2017-10-31\): it may be claimed again only in a window whose evidence date is later",
    ):
        claims.submit(store, second, "coordinator")


@pytest.mark.parametrize("lines,size", [(3, 3), (5, 5), (6, 5), (49, 5), (51, 6), (100, 10), (101, 11)])
def test_sample_size(lines, size):
    assert claims.sample_size(lines) == size


def test_sample_split_by_route_uses_largest_remainder():
    assert claims.allocate({"ce": 7, "ssp": 13}, 5) == {"ce": 2, "ssp": 3}  # 1.75 and 3.25
    assert claims.allocate({"ce": 1, "ssp": 1}, 1) == {"ce": 1, "ssp": 0}  # tie: route order
    assert sum(claims.allocate({"a": 3, "b": 3, "c": 3}, 5).values()) == 5


def test_the_same_seed_draws_the_same_sample_and_a_drawn_sample_stands(store):
    ref = claims.prepare(store, "2017-Q4", D1, PLAN).ref
    first = claims.sample(store, ref, seed=11)
    with pytest.raises(claims.ClaimError, match=r"already has its audit sample \(seed 11\), and it stands"):
        claims.sample(store, ref, seed=12)
    assert sorted(f for f, line in lines_of(store, ref).items() if line["sampled"]) == first
    assert claims.prepare(store, "2017-Q4", D1, PLAN).ref == ref  # the rebuild discards the sample, saying so
    assert claims.sample(store, ref, seed=11) == first
    lines = lines_of(store, ref)
    by_route = {r: sum(1 for f in first if lines[f]["claim_route"] == r) for r in ("ce", "ssp")}
    assert len(first) == 5 and by_route == claims.allocate({"ce": 2, "ssp": 4}, 5)


def test_submit_is_refused_until_every_sampled_line_has_a_verdict(store):
    ref = claims.prepare(store, "2017-Q4", D1, PLAN).ref
    with pytest.raises(claims.ClaimError, match="no audit sample yet"):
        claims.submit(store, ref, "coordinator")
    chosen = claims.sample(store, ref, seed=1)
    claims.verdict(store, ref, chosen[0], True, "auditor")
    with pytest.raises(claims.ClaimError, match="4 sampled line"):
        claims.submit(store, ref, "coordinator")


def test_a_claim_cannot_rest_on_an_evidence_date_after_today(store):
    with pytest.raises(claims.ClaimError, match="evidence date 2017-11-01 is after today \\(2017-10-31\\)"):
        claims.prepare(store, "2017-Q4", dt.date(2017, 11, 1), PLAN, today=D1)
    assert claims.claims_frame(store).height == 0
    assert claims.prepare(store, "2017-Q4", D1, PLAN, today=D1).ref == "2017-Q4-1"


@pytest.mark.parametrize(
    "window,opens,closes,words",
    [
        ("2017/Q4", None, None, "window id '2017/Q4': use up to 40 letters"),
        ("", None, None, "window id ''"),
        ("<b>Q4</b>", None, None, "window id '<b>Q4</b>'"),
        ("2017-Q4", dt.date(2017, 12, 1), dt.date(2017, 11, 30), "opens on 2017-12-01, after it closes on 2017-11-30"),
    ],
)
def test_a_window_must_be_one_a_reference_and_a_calendar_can_hold(store, window, opens, closes, words):
    with pytest.raises(claims.ClaimError, match=re.escape(words)):
        claims.prepare(store, window, D1, PLAN, opens=opens, closes=closes)
    assert claims.claims_frame(store).height == 0
    ref = claims.prepare(store, "2017-Q4", D1, PLAN, opens=dt.date(2017, 11, 1)).ref
    with pytest.raises(claims.ClaimError, match="after it closes on 2017-10-31"):  # the draft's own opening day counts
        claims.prepare(store, "2017-Q4", D1, PLAN, closes=dt.date(2017, 10, 31))
    assert claims.claim_detail(store, ref)[0]["closes"] is None


def test_who_acted_and_a_payment_reference_must_be_text_the_audit_log_can_hold(store):
    with pytest.raises(claims.ClaimError, match=re.escape("who (--by) must be 1 to 200 characters: ' '")):
        claims.prepare(store, "2017-Q4", D1, PLAN, actor=" ")
    assert claims.claims_frame(store).height == 0  # refused with its audit entry, in one transaction
    ref = claims.prepare(store, "2017-Q4", D1, PLAN).ref
    with pytest.raises(claims.ClaimError, match="who \\(--by\\) must be 1 to 200 characters: 'aaaa"):
        claims.sample(store, ref, seed=1, actor="a" * 201)
    assert claims.claim_detail(store, ref)[0]["status"] == "draft"
    chosen = claims.sample(store, ref, seed=1)
    with pytest.raises(claims.ClaimError, match="the note holds a NUL character"):  # PostgreSQL refuses such text
        claims.verdict(store, ref, chosen[0], True, "auditor", "checked\x00")
    give_verdicts(store, ref, chosen)
    claims.submit(store, ref, "coordinator", late="test window")
    with pytest.raises(claims.ClaimError, match="the payment reference must be 1 to 200 characters"):
        claims.paid(store, ref, 100, "R" * 201)


def test_a_family_held_by_quarantine_after_preparation_is_not_submitted(store, tmp_path):
    ref = claims.prepare(store, "2017-Q4", D1, PLAN).ref
    family = CLAIMABLE[0]
    pass_sample(store, ref)
    partner = tmp_path / "partner"
    partner.mkdir()
    (partner / "police__events.csv").write_text(f"person_id,event_type,event_date\n{family}-C1,offence,2017-02-30\n")
    ingest(partner, store, PLAN.theme_codes)
    with pytest.raises(
        claims.ClaimError, match=rf"held by quarantine since the claim was prepared: {family} \(1 record"
    ):
        claims.submit(store, ref, "coordinator")
    (partner / "police__events.csv").write_text(f"person_id,event_type,event_date\n{family}-C1,offence,2017-02-28\n")
    ingest(partner, store, PLAN.theme_codes)  # the corrected file clears the entry
    assert claims.submit(store, ref, "coordinator") == len(CLAIMABLE)


def test_a_family_whose_result_a_later_correction_takes_away_is_not_submitted(store, tmp_path):
    ref = claims.prepare(store, "2017-Q4", D1, PLAN).ref
    pass_sample(store, ref)
    police = tmp_path / "police"
    police.mkdir()  # three more offences before the evidence date: F01's crime has not come down after all
    (police / "police__events.csv").write_text(
        "person_id,event_type,event_date\n"
        "F01-C1,offence,2017-08-01\nF01-C1,offence,2017-08-15\n"
        "F01-C1,offence,2017-10-01\n"
    )
    ingest(police, store, PLAN.theme_codes)
    late = tmp_path / "late"
    late.mkdir()  # F05's child is in need again, but its adult worked on through July: claimable by ce, not by ssp
    (late / "late__episodes.csv").write_text(
        "person_id,episode_type,start_date,end_date\nF05-C1,cin,2017-09-01,\nF05-P1,employment,2017-07-01,2017-07-14\n"
    )
    ingest(late, store, PLAN.theme_codes)
    with pytest.raises(
        claims.ClaimError,
        match=r"the records as they stand now no longer bear out 2 line\(s\) at the "
        r"evidence date 2017-10-31: F01 \(no longer claimable: .*crime or anti-social behaviour.*\); F05 \(the ssp evidence on "
        r"its line no longer holds; claimable now by route ce\); prepare the window again",
    ):
        claims.submit(store, ref, "coordinator")
    assert claims.claim_detail(store, ref)[0]["status"] == "sampled"
    rebuilt = claims.prepare(store, "2017-Q4", D1, PLAN)
    assert rebuilt.ref == ref and sorted(lines_of(store, ref)) == [f for f in CLAIMABLE if f != "F01"]
    assert lines_of(store, ref)["F05"]["claim_route"] == "ce"
    pass_sample(store, ref)
    assert claims.submit(store, ref, "coordinator") == len(CLAIMABLE) - 1


def test_submission_decides_by_the_plan_the_claim_was_prepared_with(store, tmp_path):
    own = write_council_plan(tmp_path)  # F02 is claimable under it
    plan = load_plan(own)
    prepared = claims.prepare(store, "2017-Q4", D1, plan).ref
    assert "F02" in lines_of(store, prepared) and "F02" not in CLAIMABLE
    with store.engine.connect() as connection:
        kept = connection.execute(text("SELECT plan_name, plan_sha256, plan_text FROM claims")).one()
    assert tuple(kept) == (plan.name, plan.sha256, own.read_text())
    own.unlink()  # the claim holds its plan: the file may change or go
    pass_sample(store, prepared)
    assert claims.submit(store, prepared, "coordinator") == len(lines_of(store, prepared))


def test_a_plan_built_in_python_is_kept_as_yaml_with_its_own_digest(store):
    built = parse_plan(PLAN.raw)  # read from no file: nothing to digest but what the claim keeps
    ref = claims.prepare(store, "2017-Q4", D1, built).ref
    with store.engine.connect() as connection:
        sha, kept = connection.execute(text("SELECT plan_sha256, plan_text FROM claims")).one()
    assert sha == hashlib.sha256(kept.encode()).hexdigest() and yaml.safe_load(kept) == PLAN.raw
    pass_sample(store, ref)
    assert claims.submit(store, ref, "coordinator") == len(CLAIMABLE)


def test_a_claim_with_no_live_line_is_not_submitted(store):
    first = claims.prepare(store, "2017-Q4", D1, PLAN).ref
    pass_sample(store, first)
    claims.submit(store, first, "coordinator")
    empty = claims.prepare(store, "2017-Q4", D1, PLAN)
    assert empty.ref == "2017-Q4-2" and empty.by_route == {} and empty.total_pence == 0
    assert claims.sample(store, empty.ref, seed=1) == []
    with pytest.raises(claims.ClaimError, match="2017-Q4-2 has no live lines: there is nothing to submit"):
        claims.submit(store, empty.ref, "coordinator")
    assert claims.claim_detail(store, empty.ref)[0]["status"] == "sampled"


def test_more_than_one_failure_in_five_needs_a_full_review(store):
    ref = claims.prepare(store, "2017-Q4", D1, PLAN).ref
    chosen = claims.sample(store, ref, seed=1)
    give_verdicts(store, ref, chosen, fail=set(chosen[:2]))
    with pytest.raises(claims.ClaimError, match="2 of 5 sampled lines failed"):
        claims.submit(store, ref, "coordinator")
    claims.review(store, ref, "coordinator", "all 6 files re-checked")
    assert claims.submit(store, ref, "coordinator") == len(CLAIMABLE) - 2


def test_submitting_outside_the_window_needs_a_reason(store):
    ref = claims.prepare(store, "2017-Q4", D1, PLAN, opens=dt.date(2017, 11, 1), closes=dt.date(2017, 11, 30)).ref
    pass_sample(store, ref)
    with pytest.raises(claims.ClaimError, match="outside the window"):
        claims.submit(store, ref, "coordinator", today=dt.date(2017, 12, 1))
    claims.submit(store, ref, "coordinator", late="window extended by the department", today=dt.date(2017, 12, 1))
    log = claims.audit_log(store, ref)
    assert log[-1]["action"] == "submit" and "late: window extended" in log[-1]["detail"]


def test_rebuilding_a_sampled_draft_discards_the_sample_and_says_so(store):
    ref = claims.prepare(store, "2017-Q4", D1, PLAN).ref
    pass_sample(store, ref)
    claims.prepare(store, "2017-Q4", D1, PLAN)
    assert not any(line["sampled"] for line in lines_of(store, ref).values())
    assert "sample and its verdicts were discarded" in claims.audit_log(store, ref)[-1]["detail"]
    prepared, rebuilt = claims.audit_log(store, ref)[0], claims.audit_log(store, ref)[-1]
    basis = f"plan troubled-families-2015 sha256 {PLAN.sha256[:16]}; records as of load "  # what the claim rests on
    assert prepared["action"] == "prepare" and basis in prepared["detail"] and basis in rebuilt["detail"]


def test_a_submitted_claim_is_immutable_in_the_database(store):
    ref = claims.prepare(store, "2017-Q4", D1, PLAN).ref
    pass_sample(store, ref)
    claims.submit(store, ref, "coordinator")
    attempts = [
        f"UPDATE claim_lines SET amount_pence = 1 WHERE claim_ref = '{ref}'",
        f"DELETE FROM claim_lines WHERE claim_ref = '{ref}'",
        f"UPDATE claims SET results_payment_pence = 1 WHERE ref = '{ref}'",
        f"UPDATE claims SET status = 'draft' WHERE ref = '{ref}'",
        f"UPDATE claims SET plan_text = 'name: other' WHERE ref = '{ref}'",
        # the move to paid is the one change allowed, and it changes nothing else
        f"UPDATE claims SET status = 'paid', closes = '2030-01-01' WHERE ref = '{ref}'",
        f"UPDATE claims SET status = 'paid', full_review_note = 'added later' WHERE ref = '{ref}'",
        f"UPDATE claims SET status = 'paid', plan_sha256 = 'x' WHERE ref = '{ref}'",
        f"DELETE FROM claims WHERE ref = '{ref}'",
        f"INSERT INTO claim_lines (claim_ref, family_id, attachment_date, themes_at_attachment, claim_route, "
        f"amount_pence, evidence, status, sampled) VALUES ('{ref}', 'F99', '2017-01-01', '', 'ssp', 1, '', 'live', false)",
    ]
    for statement in attempts:
        with pytest.raises(Exception, match="immutable"):
            with store.engine.begin() as connection:
                connection.execute(text(statement))
    with pytest.raises(claims.ClaimError, match="submitted"):
        claims.verdict(store, ref, "F01", False, "auditor")
    claims.paid(store, ref, 480000, "BACS-1")  # the one change the lifecycle allows
    with store.engine.connect() as connection:
        assert connection.execute(text(f"SELECT status FROM claims WHERE ref = '{ref}'")).scalar_one() == "paid"
        assert connection.execute(
            text(f"SELECT SUM(amount_pence) FROM claim_lines WHERE claim_ref = '{ref}'")
        ).scalar_one() == 80000 * len(CLAIMABLE)


def test_two_concurrent_submissions_never_give_a_family_two_live_results(db_url):
    setup = Store(db_url)
    ingest(BASIC, setup, PLAN.theme_codes)
    refs = [claims.prepare(setup, window, D1, PLAN).ref for window in ("2017-Q4", "2017-Q4b")]
    for ref in refs:
        pass_sample(setup, ref)
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[str, object] = {}

    def submit(ref):
        try:
            outcomes[ref] = claims.submit(Store(db_url), ref, "coordinator", before_register=lambda _: barrier.wait())
        except claims.ClaimError as error:
            outcomes[ref] = error

    threads = [threading.Thread(target=submit, args=(ref,)) for ref in refs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    errors = [o for o in outcomes.values() if isinstance(o, claims.ClaimError)]
    assert len(outcomes) == 2 and len(errors) == 1, outcomes
    assert "one result per family" in str(errors[0])
    with setup.engine.connect() as connection:
        per_family = connection.execute(
            text(
                "SELECT l.family_id, COUNT(*) FROM claim_lines l JOIN claims c ON c.ref = l.claim_ref "
                "WHERE l.status = 'live' AND c.status IN ('submitted', 'paid') GROUP BY l.family_id"
            )
        ).all()
    assert sorted(f for f, _ in per_family) == CLAIMABLE and all(n == 1 for _, n in per_family)


def test_the_claim_workbook_reads_back_cell_by_cell_with_a_hostile_family_id(tmp_path, db_url):
    """Ingest refuses an id a spreadsheet would run (test_hostile.py); one stored before that rule, or by another
    program, still reaches the workbook as text."""
    hostile = '=HYPERLINK("http://x","y")'
    store = Store(db_url)
    ingest(BASIC, store, PLAN.theme_codes)
    with store.engine.begin() as connection:
        for table, columns in {
            "families": ["family_id"],
            "members": ["family_id", "person_id"],
            **{t: ["person_id"] for t in ("events", "episodes", "indicators", "attendance")},
        }.items():
            for column in columns:
                connection.execute(
                    text(f"UPDATE {table} SET {column} = REPLACE({column}, 'F01', :hostile)"), {"hostile": hostile}
                )
    ref = claims.prepare(store, "2017-Q4", D1, PLAN, opens=dt.date(2017, 11, 1), closes=dt.date(2017, 11, 30)).ref
    pass_sample(store, ref)
    claims.submit(store, ref, "coordinator", late="test")
    path = write_claim_workbook(store, ref, tmp_path / "claim.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Document", "Summary", "Claims", "Audit sample", "Held", "Declaration", "Audit log"]
    about = {row[0].value: row[1].value for row in book["Document"].iter_rows() if row[0].value}
    assert about["Period"] == "window 2017-Q4, evidence date 31 Oct 2017"
    assert about["Outcome plan"] == f"{PLAN.name}, version SHA-256 {PLAN.sha256}"
    summary = {row[0].value: row[1] for row in book["Summary"].iter_rows() if row[0].value}
    assert summary["Claim reference"].value == ref
    assert summary["Evidence date"].value == dt.datetime(2017, 10, 31)
    assert (summary["Outcome plan"].value, summary["Outcome plan SHA-256"].value) == (PLAN.name, PLAN.sha256)
    assert summary["Total claimed (£)"].value == 800 * len(CLAIMABLE)
    assert "£" in summary["Total claimed (£)"].number_format
    assert summary["Families claimed by continuous employment"].value == 2
    assert summary["Families claimed by significant and sustained progress"].value == 4
    sheet = book["Claims"]
    shown = [c.value for c in sheet[1]]
    titles = [theme.title for theme in PLAN.themes]
    # headers in plain English; the field names stand beside them on the Document sheet
    assert shown == ["Family", "Attached on", *titles, "Route", "Amount (£)", "What the result rests on", "Status"]
    assert about["Family (family_id)"] == "the council's identifier of the family"
    header = ["family_id", "attachment_date", *titles, "claim_route", "amount", "evidence", "status"]
    rows = {r[0].value: dict(zip(header, r, strict=False)) for r in sheet.iter_rows(min_row=2)}
    cell = rows[hostile]["family_id"]
    assert cell.value == hostile and cell.data_type == "s"
    assert rows[hostile]["attachment_date"].value == dt.datetime(2016, 9, 15)
    assert rows[hostile]["amount"].value == 800 and rows["F03"]["claim_route"].value == "continuous employment"
    assert rows["F03"]["evidence"].value == "Continuous employment (F03-P1)"
    crime = PLAN.themes[0].title
    ssp = [r for r in rows.values() if r["claim_route"].value == "significant and sustained progress"]
    assert len(ssp) == 4 and any(r[crime].value == "Yes" for r in ssp)
    assert {rows[f][t].value for f in rows if f.startswith("F") for t in titles} == {"Yes", None}
    assert rows["Total of live lines"]["amount"].value == 800 * len(CLAIMABLE)
    setup = sheet.page_setup
    assert (setup.orientation, setup.fitToWidth, sheet.print_title_rows) == ("landscape", 1, "$1:$1")
    sample = book["Audit sample"]
    assert sample.max_row == 6 and all(r[2].value == "pass" for r in sample.iter_rows(min_row=2))
    declaration = " ".join(str(c.value) for c in book["Declaration"]["A"] if c.value)
    assert "coordinator" in declaration and "Chief internal auditor" in declaration
    actions = [r[2].value for r in book["Audit log"].iter_rows(min_row=2)]
    assert actions[0] == "prepare" and actions[-1] == "submit"
    raw = __import__("zipfile").ZipFile(path).read("xl/worksheets/sheet3.xml").decode()
    assert "<f>" not in raw and "<headerFooter>" in raw


def test_claim_commands_through_the_cli(tmp_path, sqlite_url):
    run_pbr("--db", sqlite_url, "ingest", str(BASIC), check=True)
    prepared = run_pbr(
        "--db", sqlite_url, "claim", "prepare", "--window", "2017-Q4", "--evidence-date", "2017-10-31", check=True
    )
    assert "2 by continuous employment, 4 by significant and sustained progress" in prepared.stdout
    assert "£4,800.00" in prepared.stdout
    refused = run_pbr("--db", sqlite_url, "claim", "submit", "--claim", "2017-Q4-1", "--by", "me")
    assert refused.returncode == 1 and "no audit sample yet" in refused.stderr
    sampled = run_pbr("--db", sqlite_url, "claim", "sample", "--claim", "2017-Q4-1", "--seed", "5", check=True)
    for family in sampled.stdout.split()[-5:]:
        run_pbr(
            "--db",
            sqlite_url,
            "claim",
            "verdict",
            "--claim",
            "2017-Q4-1",
            "--family",
            family,
            "--pass",
            "--by",
            "auditor",
            check=True,
        )
    run_pbr("--db", sqlite_url, "claim", "submit", "--claim", "2017-Q4-1", "--by", "me", check=True)
    run_pbr(
        "--db",
        sqlite_url,
        "claim",
        "paid",
        "--claim",
        "2017-Q4-1",
        "--amount",
        "4800.00",
        "--reference",
        "R1",
        check=True,
    )
    listing = run_pbr("--db", sqlite_url, "claim", "list", check=True)
    assert "paid" in listing.stdout and "4,800.00" in listing.stdout
    assert f"troubled-families-2015 ({PLAN.sha256[:12]})" in listing.stdout  # the rules the claim rests on
    run_pbr(
        "--db", sqlite_url, "claim", "workbook", "--claim", "2017-Q4-1", "--out", str(tmp_path / "c.xlsx"), check=True
    )
    assert (tmp_path / "c.xlsx").exists()


@pytest.mark.parametrize(
    "text,pence", [("£1,000.50", 100050), ("800", 80000), (" 0.05 ", 5), ("-12.30", -1230), ("21474836.47", 2147483647)]
)
def test_amounts_in_pounds_become_exact_pence(text, pence):
    assert claims.pounds_to_pence(text) == pence


@pytest.mark.parametrize(
    "text,words",
    [
        ("12.345", "more than 2 decimal places"),
        ("ten", "not an amount"),
        ("Infinity", "not an amount"),
        ("NaN", "not an amount"),
        ("1e10", "is more than £21,474,836.47 either way, the most pbr stores"),
    ],
)
def test_an_amount_that_is_not_pounds_and_pence_is_refused(text, words):
    with pytest.raises(claims.ClaimError, match=words):
        claims.pounds_to_pence(text)
