"""Spot-check evidence packs: for each family of a claim, the three things a spot check asks (was the family
eligible, was the council working with it in the expected way, was the result valid), each fact citing the file,
load and row it came from, decided by the plan and as-of date the claim was made with.

`family_packs` gathers the facts for many families at once (one evaluation, whole-table joins); the web app's
family page shows the same facts through the same function; `write_packs` renders them to PDF with WeasyPrint
from the HTML templates of `pbr.rendering`, and writes an index workbook listing the files.
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import polars as pl
from sqlalchemy import text

from pbr.claims import ClaimError, claim_detail
from pbr.claims.workbook import _payment_source, _plan_of
from pbr.engine.reasons import ROUTE_WORDS
from pbr.evaluate import evaluate
from pbr.outputs import written_whole
from pbr.periods import add_months, in_words
from pbr.store import Store
from pbr.workbooks import Document, new_workbook, save, write_rows

CITED_SCHEMA = {
    "family_id": pl.String,
    "person_id": pl.String,
    "table": pl.String,
    "day": pl.Date,
    "until": pl.Date,
    "what": pl.String,
    "source": pl.String,
    "loaded": pl.String,
    "sha256": pl.String,
    "row": pl.Int64,
}


@dataclass
class FamilyPack:
    """The facts of one family's line of a claim, as a spot check reads them."""

    family_id: str
    claim: dict
    line: dict | None
    as_of: dt.date
    plan_name: str
    named: bool
    family: dict
    members: list[dict]
    eligibility: list[dict]  # theme title, emerged, criteria fired by whom
    children: list[dict]
    before_attachment: list[dict]  # cited records of the lookback before attachment
    way: dict
    measures: list[dict]  # title, plan entry, met, evidence, windows, records inside them
    employment: list[dict]
    money: dict
    lookback_months: int = 12
    holds: list[dict] = field(default_factory=list)
    recoveries: list[dict] = field(default_factory=list)

    @property
    def file_name(self) -> str:
        return f"{self.claim['ref']}-{_safe_name(self.family_id)}.pdf"


def _safe_name(text_: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text_)[:80]


def _runs(store: Store) -> pl.DataFrame:
    """Each load's id, the day it ran and its file's SHA-256."""
    runs = store.read(
        text("SELECT id AS load_id, started_at, sha256 FROM ingest_runs"),
        schema={"load_id": pl.Int64, "started_at": pl.Datetime, "sha256": pl.String},
    )
    return runs.select("load_id", in_words(pl.col("started_at").dt.date()).alias("loaded"), "sha256")


