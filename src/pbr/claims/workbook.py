"""The claim workbook (programme.md, "Workbooks"): summary, claimed families, audit sample, held, declaration."""

from __future__ import annotations

from pathlib import Path

from pbr.claims import audit_log, claim_detail
from pbr.engine.reasons import ROUTE_WORDS
from pbr.periods import day_in_words
from pbr.settings import Council
from pbr.store import Store
from pbr.workbooks import Document, Pence, new_workbook, save, set_value, write_rows


def evidence_in_brief(route: str | None, evidence: str | None) -> str:
    """What a line's result rests on, in a few words: the full evidence of each measure is in the decisions
    workbook and the family's spot-check pack."""
    if route == "ce":
        people = [part.split(": ", 1)[0] for part in (evidence or "").split(" | ") if part]
        return "; ".join(dict.fromkeys(people)) or "Continuous employment"
    return "Sustained progress on every problem" if route == "ssp" else ""


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
        words = ROUTE_WORDS.get(route, route)
        rows.append((f"Families claimed by {words}", sum(1 for line in live if line["claim_route"] == route)))
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


def _claimed_families(book, claim: dict, lines: list[dict]) -> None:
    """One row per line: a Yes under each problem the family had at attachment (the plan's titles as headers), the
    route in words, the amount and a total of the live lines."""
    plan = _plan_of(claim)
    codes = sorted({code for line in lines for code in (line["themes_at_attachment"] or "").split(";") if code})
    themes = [(t.code, t.title) for t in plan.themes] if plan else [(code, code) for code in codes]
    header = ["family_id", "attachment_date", *(title for _, title in themes), "claim_route", "amount", "evidence"]
    header.append("status")
    rows = [
        [
            line["family_id"],
            line["attachment_date"],
            *("Yes" if code in (line["themes_at_attachment"] or "").split(";") else "" for code, _ in themes),
            ROUTE_WORDS.get(line["claim_route"], line["claim_route"]),
            line["amount_pence"],
            evidence_in_brief(line["claim_route"], line["evidence"]),
            line["status"],
        ]
        for line in lines
    ]
    widths = {title: 13 for _, title in themes} | {"evidence": 36, "claim_route": 22}
    sheet = book.create_sheet("Claims")
    write_rows(sheet, header, rows, money={"amount"}, widths=widths, empty="No family is claimed in this claim.")
    if rows:
        set_value(sheet.cell(row=len(rows) + 2, column=1), "Total of live lines")
        set_value(
            sheet.cell(row=len(rows) + 2, column=header.index("amount") + 1),
            Pence(sum(line["amount_pence"] for line in lines if line["status"] == "live")),
        )


def write_claim_workbook(
    store: Store, ref: str, path: str | Path, council: Council | None = None, parameters=None
) -> Path:
    """Summary, claimed families, audit sample, held families, declaration and audit log of one claim."""
    claim, lines, held = claim_detail(store, ref)
    who = council or Council()
    book = new_workbook()
    _summary(book, claim, lines, held, who, parameters)
    _claimed_families(book, claim, lines)
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
        widths={"note": 50},
        empty="No family has been sampled yet.",
    )
    write_rows(
        book.create_sheet("Held"),
        ["family_id", "reason"],
        ([h["family_id"], h["reason"]] for h in held),
        widths={"reason": 80},
        empty="No family was held from this claim.",
    )

    _declaration(book, ref, who)

    write_rows(
        book.create_sheet("Audit log"),
        ["at", "actor", "action", "detail"],
        ([entry["at"], entry["actor"], entry["action"], entry["detail"] or ""] for entry in audit_log(store, ref)),
        widths={"detail": 80, "at": 20},
    )
    plan_text = f"{claim['plan_name'] or 'not recorded'}" + (
        f", version SHA-256 {claim['plan_sha256']}" if claim["plan_sha256"] else ""
    )
    document = Document(
        f"Claim {ref}",
        f"window {claim['window_id']}, evidence date {day_in_words(claim['evidence_date'])}",
        council=f"{who.name} ({who.code})",
        plan=plan_text,
        produced_by="pbr, for the Troubled Families coordinator",
        plain_headers=True,
    )
    return save(book, path, document=document)
