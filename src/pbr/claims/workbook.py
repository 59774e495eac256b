"""The claim workbook (programme.md, "Workbooks"): summary, claimed families, audit sample, held, declaration."""

from __future__ import annotations

from pathlib import Path

from pbr.claims import audit_log, claim_detail
from pbr.settings import Council
from pbr.store import Store
from pbr.workbooks import Pence, new_workbook, save, set_value, write_rows

CLAIM_COLUMNS = ["family_id", "attachment_date", "themes_at_attachment", "claim_route", "amount", "evidence", "status"]


def _plan_of(claim: dict):
    from pbr.plan import PlanError, plan_from_text

    if not claim["plan_text"]:
        return None
    try:
        return plan_from_text(claim["plan_text"], source=f"the plan of claim {claim['ref']}")
    except PlanError:
        return None


def _programme(claim: dict) -> str:
    plan = _plan_of(claim)
    return plan.programme if plan else "not recorded"


def _payment_source(claim: dict, parameters) -> str:
    """Where the claim's results payment comes from: the money parameter's reference."""
    from pbr.plan import PlanError, load_parameters

    plan = _plan_of(claim)
    if plan is None:
        return "not recorded"
    try:
        return (parameters or load_parameters()).money(plan.programme)["results_payment_pence"].reference
    except PlanError as error:
        return f"not found: {error}"


def _summary(book, claim: dict, lines: list[dict], held: list[dict], who: Council, parameters=None) -> None:
    ref = claim["ref"]
    live = [line for line in lines if line["status"] == "live"]
    summary = book.create_sheet("Summary")
    rows = [
        ("Council", who.name),
        ("Council code", who.code),
        ("Claim reference", ref),
        ("Window", claim["window_id"]),
        ("Evidence date", claim["evidence_date"]),
        ("Window opens", claim["opens"]),
        ("Window closes", claim["closes"]),
        ("Status", claim["status"]),
        ("Results payment per family (£)", Pence(claim["results_payment_pence"])),
        ("Outcome plan", claim["plan_name"] or "not recorded (prepared before claims kept their plan)"),
        ("Programme (money parameters)", _programme(claim)),
        ("Results payment source", _payment_source(claim, parameters)),
        ("Outcome plan SHA-256", claim["plan_sha256"] or ""),
    ]
    for route in sorted({line["claim_route"] for line in live}):
        rows.append((f"Families claimed by route {route}", sum(1 for line in live if line["claim_route"] == route)))
    rows += [
        ("Families claimed", len(live)),
        ("Families held (see sheet Held)", len(held)),
        ("Total claimed (£)", Pence(sum(line["amount_pence"] for line in live))),
    ]
    for r, (label, value) in enumerate(rows, start=1):
        set_value(summary.cell(row=r, column=1), label)
        set_value(summary.cell(row=r, column=2), value)
    summary.column_dimensions["A"].width, summary.column_dimensions["B"].width = 36, 28


def _declaration(book, ref: str, who: Council) -> None:
    declaration = book.create_sheet("Declaration")
    text = [
        f"Declaration for claim {ref} ({who.name})",
        "",
        "I confirm that the families in this claim were attached to the programme, that each meets the outcome plan "
        "by the route shown, and that the evidence is held and available for inspection.",
        "",
        "Troubled Families coordinator:  name ____________________  signature ____________________  date __________",
        "",
        "I confirm that internal audit has verified the sample on sheet 'Audit sample' and found the claim valid.",
        "",
        "Chief internal auditor:  name ____________________  signature ____________________  date __________",
    ]
    for r, line in enumerate(text, start=1):
        set_value(declaration.cell(row=r, column=1), line)
    declaration.column_dimensions["A"].width = 120


def write_claim_workbook(
    store: Store, ref: str, path: str | Path, council: Council | None = None, parameters=None
) -> Path:
    """Summary, claimed families, audit sample, held families, declaration and audit log of one claim."""
    claim, lines, held = claim_detail(store, ref)
    who = council or Council()
    book = new_workbook()
    _summary(book, claim, lines, held, who, parameters)
    write_rows(
        book.create_sheet("Claims"),
        CLAIM_COLUMNS,
        (
            [
                line["family_id"],
                line["attachment_date"],
                line["themes_at_attachment"],
                line["claim_route"],
                line["amount_pence"],
                line["evidence"],
                line["status"],
            ]
            for line in lines
        ),
        money={"amount"},
        widths={"evidence": 100, "themes_at_attachment": 40},
    )
    write_rows(
        book.create_sheet("Audit sample"),
        ["family_id", "claim_route", "verdict", "verdict_by", "note", "status"],
        (
            [
                line["family_id"],
                line["claim_route"],
                line["verdict"] or "",
                line["verdict_by"] or "",
                line["verdict_note"] or "",
                line["status"],
            ]
            for line in lines
            if line["sampled"]
        ),
    )
    write_rows(
        book.create_sheet("Held"),
        ["family_id", "reason"],
        ([h["family_id"], h["reason"]] for h in held),
        widths={"reason": 80},
    )

    _declaration(book, ref, who)

    write_rows(
        book.create_sheet("Audit log"),
        ["at", "actor", "action", "detail"],
        ([entry["at"], entry["actor"], entry["action"], entry["detail"] or ""] for entry in audit_log(store, ref)),
        widths={"detail": 80, "at": 20},
    )
    return save(book, path)
