"""Claims (programme.md, "Claims"): windows, one result per family, the internal-audit sample, the lifecycle.

draft -> sampled -> submitted -> paid. From `submitted` on a claim and its lines are immutable (database
triggers too); corrections are new records (recoveries). Every state change goes to the audit log.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import polars as pl
import yaml
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from pbr.contract import MAX_INTEGER
from pbr.money import pounds
from pbr.periods import utc_now
from pbr.plan import Parameters, Plan, PlanError, load_parameters, plan_from_text
from pbr.store import Store
from pbr.store.models import (
    AuditLog,
    Claim,
    ClaimHeld,
    ClaimLine,
    ClaimPayment,
    FamilyResult,
    QuarantineEntry,
    Recovery,
)

CLAIMS, LINES, HELD = Claim.__table__, ClaimLine.__table__, ClaimHeld.__table__
QUARANTINE = QuarantineEntry.__table__
RESULTS, PAYMENTS, RECOVERIES, AUDIT = (
    FamilyResult.__table__,
    ClaimPayment.__table__,
    Recovery.__table__,
    AuditLog.__table__,
)


# a window id becomes part of each claim's reference, its web address and its workbook's file name
WINDOW_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


class ClaimError(ValueError):
    """A claim action that is refused; the message says why and what to do."""


@dataclass
class Prepared:
    ref: str
    rebuilt: bool
    by_route: dict[str, int]
    total_pence: int
    held: int  # by quarantine
    recovered: int = 0  # recovered from a claim whose evidence date is not earlier: a later window only


def _audit(connection, actor: str, action: str, ref: str, detail: str | None = None) -> None:
    """Every claim step is recorded; a step whose actor cannot be recorded is refused with it (one transaction)."""
    _check_text(actor, "who (--by)")
    connection.execute(
        insert(AUDIT).values(at=utc_now(), actor=actor, action=action, entity="claim", entity_id=ref, detail=detail)
    )


def _check_text(value: str | None, what: str, limit: int | None = 200) -> None:
    """Text a person typed, as the database can hold it: no NUL character, and within `limit` where given."""
    if value is None and limit is None:
        return
    if "\x00" in (value or ""):
        raise ClaimError(f"{what} holds a NUL character (byte 0), which no text may hold")
    if limit is not None and (not value or not value.strip() or len(value) > limit):
        raise ClaimError(f"{what} must be 1 to {limit} characters: {value[:40]!r}{'...' if len(value) > 40 else ''}")


def _claim(connection, ref: str) -> dict:
    row = connection.execute(select(CLAIMS).where(CLAIMS.c.ref == ref)).mappings().first()
    if row is None:
        raise ClaimError(f"no claim {ref} (see pbr claim list)")
    return dict(row)


def pounds_to_pence(text: str) -> int:
    """Pounds as a person writes them (`1,234.50`, `£800`) as whole pence; anything else is refused, saying why."""
    try:
        value = Decimal(text.replace("£", "").replace(",", "").strip())
    except InvalidOperation:
        raise ClaimError(f"amount {text!r} is not an amount in pounds") from None
    if not value.is_finite():
        raise ClaimError(f"amount {text!r} is not an amount in pounds")
    if abs(value) * 100 > MAX_INTEGER:  # before any rounding: a huge exponent cannot be rounded to pence
        raise ClaimError(f"amount {text!r} is more than {pounds(MAX_INTEGER)} either way, the most pbr stores")
    if value != value.quantize(Decimal("0.01")):
        raise ClaimError(f"amount {text!r} has more than 2 decimal places")
    return int(value * 100)


def _line_evidence(detail: pl.DataFrame, decisions: pl.DataFrame) -> pl.DataFrame:
    """One text per family: the evidence of the route it is claimed by."""
    routes = decisions.select("family_id", "claim_route")
    rows = detail.join(routes, on="family_id").filter(
        pl.when(pl.col("claim_route") == "ce")
        .then(pl.col("theme") == "continuous_employment")
        .otherwise(pl.col("theme") != "continuous_employment")
        & pl.col("met")
    )
    return rows.group_by("family_id").agg(
        (pl.col("evidence") + pl.lit(" [") + pl.col("measure") + pl.lit("]")).sort().str.join(" | ").alias("evidence")
    )


def _plan_columns(plan: Plan) -> dict:
    """The plan a claim rests on, kept with it so that submission decides by the same rules."""
    if not plan.text:  # built in Python, not read: kept as the YAML of its content, digested as plans are read
        plan = plan_from_text(yaml.safe_dump(plan.raw, sort_keys=False, allow_unicode=True), source=plan.source)
    return {"plan_name": plan.name, "plan_sha256": plan.sha256, "plan_text": plan.text}


def _not_borne_out(store: Store, claim: dict, lines: list[dict], codes: dict | None) -> list[str]:
    """The live lines the records as they stand now no longer bear out: the claim's plan, at its evidence date.

    A line is borne out when its family is still claimable and the route it was prepared with, whose evidence
    the line holds, still holds.
    """
    if not claim["plan_text"]:  # prepared before claims kept their plan (migration 0005): nothing to decide by
        return []
    try:
        plan = plan_from_text(claim["plan_text"], source=f"the plan of claim {claim['ref']}", vocabularies=codes)
    except PlanError as error:
        raise ClaimError(
            f"claim {claim['ref']} cannot be checked against its plan ({error}): prepare the window "
            f"again: pbr claim prepare --window {claim['window_id']}"
        ) from None
    from pbr.evaluate import evaluate

    decisions = evaluate(as_of=claim["evidence_date"], plan=plan, store=store).decisions
    prepared = pl.DataFrame(
        [(line["family_id"], line["claim_route"]) for line in lines],
        orient="row",
        schema={"family_id": pl.String, "prepared_route": pl.String},
    )
    checked = prepared.join(
        decisions.select("family_id", "claimable", "claim_route", "ssp_met", "ce_met", "reason"),
        on="family_id",
        how="left",
    ).with_columns(pl.col("claimable").fill_null(False))
    unclaimable = checked.filter(~pl.col("claimable")).select(
        "family_id",
        pl.lit("no longer claimable: ") + pl.col("reason").fill_null("the family is no longer in the records"),
    )
    route_holds = pl.when(pl.col("prepared_route") == "ce").then(pl.col("ce_met")).otherwise(pl.col("ssp_met"))
    moved = checked.filter(pl.col("claimable") & ~route_holds).select(
        "family_id",
        pl.lit("the ")
        + pl.col("prepared_route")
        + pl.lit(" evidence on its line no longer holds; claimable now by route ")
        + pl.col("claim_route"),
    )
    return [f"{family} ({why})" for family, why in pl.concat([unclaimable, moved]).sort("family_id").iter_rows()]


def _recovered_since(connection, evidence_date: dt.date) -> pl.DataFrame:
    """Families whose result was recovered from a claim with this evidence date or a later one.

    programme.md: a recovered family may be claimed again only if a later window proves a result afresh.
    """
    rows = connection.execute(
        select(RECOVERIES.c.family_id, CLAIMS.c.ref, CLAIMS.c.evidence_date)
        .join(CLAIMS, CLAIMS.c.ref == RECOVERIES.c.claim_ref)
        .where(CLAIMS.c.evidence_date >= evidence_date)
        .order_by(RECOVERIES.c.family_id, CLAIMS.c.evidence_date.desc())
    ).all()
    frame = pl.DataFrame(
        rows,
        schema={"family_id": pl.String, "recovered_from": pl.String, "recovered_evidence_date": pl.Date},
        orient="row",
    )
    return frame.unique("family_id", keep="first", maintain_order=True)


def _recovered_reason(claim_ref: str, evidence_date: dt.date) -> str:
    return (
        f"result recovered from claim {claim_ref} (evidence date {evidence_date}): it may be claimed again only "
        f"in a window whose evidence date is later"
    )


def _check_window(opens: dt.date | None, closes: dt.date | None) -> None:
    if opens and closes and opens > closes:
        raise ClaimError(f"the window opens on {opens}, after it closes on {closes}")


def _price(plan: Plan, parameters: Parameters | None, evidence_date: dt.date, claimable: pl.DataFrame) -> int:
    """The results payment of the plan's programme on the evidence date; every family's fee must be in force."""
    try:
        money = (parameters or load_parameters()).money(plan.programme)
        payment = money["results_payment_pence"].at(evidence_date)
    except PlanError as error:
        raise ClaimError(f"evidence date {evidence_date}: {error}") from None
    fee = money["attachment_fee_pence"]
    before_fees = claimable.filter(pl.col("attachment_date") < pl.lit(fee.first_day))
    if before_fees.height:
        ids = ", ".join(before_fees["family_id"].head(10).to_list())
        raise ClaimError(
            f"no attachment fee in force on the attachment date of family {ids} "
            f"(first from {fee.first_day}): correct the attachment date or the parameters"
        )
    return payment


def _open_claim(connection, window_id: str, evidence_date: dt.date, values: dict, actor: str, basis: str) -> tuple:
    """The window's draft or sampled claim, rebuilt with `values` (its lines and held list emptied); else a new
    claim. Returns its reference and whether it was rebuilt."""
    existing = (
        connection.execute(select(CLAIMS).where(CLAIMS.c.window_id == window_id).order_by(CLAIMS.c.created_at.desc()))
        .mappings()
        .all()
    )
    open_claim = next((c for c in existing if c["status"] in ("draft", "sampled")), None)
    if open_claim is None:
        ref = f"{window_id}-{len(existing) + 1}"
        connection.execute(
            insert(CLAIMS).values(ref=ref, window_id=window_id, status="draft", created_at=utc_now(), **values)
        )
        _audit(connection, actor, "prepare", ref, f"evidence date {evidence_date}; {basis}")
        return ref, False
    values = {
        **values,
        "opens": values["opens"] or open_claim["opens"],
        "closes": values["closes"] or open_claim["closes"],
    }
    _check_window(values["opens"], values["closes"])
    ref = open_claim["ref"]
    connection.execute(delete(LINES).where(LINES.c.claim_ref == ref))
    connection.execute(delete(HELD).where(HELD.c.claim_ref == ref))
    connection.execute(
        update(CLAIMS)
        .where(CLAIMS.c.ref == ref)
        .values(status="draft", sample_seed=None, full_review_by=None, full_review_note=None, **values)
    )
    detail = f"rebuilt: evidence date {evidence_date}; {basis}"
    if open_claim["status"] == "sampled":
        detail += "; the audit sample and its verdicts were discarded"
    _audit(connection, actor, "rebuild", ref, detail)
    return ref, True


def _write_lines(
    connection, ref: str, payment: int, lines: pl.DataFrame, held: pl.DataFrame, recovered: pl.DataFrame
) -> None:
    rows = lines.select(
        "family_id", "attachment_date", "themes_at_attachment", "claim_route", pl.col("evidence").fill_null("")
    ).to_dicts()
    for row in rows:
        row.update(claim_ref=ref, amount_pence=payment, status="live", sampled=False)
    if rows:
        connection.execute(insert(LINES), rows)
    quarantined = "record(s) in quarantine: clear them (pbr quarantine) to claim this family"
    held_rows = [
        {"claim_ref": ref, "family_id": f, "reason": f"{n} {quarantined}"}
        for f, n in held.select("family_id", "quarantined_records").iter_rows()
    ]
    held_rows += [
        {"claim_ref": ref, "family_id": f, "reason": _recovered_reason(c, d)} for f, c, d in recovered.iter_rows()
    ]
    if held_rows:
        connection.execute(insert(HELD), held_rows)


def prepare(
    store: Store,
    window_id: str,
    evidence_date: dt.date,
    plan: Plan,
    actor: str = "pbr",
    opens: dt.date | None = None,
    closes: dt.date | None = None,
    parameters: Parameters | None = None,
    today: dt.date | None = None,
) -> Prepared:
    """Build or rebuild the draft claim for a window from the decisions as of its evidence date, priced by the
    money of the plan's programme (the shipped parameters unless given)."""
    today = today or dt.date.today()
    if not WINDOW_ID.fullmatch(window_id):
        raise ClaimError(f"window id {window_id!r}: use up to 40 letters, digits, '.', '-' or '_', e.g. 2017-Q3")
    _check_window(opens, closes)
    if evidence_date > today:
        raise ClaimError(
            f"the evidence date {evidence_date} is after today ({today}): a claim rests on results "
            "already seen; pbr evaluate forecasts when a family will be claimable"
        )
    from pbr.evaluate import evaluate

    evaluation = evaluate(as_of=evidence_date, plan=plan, store=store)
    claimable = evaluation.decisions.filter(pl.col("claimable"))
    payment = _price(plan, parameters, evidence_date, claimable)
    evidence = _line_evidence(evaluation.detail, claimable)
    # what the claim rests on, for an auditor: the plan decides, and the last load and audit entry pin the records
    history = evaluation.database or {}
    basis = (
        f"plan {plan.name} sha256 {plan.sha256[:16]}; records as of load {history.get('last_load_id') or 'none'}, "
        f"audit entry {history.get('last_audit_entry_id') or 'none'}"
    )
    values = {
        "evidence_date": evidence_date,
        "opens": opens,
        "closes": closes,
        "results_payment_pence": payment,
        **_plan_columns(plan),
    }
    with store.engine.begin() as connection:
        claimed = pl.DataFrame(
            {"family_id": connection.execute(select(RESULTS.c.family_id)).scalars().all()},
            schema={"family_id": pl.String},
        )
        unclaimed = claimable.join(claimed, on="family_id", how="anti")
        held = unclaimed.filter(pl.col("quarantined_records") > 0)
        lines = unclaimed.filter(pl.col("quarantined_records") == 0).join(evidence, on="family_id", how="left")
        recovered = lines.select("family_id").join(_recovered_since(connection, evidence_date), on="family_id")
        lines = lines.join(recovered, on="family_id", how="anti")
        ref, rebuilt = _open_claim(connection, window_id, evidence_date, values, actor, basis)
        _write_lines(connection, ref, payment, lines, held, recovered)
    by_route = dict(lines.group_by("claim_route").len().sort("claim_route").iter_rows())
    return Prepared(ref, rebuilt, by_route, payment * lines.height, held.height, recovered.height)


