"""What a person asks pbr to do, once, for every door they ask through: the CLI, the web app, the scheduler, the demo.

Each function takes the application context and hands the layers below the parts they need (the store, the plan,
the money and audit parameters, the code lists, the day), so the same request gives the same result wherever it
comes from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pbr import periods
from pbr.context import AppContext
from pbr.evaluate import Evaluation, evaluate
from pbr.plan import Plan

if TYPE_CHECKING:  # the database layer is imported by the services that use it: `pbr evaluate --data` needs none
    from pbr.claims import Prepared
    from pbr.feeds.ingest import IngestResult
    from pbr.matching import Forgotten, Identification, MatchReport


def _claims():
    from pbr import claims

    return claims


REPORT_KINDS = ("reconciliation", "progress-return", "outcomes", "decisions", "impact-study")


# ---- records -------------------------------------------------------------------------------------------------
def load_feeds(
    ctx: AppContext,
    path: str | Path,
    progress: Callable[[str, int, int], None] | None = None,
    complete: bool = False,
    plan: Plan | None = None,
) -> IngestResult:
    """Validate and load a folder, CSV or workbook, its codes checked against the plan and code lists in use."""
    from pbr.feeds.ingest import ingest

    return ingest(
        path,
        ctx.store,
        (plan or ctx.plan).theme_codes,
        today=ctx.today(),
        progress=progress,
        complete=complete,
        vocabularies=ctx.vocabularies,
    )


def save_form(ctx: AppContext, table: str, values: dict, source: str) -> dict[str, str]:
    """One record typed into a form, validated by the ingest rules; the errors by column, or none when saved."""
    from pbr.feeds.ingest import save_rows

    return save_rows(
        ctx.store, table, [values], source, ctx.plan.theme_codes, today=ctx.today(), vocabularies=ctx.vocabularies
    )


def decisions(ctx: AppContext, day: dt.date, data: str | Path | None = None, plan: Plan | None = None) -> Evaluation:
    """Every family's decision at `day`, from files (`data`) or the database; raises DatasetError on a data set
    that cannot be used."""
    the_plan = plan or ctx.plan
    if data is not None:
        return evaluate(data=data, as_of=day, plan=the_plan, today=ctx.today())
    return evaluate(as_of=day, plan=the_plan, store=ctx.store)


# ---- partner records -----------------------------------------------------------------------------------------
def match_partner_files(ctx: AppContext, path: str | Path, actor: str = "pbr") -> MatchReport:
    """Match partner files (a file, a folder or a workbook) against the members held; keep what each row became."""
    from pbr.matching import match_files

    return match_files(
        ctx.store, path, ctx.matching, ctx.plan.theme_codes, ctx.today(), ctx.vocabularies, actor=actor, now=ctx.now
    )


def identify_households(ctx: AppContext, day: dt.date, plan: Plan | None = None) -> Identification:
    """The households of the people no member matched, decided as families attached on `day` would be."""
    from pbr.matching import identify

    return identify(ctx.store, plan or ctx.plan, ctx.matching, day)


def forget_unmatched_rows(ctx: AppContext, actor: str, dry_run: bool = False) -> Forgotten:
    """Remove the unmatched partner rows whose retention period has ended."""
    from pbr.matching import forget_unmatched

    return forget_unmatched(ctx.store, ctx.now(), ctx.matching.unmatched_days, actor, dry_run=dry_run)


# ---- claims --------------------------------------------------------------------------------------------------
def prepare_claim(
    ctx: AppContext,
    window: str,
    evidence_date: dt.date,
    actor: str,
    opens: dt.date | None = None,
    closes: dt.date | None = None,
    plan: Plan | None = None,
) -> Prepared:
    return _claims().prepare(
        ctx.store,
        window,
        evidence_date,
        plan or ctx.plan,
        actor=actor,
        opens=opens,
        closes=closes,
        parameters=ctx.parameters,
        today=ctx.today(),
    )


def sample_claim(ctx: AppContext, ref: str, seed: int | None, actor: str) -> list[str]:
    return _claims().sample(ctx.store, ref, seed, actor=actor, parameters=ctx.parameters)


def submit_claim(ctx: AppContext, ref: str, by: str, late: str | None = None) -> int:
    return _claims().submit(
        ctx.store, ref, by, late, today=ctx.today(), parameters=ctx.parameters, codes=ctx.vocabularies
    )


def record_payment(ctx: AppContext, ref: str, amount: str, reference: str, actor: str) -> int:
    """The payment received for a submitted claim, from pounds as a person writes them; returns the pence."""
    pence = _claims().pounds_to_pence(amount)
    _claims().paid(ctx.store, ref, pence, reference, actor=actor)
    return pence


def recover_line(ctx: AppContext, ref: str, family: str, reason: str, by: str, booked_on: dt.date | None = None) -> int:
    return _claims().recover(ctx.store, ref, family, reason, by, booked_on or ctx.today())


def write_claim_workbook(ctx: AppContext, ref: str, path: str | Path) -> Path:
    from pbr.claims.workbook import write_claim_workbook as write

    return write(ctx.store, ref, path, council=ctx.council, parameters=ctx.parameters)


def evidence_packs(ctx: AppContext, ref: str, families: list[str] | None = None, sample: bool = False):
    """The spot-check facts of a claim's lines (claims.packs), named only where packs go by a secure route."""
    from pbr.claims.packs import family_packs

    return family_packs(
        ctx.store, ref, families, sample, named=ctx.settings.packs_secure_route, parameters=ctx.parameters
    )