def cited_records(tables: dict[str, pl.DataFrame], runs: pl.DataFrame, families: pl.DataFrame) -> pl.DataFrame:
    """CITED_SCHEMA: every dated record of `families`, said in words, with the file, load and row it came from."""
    members = tables["members"].select("person_id", "family_id")
    terms = tables["terms"].select("term_id", pl.col("start_date").alias("term_start"), pl.col("end_date"))

    def of_people(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.join(members, on="person_id")

    def part(frame: pl.DataFrame, table: str, person, day: str, until, what: pl.Expr) -> pl.DataFrame:
        return frame.select(
            "family_id",
            (pl.col(person) if person else pl.lit(None, pl.String)).alias("person_id"),
            pl.col(day).alias("day"),
            (pl.col(until) if until else pl.lit(None, pl.Date)).alias("until"),
            what.alias("what"),
            "source",
            "load_id",
            pl.col("source_row").alias("row"),
            pl.lit(table).alias("table"),
        )

    words = pl.col("episode_type").str.replace_all("_", " ")
    absent = (pl.col("authorised_absence") + pl.col("unauthorised_absence")).cast(pl.String)
    attendance = of_people(tables["attendance"]).join(terms, on="term_id", how="left")
    score = pl.col("score").cast(pl.String).str.strip_chars_end("0").str.strip_chars_end(".")
    found = pl.concat(
        [
            part(of_people(tables["indicators"]), "indicators", "person_id", "identified_date", None,
                 pl.lit("indicator: ") + pl.col("indicator")),
            part(of_people(tables["events"]), "events", "person_id", "event_date", None,
                 pl.col("event_type").str.replace_all("_", " ")),
            part(of_people(tables["episodes"]), "episodes", "person_id", "start_date", "end_date",
                 words + pl.lit(" episode")),
            part(attendance, "attendance", "person_id", "term_start", "end_date",
                 pl.lit("attendance in term ") + pl.col("term_id") + pl.lit(": absent ") + absent + pl.lit(" of ")
                 + pl.col("possible_sessions").cast(pl.String) + pl.lit(" sessions")),
            part(tables["assessments"], "assessments", None, "assessment_date", None,
                 pl.col("tool") + pl.lit(" ") + pl.col("domain").str.replace_all("_", " ") + pl.lit(" score ") + score),
            part(tables["milestones"], "milestones", None, "milestone_date", None,
                 pl.col("milestone").str.replace_all("_", " ")),
        ]
    )  # fmt: skip
    return (
        found.join(families.select("family_id"), on="family_id", how="semi")
        .join(runs, on="load_id", how="left")
        .select(list(CITED_SCHEMA))
        .cast(CITED_SCHEMA)
        .sort("family_id", "day", "table", "person_id")
    )


def _chosen_lines(lines: list[dict], families: list[str] | None, sample: bool, ref: str) -> list[dict]:
    if families:
        by_family = {line["family_id"]: line for line in lines}
        unknown = [f for f in families if f not in by_family]
        if unknown:
            raise ClaimError(f"claim {ref} has no line for {', '.join(unknown)}")
        return [by_family[f] for f in families]
    if sample:
        chosen = [line for line in lines if line["sampled"]]
        if not chosen:
            raise ClaimError(f"claim {ref} has no audit sample yet: run pbr claim sample first")
        return chosen
    return lines


def family_packs(
    store: Store,
    ref: str,
    families: list[str] | None = None,
    sample: bool = False,
    named: bool = False,
    parameters=None,
) -> list[FamilyPack]:
    """The packs of a claim's lines (all, the families named, or the audit sample), by the claim's own plan at its
    evidence date."""
    claim, lines, _held = claim_detail(store, ref)
    plan = _plan_of(claim)
    if plan is None:
        raise ClaimError(f"claim {ref} kept no plan (prepared before claims kept theirs): no pack can be made")
    chosen = _chosen_lines(lines, families, sample, ref)
    ids = pl.DataFrame({"family_id": [line["family_id"] for line in chosen]}, schema={"family_id": pl.String})
    evaluation = evaluate(as_of=claim["evidence_date"], plan=plan, store=store)
    decided = evaluation.decided
    tables = store.load_tables(provenance=True)
    runs = _runs(store)
    cited = cited_records(tables, runs, ids)
    source = _payment_source(claim, parameters)
    frames = _per_family(plan, decided, evaluation.decisions, tables, cited, ids, runs)
    quarantine = store.quarantine_frame().join(ids, on="family_id", how="semi")
    recoveries = store.read(
        text("SELECT family_id, amount_pence, reason, booked_on FROM recoveries WHERE claim_ref = :ref").bindparams(
            ref=ref
        ),
        schema={"family_id": pl.String, "amount_pence": pl.Int64, "reason": pl.String, "booked_on": pl.Date},
    )
    packs = []
    for line in chosen:
        family = line["family_id"]

        def rows(frame: pl.DataFrame, fid: str = family) -> list[dict]:
            return frame.filter(pl.col("family_id") == fid).to_dicts()

        packs.append(
            FamilyPack(
                family_id=family,
                claim=claim,
                line=line,
                as_of=claim["evidence_date"],
                plan_name=f"{plan.name} (SHA-256 {plan.sha256})",
                named=named,
                family=(rows(frames["families"]) or [{}])[0],
                members=rows(frames["members"]),
                eligibility=rows(frames["eligibility"]),
                children=rows(frames["children"]),
                before_attachment=rows(frames["before"]),
                way={
                    "milestones": rows(cited.filter(pl.col("table") == "milestones")),
                    "assessments": rows(cited.filter(pl.col("table") == "assessments")),
                    "asked": [m.replace("_", " ") for m in plan.way_of_working],
                },
                measures=_measures(rows(frames["measures"]), rows(frames["windows"]), rows(cited)),
                employment=rows(frames["employment"]),
                lookback_months=plan.eligibility_lookback_months,
                money={
                    "route": ROUTE_WORDS.get(line["claim_route"], line["claim_route"]),
                    "amount_pence": line["amount_pence"],
                    "status": line["status"],
                    "source": source,
                    "verdict": line.get("verdict"),
                },
                holds=rows(quarantine),
                recoveries=rows(recoveries),
            )
        )
    return packs


def _per_family(plan, decided, decisions, tables, cited, ids, runs) -> dict[str, pl.DataFrame]:
    """The frames a pack is cut from, each for every chosen family at once."""
    families = tables["families"].join(ids, on="family_id", how="semi").join(runs, on="load_id", how="left")
    members = tables["members"].join(ids, on="family_id", how="semi").join(runs, on="load_id", how="left")
    attached = families.select("family_id", "attachment_date")
    titles = {theme.code: theme.title for theme in plan.themes}
    emerged = decisions.select("family_id", "themes_emerged").join(ids, on="family_id", how="semi")
    eligibility = (
        decided.flagged.join(ids, on="family_id", how="semi")
        .join(emerged, on="family_id", how="left")
        .with_columns(
            pl.col("theme").replace(titles).alias("title"),
            pl.col("themes_emerged").fill_null("").str.split(";").list.contains(pl.col("theme")).alias("emerged"),
        )
        .sort("family_id", "theme", "person_id")
    )
    children = (
        members.join(attached, on="family_id")
        .filter(
            pl.col("date_of_birth").is_not_null()
            & (add_months(pl.col("date_of_birth"), 12 * 18) > pl.col("attachment_date"))
            & (pl.col("date_of_birth") <= pl.col("attachment_date"))
        )
        .select(
            "family_id", "person_id", "date_of_birth", "source", pl.col("source_row").alias("row"), "loaded", "sha256"
        )
    )
    lookback = plan.eligibility_lookback_months
    before = (
        cited.join(attached, on="family_id")
        .filter(
            (pl.col("day") <= pl.col("attachment_date"))
            & (pl.col("day") > add_months(pl.col("attachment_date"), -lookback))
            & pl.col("table").is_in(["indicators", "events", "episodes"])
        )
        .drop("attachment_date")
    )
    measures = decided.detail.join(ids, on="family_id", how="semi").filter(pl.col("theme") != "continuous_employment")
    employment = decided.detail.join(ids, on="family_id", how="semi").filter(pl.col("theme") == "continuous_employment")
    windows = decided.windows.join(ids, on="family_id", how="semi")
    return {
        "families": families,
        "members": members,
        "eligibility": eligibility,
        "children": children,
        "before": before,
        "measures": measures,
        "employment": employment,
        "windows": windows,
    }


def _measures(measures: list[dict], windows: list[dict], cited: list[dict]) -> list[dict]:
    """Each measure with the spans of days it looks at and the cited records dated inside them."""
    out = []
    for measure in measures:
        spans = [w for w in windows if w["theme"] == measure["theme"] and w["measure"] == measure["measure"]]
        for span in spans:
            span["records"] = [
                r for r in cited if r["table"] in ("events", "episodes", "attendance", "assessments")
                and _inside(r, span["start"], span["end"])
            ]  # fmt: skip
        out.append({**measure, "windows": spans})
    return out


def _inside(record: dict, start: dt.date, end: dt.date) -> bool:
    """A record dated in [start, end], or a spell (episode, term) overlapping it."""
    day, until = record["day"], record["until"] or record["day"]
    return day is not None and day <= end and until >= start


def render_html(pack: FamilyPack, council=None) -> str:
    """The pack as one printable HTML document."""
    from pbr.rendering import environment

    return environment().get_template("pack.html").render(pack=pack, council=council, ROUTE_WORDS=ROUTE_WORDS)


def write_pdf(pack: FamilyPack, path: str | Path, council=None) -> int:
    """The pack as a PDF at `path` (written whole, owner-only where it holds names); returns its pages."""
    from weasyprint import HTML

    document = HTML(string=render_html(pack, council)).render()
    with written_whole(path, private=pack.named) as partial:
        document.write_pdf(partial)
    return len(document.pages)


def _rendered(packs: list[FamilyPack], folder: Path, council):
    """Each pack's pages once its PDF is written, in order: on every core where there are several packs (laying
    out a PDF is the slow part, and each pack is independent)."""
    paths = [folder / pack.file_name for pack in packs]
    workers = min(os.cpu_count() or 1, len(packs))
    if workers < 2 or len(packs) < 4:
        yield from (write_pdf(pack, path, council) for pack, path in zip(packs, paths, strict=True))
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        yield from pool.map(write_pdf, packs, paths, [council] * len(packs))


def write_packs(packs: list[FamilyPack], folder: str | Path, council=None, progress=None) -> Path:
    """One PDF per family in `folder`, and `index.xlsx` listing them; returns the index's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    listed = []
    for n, (pack, pages) in enumerate(zip(packs, _rendered(packs, folder, council), strict=True), start=1):
        listed.append(
            (
                pack.family_id,
                pack.file_name,
                pages,
                pack.money["route"],
                pack.money["amount_pence"],
                pack.money["status"],
                "Yes" if pack.line and pack.line.get("sampled") else "No",
            )
        )
        if progress is not None:
            progress(n, len(packs))
    book = new_workbook()
    write_rows(
        book.create_sheet("Packs"),
        ["family_id", "file", "pages", "claim_route", "amount", "status", "sampled"],
        listed,
        money={"amount"},
        empty="No family was asked for.",
    )
    claim = packs[0].claim if packs else {"ref": "", "window_id": "", "evidence_date": None}
    who = f"{council.name} ({council.code})" if council is not None else ""
    period = f"window {claim['window_id']}, evidence date {claim['evidence_date']}"
    title = f"Spot-check evidence packs of claim {claim['ref']}"
    return save(book, folder / "index.xlsx", document=Document(title, period, council=who))