def _audit_number(parameters: Parameters | None, name: str, day: dt.date) -> int:
    try:
        return (parameters or load_parameters()).audit[name].at(day)
    except PlanError as error:
        raise ClaimError(f"internal audit on {day}: {error}") from None


def sample_size(lines: int, percent: int = 10, minimum: int = 5) -> int:
    """ceil(percent% of the lines), at least `minimum`, all of them if fewer (programme.md, "Internal audit")."""
    return min(lines, max(minimum, math.ceil(lines * percent / 100)))


def allocate(counts: dict[str, int], size: int) -> dict[str, int]:
    """Split the sample across routes in proportion to their lines, largest remainder first."""
    total = sum(counts.values())
    if total == 0:
        return {route: 0 for route in counts}
    quotas = {route: size * n // total for route, n in counts.items()}
    remainders = sorted(counts, key=lambda route: (-(size * counts[route] % total), route))
    for route in remainders[: size - sum(quotas.values())]:
        quotas[route] += 1
    return quotas


def sample(
    store: Store, ref: str, seed: int | None = None, actor: str = "pbr", parameters: Parameters | None = None
) -> list[str]:
    """Draw the audit sample once, by the audit parameters in force on the claim's evidence date."""
    with store.engine.begin() as connection:
        claim = _claim(connection, ref)
        if claim["status"] == "sampled":  # drawing again until a sample pleases would defeat the audit
            raise ClaimError(
                f"claim {ref} already has its audit sample (seed {claim['sample_seed']}), and it stands: "
                "preparing the window again rebuilds the draft and discards the sample, and the audit "
                "log says so"
            )
        if claim["status"] != "draft":
            raise ClaimError(f"claim {ref} is {claim['status']}: its sample can no longer be drawn")
        seed = seed if seed is not None else secrets.randbelow(2**31)
        lines = connection.execute(
            select(LINES.c.family_id, LINES.c.claim_route).where(
                (LINES.c.claim_ref == ref) & (LINES.c.status == "live")
            )
        ).all()
        by_route: dict[str, list[str]] = {}
        for family, route in lines:
            by_route.setdefault(route, []).append(family)
        size = sample_size(
            len(lines),
            _audit_number(parameters, "sample_percent", claim["evidence_date"]),
            _audit_number(parameters, "sample_minimum", claim["evidence_date"]),
        )
        quotas = allocate({r: len(f) for r, f in by_route.items()}, size)
        chooser = random.Random(seed)
        chosen = []
        for route in sorted(by_route):
            chosen += chooser.sample(sorted(by_route[route]), quotas[route])
        connection.execute(
            update(LINES)
            .where(LINES.c.claim_ref == ref)
            .values(sampled=False, verdict=None, verdict_by=None, verdict_note=None)
        )
        if chosen:
            connection.execute(
                update(LINES).where((LINES.c.claim_ref == ref) & LINES.c.family_id.in_(chosen)).values(sampled=True)
            )
        connection.execute(update(CLAIMS).where(CLAIMS.c.ref == ref).values(status="sampled", sample_seed=seed))
        _audit(
            connection,
            actor,
            "sample",
            ref,
            f"seed {seed}: {len(chosen)} of {len(lines)} lines ({', '.join(f'{r} {q}' for r, q in sorted(quotas.items()))})",
        )
    return sorted(chosen)


def verdict(store: Store, ref: str, family: str, passed: bool, by: str, note: str | None = None) -> None:
    _check_text(note, "the note", limit=None)
    with store.engine.begin() as connection:
        claim = _claim(connection, ref)
        if claim["status"] != "sampled":
            raise ClaimError(f"claim {ref} is {claim['status']}: verdicts are recorded on a sampled claim")
        line = (
            connection.execute(select(LINES).where((LINES.c.claim_ref == ref) & (LINES.c.family_id == family)))
            .mappings()
            .first()
        )
        if line is None or not line["sampled"]:
            raise ClaimError(f"family {family} is not in the audit sample of claim {ref}")
        values = {"verdict": "pass" if passed else "fail", "verdict_by": by, "verdict_note": note}
        if not passed:
            values.update(status="withdrawn", withdrawn_reason=note or "failed internal audit")
        else:
            values.update(status="live", withdrawn_reason=None)
        connection.execute(update(LINES).where(LINES.c.id == line["id"]).values(**values))
        _audit(connection, by, f"verdict {values['verdict']}", ref, f"family {family}" + (f": {note}" if note else ""))


def review(store: Store, ref: str, by: str, note: str) -> None:
    _check_text(note, "the note", limit=None)
    with store.engine.begin() as connection:
        claim = _claim(connection, ref)
        if claim["status"] != "sampled":
            raise ClaimError(f"claim {ref} is {claim['status']}: a full review is recorded on a sampled claim")
        connection.execute(update(CLAIMS).where(CLAIMS.c.ref == ref).values(full_review_by=by, full_review_note=note))
        _audit(connection, by, "full review", ref, note)


def _check_audit(claim: dict, lines: list[dict], parameters: Parameters | None) -> None:
    """Every sampled line has its verdict, and a sample failing too often has its full review."""
    ref = claim["ref"]
    if claim["status"] == "draft":
        raise ClaimError(f"claim {ref} has no audit sample yet: run pbr claim sample --claim {ref}")
    if claim["status"] != "sampled":
        raise ClaimError(f"claim {ref} is already {claim['status']}")
    sampled = [line for line in lines if line["sampled"]]
    waiting = [line["family_id"] for line in sampled if line["verdict"] is None]
    if waiting:
        raise ClaimError(f"{len(waiting)} sampled line(s) have no verdict yet: {', '.join(waiting[:10])}")
    failed = sum(1 for line in sampled if line["verdict"] == "fail")
    one_in = _audit_number(parameters, "full_review_one_in", claim["evidence_date"])
    if failed * one_in > len(sampled) and not claim["full_review_by"]:
        raise ClaimError(
            f"{failed} of {len(sampled)} sampled lines failed (more than one in {one_in}): the "
            f"whole claim needs a full review; record it with pbr claim review --claim {ref}"
        )


def _check_lines_stand(connection, store: Store, claim: dict, live: list[dict], codes: dict | None) -> None:
    """Nothing since the claim was prepared has taken a live line's family away: a quarantine hold, a recovery,
    a correction of its records, or another claim."""
    families = [line["family_id"] for line in live]
    again = f"pbr claim prepare --window {claim['window_id']}"
    held = connection.execute(
        select(QUARANTINE.c.family_id, func.count())
        .where(QUARANTINE.c.family_id.in_(families))
        .group_by(QUARANTINE.c.family_id)
        .order_by(QUARANTINE.c.family_id)
    ).all()
    if held:
        raise ClaimError(
            "held by quarantine since the claim was prepared: "
            + ", ".join(f"{f} ({n} record(s))" for f, n in held[:10])
            + "; clear them (pbr quarantine), or prepare the "
            f"window again to leave them out: {again}"
        )
    recovered = _recovered_since(connection, claim["evidence_date"]).filter(pl.col("family_id").is_in(families))
    if recovered.height:
        raise ClaimError(
            "; ".join(f"{f}: {_recovered_reason(c, d)}" for f, c, d in recovered.head(10).iter_rows())
            + f"; prepare the window again to leave them out: {again}"
        )
    gone = _not_borne_out(store, claim, live, codes)
    if gone:
        raise ClaimError(
            f"the records as they stand now no longer bear out {len(gone)} line(s) at the evidence "
            f"date {claim['evidence_date']}: "
            + "; ".join(gone[:10])
            + (f"; and {len(gone) - 10} more" if len(gone) > 10 else "")
            + f"; prepare the window again: {again}"
        )
    taken = connection.execute(
        select(RESULTS.c.family_id, RESULTS.c.claim_ref).where(RESULTS.c.family_id.in_(families))
    ).all()
    if taken:
        raise ClaimError(
            "already claimed: " + ", ".join(f"{f} in {c}" for f, c in taken[:10]) + f"; rebuild the claim with {again}"
        )


def submit(
    store: Store,
    ref: str,
    by: str,
    late: str | None = None,
    today: dt.date | None = None,
    parameters: Parameters | None = None,
    codes: dict | None = None,
    before_register: Callable[[str], None] | None = None,
) -> int:
    """Submit a sampled claim whose every line the records still bear out; from then on it is immutable.

    `before_register(ref)` is called between the one-result check and the register insert.
    """
    today = today or dt.date.today()
    _check_text(late, "the reason for a late submission", limit=None)
    families: list[str] = []
    try:
        with store.engine.begin() as connection:
            claim = _claim(connection, ref)
            lines = connection.execute(select(LINES).where(LINES.c.claim_ref == ref)).mappings().all()
            _check_audit(claim, lines, parameters)
            outside = (claim["opens"] and today < claim["opens"]) or (claim["closes"] and today > claim["closes"])
            if outside and not late:
                raise ClaimError(
                    f"today ({today}) is outside the window {claim['opens']} to {claim['closes']}: "
                    "submit with --late REASON"
                )
            live = [line for line in lines if line["status"] == "live"]
            if not live:
                raise ClaimError(
                    f"claim {ref} has no live lines: there is nothing to submit (every claimable family "
                    "is claimed already, withdrawn or held by quarantine)"
                )
            families = [line["family_id"] for line in live]
            _check_lines_stand(connection, store, claim, live, codes)
            if before_register is not None:
                before_register(ref)
            connection.execute(
                insert(RESULTS),
                [{"family_id": line["family_id"], "claim_ref": ref, "line_id": line["id"]} for line in live],
            )
            connection.execute(
                update(CLAIMS)
                .where(CLAIMS.c.ref == ref)
                .values(status="submitted", submitted_by=by, submitted_at=utc_now(), late_reason=late)
            )
            _audit(connection, by, "submit", ref, f"{len(live)} live lines" + (f"; late: {late}" if late else ""))
            return len(live)
    except (IntegrityError, OperationalError) as error:
        raise _submission_refused(store, ref, families, error) from None


def _submission_refused(store: Store, ref: str, families: list[str], error: Exception) -> ClaimError:
    """What stopped a submission at the database: another claim registering one of its families at the same
    moment (the one-result-per-family register), or the database error itself."""
    try:
        with store.engine.connect() as connection:
            taken = connection.execute(
                select(RESULTS.c.family_id, RESULTS.c.claim_ref).where(
                    RESULTS.c.family_id.in_(families) & (RESULTS.c.claim_ref != ref)
                )
            ).all()
    except OperationalError:
        taken = []
    if isinstance(error, IntegrityError) or taken:
        which = ", ".join(f"{f} in {c}" for f, c in taken[:10]) or "one of its families"
        return ClaimError(
            f"claim {ref} not submitted: another claim registered {which} at the same moment (one "
            "result per family); rebuild it and try again"
        )
    return ClaimError(
        f"claim {ref} not submitted: the database refused the change "
        f"({str(getattr(error, 'orig', error)).splitlines()[0]}); nothing was recorded, try again"
    )


def paid(store: Store, ref: str, amount_pence: int, reference: str, actor: str = "pbr") -> None:
    _check_text(reference, "the payment reference")
    with store.engine.begin() as connection:
        claim = _claim(connection, ref)
        if claim["status"] not in ("submitted", "paid"):
            raise ClaimError(f"claim {ref} is {claim['status']}: only a submitted claim is paid")
        connection.execute(
            insert(PAYMENTS).values(
                claim_ref=ref, amount_pence=amount_pence, reference=reference, recorded_at=utc_now()
            )
        )
        if claim["status"] == "submitted":
            connection.execute(update(CLAIMS).where(CLAIMS.c.ref == ref).values(status="paid"))
        _audit(connection, actor, "paid", ref, f"{pounds(amount_pence)} reference {reference}")


def recover(store: Store, ref: str, family: str, reason: str, by: str, booked_on: dt.date | None = None) -> int:
    _check_text(reason, "the reason", limit=None)
    with store.engine.begin() as connection:
        claim = _claim(connection, ref)
        if claim["status"] not in ("submitted", "paid"):
            raise ClaimError(
                f"claim {ref} is {claim['status']}: withdraw a line before submission with a failed verdict"
            )
        line = (
            connection.execute(select(LINES).where((LINES.c.claim_ref == ref) & (LINES.c.family_id == family)))
            .mappings()
            .first()
        )
        if line is None or line["status"] != "live":
            raise ClaimError(f"family {family} has no live line in claim {ref}")
        if connection.execute(select(RECOVERIES.c.id).where(RECOVERIES.c.line_id == line["id"])).first():
            raise ClaimError(f"family {family}'s line in claim {ref} was already recovered")
        connection.execute(
            insert(RECOVERIES).values(
                line_id=line["id"],
                claim_ref=ref,
                family_id=family,
                amount_pence=-line["amount_pence"],
                reason=reason,
                booked_on=booked_on or dt.date.today(),
                recorded_by=by,
                recorded_at=utc_now(),
            )
        )
        connection.execute(delete(RESULTS).where((RESULTS.c.family_id == family) & (RESULTS.c.claim_ref == ref)))
        _audit(connection, by, "recover", ref, f"family {family}: {reason}")
        return -line["amount_pence"]


def claims_frame(store: Store) -> pl.DataFrame:
    with store.engine.connect() as connection:
        counts = dict(
            connection.execute(
                select(LINES.c.claim_ref, func.count()).where(LINES.c.status == "live").group_by(LINES.c.claim_ref)
            ).all()
        )
        totals = dict(
            connection.execute(
                select(LINES.c.claim_ref, func.sum(LINES.c.amount_pence))
                .where(LINES.c.status == "live")
                .group_by(LINES.c.claim_ref)
            ).all()
        )
        rows = connection.execute(select(CLAIMS).order_by(CLAIMS.c.created_at)).mappings().all()
    return pl.DataFrame(
        [
            {
                "ref": r["ref"],
                "window_id": r["window_id"],
                "evidence_date": r["evidence_date"],
                "status": r["status"],
                "live_lines": counts.get(r["ref"], 0),
                "total_pence": int(totals.get(r["ref"]) or 0),
                "plan_name": r["plan_name"],
                "plan_sha256": r["plan_sha256"],
            }
            for r in rows
        ],
        schema={
            "ref": pl.String,
            "window_id": pl.String,
            "evidence_date": pl.Date,
            "status": pl.String,
            "live_lines": pl.Int64,
            "total_pence": pl.Int64,
            "plan_name": pl.String,
            "plan_sha256": pl.String,
        },
    )


def audit_log(store: Store, ref: str | None = None) -> list[dict]:
    with store.engine.connect() as connection:
        query = select(AUDIT).where(AUDIT.c.entity == "claim").order_by(AUDIT.c.id)
        if ref:
            query = query.where(AUDIT.c.entity_id == ref)
        return [dict(r) for r in connection.execute(query).mappings()]


def claim_detail(store: Store, ref: str) -> tuple[dict, list[dict], list[dict]]:
    with store.engine.connect() as connection:
        claim = _claim(connection, ref)
        recovered = set(connection.execute(select(RECOVERIES.c.line_id).where(RECOVERIES.c.claim_ref == ref)).scalars())
        lines = [
            dict(r)
            for r in connection.execute(
                select(LINES).where(LINES.c.claim_ref == ref).order_by(LINES.c.family_id)
            ).mappings()
        ]
        for line in lines:  # the line row never changes; its recovery is a record of its own
            if line["id"] in recovered:
                line["status"] = "recovered"
        held = [
            dict(r)
            for r in connection.execute(
                select(HELD).where(HELD.c.claim_ref == ref).order_by(HELD.c.family_id)
            ).mappings()
        ]
    return claim, lines, held