def write_evidence_packs(
    ctx: AppContext,
    ref: str,
    folder: str | Path,
    families: list[str] | None = None,
    sample: bool = False,
    progress=None,
) -> Path:
    """One PDF per family and an index workbook in `folder`; returns the index."""
    from pbr.claims.packs import write_packs

    return write_packs(evidence_packs(ctx, ref, families, sample), folder, ctx.council, progress)


# ---- returns and reports -------------------------------------------------------------------------------------
def write_progress_return(ctx: AppContext, quarter: str, path: str | Path, plan: Plan | None = None) -> Path:
    from pbr.periods import quarter as quarter_of
    from pbr.returns.progress import write_progress_return as write
    from pbr.workbooks import document_for, span_in_words

    span = quarter_of(quarter)
    the_plan = plan or ctx.plan
    document = document_for(
        "Quarterly progress return", span_in_words(quarter, span.start, span.end), ctx.council, the_plan
    )
    return write(ctx.store, the_plan, quarter, path, document=document)


def write_impact_study_return(
    ctx: AppContext, start: dt.date, end: dt.date, path: str | Path, actor: str | None = None
):
    """The return holding names, owner-only on disk, with the comparison cohort: the people of the households
    `pbr identify` finds eligible on the period's last day that the council did not work with. Its writing is
    audited when someone asked for it."""
    from pbr.returns.progress import write_impact_study_return as write
    from pbr.workbooks import document_for, span_in_words

    period = span_in_words("families attached", start, end)
    document = document_for("Impact-study return", period, ctx.council, ctx.plan, personal=True)
    found = identify_households(ctx, end)
    comparison = found.people.join(found.eligible.select("household"), on="household", how="semi")
    written = write(ctx.store, start, end, path, document=document, comparison=comparison)
    if actor is not None:
        with ctx.store.engine.begin() as connection:
            ctx.store.audit(
                connection,
                actor,
                "download impact-study return",
                "return",
                "impact-study",
                f"{start} to {end}: personal data",
            )
    return written


def reconciliation(ctx: AppContext, year: int, plan: Plan | None = None, day: dt.date | None = None):
    from pbr.returns.reconcile import reconcile

    return reconcile(ctx.store, plan or ctx.plan, year, today=day or ctx.today(), parameters=ctx.parameters)


def write_reconciliation(
    ctx: AppContext, year: int, path: str | Path, plan: Plan | None = None, day: dt.date | None = None
):
    from pbr.periods import financial_year
    from pbr.returns.reconcile import write_reconciliation as write
    from pbr.workbooks import document_for, span_in_words

    result = reconciliation(ctx, year, plan, day)
    span = financial_year(year)
    period = span_in_words(f"financial year {span.name}", span.start, span.end)
    document = document_for("Reconciliation of grant income", period, ctx.council, plan or ctx.plan)
    write(result, path, document=replace(document, plain_headers=True))
    return result


def write_outcomes_report(ctx: AppContext, quarter: str, path: str | Path, plan: Plan | None = None) -> Path:
    from pbr.returns.outcomes import write_outcomes_report as write

    return write(ctx.store, plan or ctx.plan, quarter, path, council=ctx.council)


def period_of_request(day: dt.date, quarter: str | None = None, year: str | None = None) -> tuple[str, int]:
    """The quarter and financial year a report is asked for, or those holding `day`."""
    from pbr.returns import ReturnError

    if year is not None and (not year.isdigit() or len(year) != 4):
        raise ReturnError("year is the year a financial year starts in, like 2017")
    return quarter or periods.quarter_of(day).name, int(year) if year else periods.financial_year_of(day)


# ---- a family's records, typed in by a keyworker -------------------------------------------------------------
FORM_TABLES = {
    "events": "an incident",
    "episodes": "an episode",
    "indicators": "a problem",
    "assessments": "an assessment",
    "families": "the case's closure",
    "milestones": "a milestone of the way of working",
}


def record_for_family(ctx: AppContext, actor: str, family: dict, table: str, values: dict) -> dict[str, str]:
    """One record of `family` typed into a form, saved through the ingest rules and audited; the errors by field,
    or none. The closure form changes the case's closure only: the rest of the family's row stays as the case
    system sent it."""
    from sqlalchemy import select

    from pbr.contract import contracts
    from pbr.store.models import Member

    family_id = family["family_id"]
    columns = contracts()[table].columns
    if table == "families":
        values = {
            "family_id": family_id,
            "attachment_date": family["attachment_date"].isoformat(),
            "keyworker_id": family["keyworker_id"] or "",
            "closure_date": values.get("closure_date", ""),
        }
    if "person_id" in columns:
        person = values.get("person_id", "")
        member = Member.__table__.c
        with ctx.store.engine.connect() as connection:
            belongs = connection.execute(
                select(member.person_id).where(member.person_id == person, member.family_id == family_id)
            ).first()
        if belongs is None:
            return {"person_id": f"person_id '{person}' is not a member of family {family_id}"}
    if "family_id" in columns:
        values = {**values, "family_id": family_id}
    errors = save_form(ctx, table, values, f"web:{actor}:{ctx.now():%Y%m%dT%H%M%S%f}")
    if not errors:
        with ctx.store.engine.begin() as connection:
            ctx.store.audit(
                connection,
                actor,
                f"record {table}",
                "family",
                family_id,
                ", ".join(f"{k}={v}" for k, v in values.items() if v),
            )
    return errors
