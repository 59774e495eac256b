"""A synthetic council for demonstrations, tests and benchmarks: realistic mixes, no real person anywhere.

Names come from short invented lists and every postcode is in the ZZ99 pseudo-area, so nothing here can be
mistaken for, or linked to, a real family.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import polars as pl

from pbr import periods
from pbr.demo_partners import PartnerData, partner_data, with_identities
from pbr.engine.reasons import ROUTE_WORDS
from pbr.money import pounds
from pbr.periods import day_in_words, school_age
from pbr.resources import schema_path
from pbr.terminal import print_file_table

# For each shipped plan: its themes in order, how often a family has each, and how the council records it (the
# `_Council` method that writes its records; a domain name means a practitioner's scored assessment of it).
THEMES_BY_PLAN: dict[str, list[tuple[str, float, str]]] = {
    "troubled-families-2015": [
        ("crime_asb", 0.45, "crime_asb"),
        ("education", 0.45, "education"),
        ("children_need_help", 0.35, "children_need_help"),
        ("worklessness", 0.55, "worklessness"),
        ("domestic_abuse", 0.3, "domestic_abuse"),
        ("health", 0.4, "health"),
    ],
    "supporting-families-2022": [
        ("education", 0.45, "education"),
        ("early_years", 0.3, "domain:early_years"),
        ("health", 0.4, "health"),
        ("substance_use", 0.25, "domain:substance_use"),
        ("family_relationships", 0.45, "domain:family_relationships"),
        ("children_safe", 0.35, "children_need_help"),
        ("crime", 0.45, "crime_asb"),
        ("domestic_abuse", 0.3, "domestic_abuse"),
        ("housing", 0.3, "domain:housing"),
        ("financial_stability", 0.55, "worklessness"),
    ],
}
DEMO_PLANS = tuple(THEMES_BY_PLAN)
# For each shipped plan: when its families are attached (first, last) and when the council's extract was taken,
# within the programme's years (Supporting Families is priced from April 2022).
PERIODS: dict[str, tuple[dt.date, dt.date, dt.date]] = {
    "troubled-families-2015": (dt.date(2015, 6, 1), dt.date(2018, 6, 30), dt.date(2018, 12, 31)),
    "supporting-families-2022": (dt.date(2022, 4, 1), dt.date(2023, 12, 31), dt.date(2024, 12, 31)),
}
MILESTONE_STEPS = (
    ("lead_practitioner_assigned", 0, 5, 0.99),
    ("whole_family_assessment", 3, 30, 0.96),
    ("family_plan_agreed", 10, 60, 0.93),
    ("plan_reviewed", 90, 200, 0.6),
)
GIVEN = ["Alex", "Sam", "Jo", "Chris", "Robin", "Jamie", "Kim", "Lee", "Morgan", "Ash", "Toni", "Rowan", "Kit", "Nico"]
FAMILY = ["Ashdown", "Brackley", "Corran", "Dunmore", "Elsworth", "Farrow", "Glenholm", "Harwell", "Ivesley", "Jarrow"]
COLUMNS = {
    "families": ["family_id", "attachment_date", "keyworker_id", "closure_date"],
    "members": ["person_id", "family_id", "date_of_birth", "sex", "given_name", "family_name", "postcode"],
    "indicators": ["person_id", "indicator", "identified_date"],
    "events": ["person_id", "event_type", "event_date"],
    "episodes": ["person_id", "episode_type", "start_date", "end_date"],
    "attendance": ["person_id", "term_id", "possible_sessions", "authorised_absence", "unauthorised_absence"],
    "assessments": ["family_id", "tool", "domain", "assessment_date", "score"],
    "milestones": ["family_id", "milestone", "milestone_date"],
    "grant_payments": ["payment_date", "amount", "kind", "reference"],
}


def _d(day: dt.date) -> str:
    return day.isoformat()


class _Council:
    def __init__(self, seed: int, first: dt.date, last: dt.date, extract: dt.date, plan: str):
        self.r = random.Random(seed)
        self.themes = THEMES_BY_PLAN[plan]
        self.first, self.span, self.extract = first, (last - first).days, extract
        self.rows: dict[str, list[tuple]] = {name: [] for name in COLUMNS}
        self.children: list[tuple] = []
        # the later programme's records (closures, pregnancies, milestones, needs that emerge, follow-up scores)
        # draw from their own generator, so the 2015 council stays the same, record for record
        self.later = random.Random(seed + 1) if plan == "supporting-families-2022" else None

    def day(self, base: dt.date, low: int, high: int) -> dt.date:
        return base + dt.timedelta(days=self.r.randint(low, high))

    def keep(self, day: dt.date) -> bool:
        return day <= self.extract

    def family(self, i: int) -> None:
        r = self.r
        fid = f"FAM{i:06d}"
        attached = self.first + dt.timedelta(days=r.randrange(self.span))
        closure = self.day(attached, 200, 700)
        closed = self.keep(closure) and r.random() < 0.5
        if self.later is not None:  # most cases close: results under this programme follow closure
            closure = attached + dt.timedelta(days=self.later.randint(120, 480))
            closed = self.keep(closure) and self.later.random() < 0.85
        self.rows["families"].append((fid, _d(attached), f"KW{r.randrange(40):03d}", _d(closure) if closed else None))
        surname = r.choice(FAMILY)
        adults = [f"{fid}-A{k}" for k in range(r.choice([1, 1, 2, 2, 3]))]
        children = [f"{fid}-C{k}" for k in range(r.choice([0, 1, 2, 2, 3, 3, 4]) if r.random() < 0.95 else 0)]
        ages = {}
        for pid in adults:
            born = self.day(attached, -365 * 50, -365 * 19)
            ages[pid] = born
            self.rows["members"].append(
                (
                    pid,
                    fid,
                    _d(born),
                    r.choice("FFMU"),
                    r.choice(GIVEN),
                    surname,
                    f"ZZ99 {r.randint(1, 9)}{r.choice('ABDEFGHJ')}{r.choice('LNPQRSTU')}",
                )
            )
        for pid in children:
            born = self.day(attached, -365 * 17, -200)
            ages[pid] = born
            self.rows["members"].append((pid, fid, _d(born), r.choice("FM"), r.choice(GIVEN), surname, None))
        chosen = [t for t in self.themes if r.random() < t[1]] or [r.choice(self.themes)]
        doing_well = r.random() < 0.55
        relapse = r.random() < 0.15
        people = adults + children
        kids = children or adults
        for pid in children:
            self.children.append((pid, attached, ages[pid], any(t[2] == "education" for t in chosen), doing_well))
        for theme, _, recorded_by in chosen:
            if recorded_by.startswith("domain:"):
                self.scored(fid, attached, adults, theme, recorded_by.removeprefix("domain:"), doing_well)
            else:
                getattr(self, recorded_by)(fid, attached, adults, kids, people, ages, doing_well, relapse)
            if r.random() < 0.2:
                self.rows["indicators"].append((r.choice(people), f"{theme}.recorded", _d(self.day(attached, -200, 0))))
        if self.later is not None:
            self.later_records(fid, attached, adults, children, [t[0] for t in chosen])

    def later_records(
        self, fid: str, attached: dt.date, adults: list[str], children: list[str], themes: list[str]
    ) -> None:
        """What a Supporting Families case adds: the way of working on file (a few steps missing), an expectant
        parent where no child is recorded, and now and then a need that emerges during the work."""
        r = self.later
        for milestone, low, high, share in MILESTONE_STEPS:
            day = attached + dt.timedelta(days=r.randint(low, high))
            if r.random() < share and self.keep(day):
                self.rows["milestones"].append((fid, milestone, _d(day)))
        if not children and r.random() < 0.8:  # the baby is due: the pregnancy covers the attachment day
            self.episode(r.choice(adults), "pregnancy", self.day(attached, -200, -10), self.day(attached, 10, 200))
        if r.random() < 0.15:
            emerging = [t for t in ("crime", "domestic_abuse") if t not in themes]
            if emerging:
                kind = {"crime": "offence", "domestic_abuse": "dv_incident"}[r.choice(emerging)]
                self.event(r.choice(adults), kind, self.day(attached, 30, 500))

    def follow_up_scores(self) -> None:
        """Under the later programme a keyworker scores the family again after the case closed, until the
        extract: the improvement must still be seen then."""
        r = self.later
        closed = {fid: dt.date.fromisoformat(c) for fid, _, _, c in self.rows["families"] if c}
        last: dict[tuple[str, str], tuple[dt.date, int]] = {}
        for fid, _, domain, day, score in self.rows["assessments"]:
            last[(fid, domain)] = max(
                last.get((fid, domain), (dt.date.min, 0)), (dt.date.fromisoformat(day), int(score))
            )
        for (fid, domain), (day, score) in sorted(last.items()):
            if fid not in closed:
                continue
            day = max(day, closed[fid]) + dt.timedelta(days=r.randint(60, 120))
            while self.keep(day):
                score = min(10, max(1, score + r.choice([0, 0, 1, -1])))
                self.rows["assessments"].append((fid, "family_star", domain, _d(day), str(score)))
                day += dt.timedelta(days=r.randint(60, 150))

    def event(self, pid: str, kind: str, day: dt.date) -> None:
        if self.keep(day):
            self.rows["events"].append((pid, kind, _d(day)))

    def episode(self, pid: str, kind: str, start: dt.date, end: dt.date | None) -> None:
        if not self.keep(start):
            return
        self.rows["episodes"].append((pid, kind, _d(start), _d(end) if end and self.keep(end) else None))

    def crime_asb(self, fid, attached, adults, kids, people, ages, well, relapse):
        r = self.r
        who = r.choice(people)
        before = r.randint(1, 4)
        for _ in range(before):
            self.event(who, "offence", self.day(attached, -330, -1))
        if r.random() < 0.4:
            self.event(who, "asb_incident", self.day(attached, -300, -1))
        after = r.randint(0, max(0, before // 3)) if well else r.randint(before, before + 2)
        for _ in range(after):
            self.event(who, "offence", self.day(attached, 10, 300 if well else 700))
        if relapse:
            self.event(r.choice(people), "asb_incident", self.day(attached, 200, 800))

    def education(self, fid, attached, adults, kids, people, ages, well, relapse):
        r = self.r
        if r.random() < 0.25:
            for _ in range(r.randint(1, 3)):
                self.event(r.choice(kids), "exclusion_fixed", self.day(attached, -300, 600))

    def children_need_help(self, fid, attached, adults, kids, people, ages, well, relapse):
        r = self.r
        kind = r.choice(["cin", "cin", "cp"])
        start = self.day(attached, -360, -5)
        self.episode(r.choice(kids), kind, start, self.day(attached, 20, 300) if well else None)
        if relapse:
            self.episode(r.choice(kids), r.choice(["cin", "lac"]), self.day(attached, 300, 800), None)

    def worklessness(self, fid, attached, adults, kids, people, ages, well, relapse):
        r = self.r
        who = r.choice(adults)
        benefit = r.choice(["jsa", "jsa", "uc", "esa", "is"])
        start = self.day(attached, -900, -10)
        end = self.day(attached, 20, 260) if well else None
        self.episode(who, benefit, start, end)
        if end is not None:
            job_end = None if r.random() < 0.7 else self.day(end, 40, 300)
            self.episode(who, "employment", end + dt.timedelta(days=r.randint(1, 20)), job_end)

    def domestic_abuse(self, fid, attached, adults, kids, people, ages, well, relapse):
        r = self.r
        for _ in range(r.randint(1, 3)):
            self.event(r.choice(adults), "dv_incident", self.day(attached, -330, -1))
        if not well or relapse:
            self.event(r.choice(adults), "dv_incident", self.day(attached, 30, 700))

    def health(self, fid, attached, adults, kids, people, ages, well, relapse):
        self.scored(fid, attached, adults, "health", "health", well, detail="mental_health")

    def scored(self, fid, attached, adults, theme: str, domain: str, well: bool, detail: str = "identified") -> None:
        """A need a keyworker identifies and then scores on the family star every few months."""
        r = self.r
        self.rows["indicators"].append((r.choice(adults), f"{theme}.{detail}", _d(self.day(attached, -200, 0))))
        day = self.day(attached, -40, 25)
        score = r.randint(2, 5)
        for _ in range(r.randint(2, 5)):
            if self.keep(day):
                self.rows["assessments"].append((fid, "family_star", domain, _d(day), str(score)))
            day = self.day(day, 90, 200)
            score = min(10, max(1, score + (r.choice([1, 1, 2]) if well else r.choice([-1, 0, 1]))))

    def attendance(self) -> pl.DataFrame:
        """A record for every school-age child for every term from two years before attachment to the extract.

        Children of education-theme families miss school before attachment, and after it unless the family is
        doing well; every other child attends well. Built over whole tables: it is most of a council's records.
        """
        children = pl.DataFrame(
            self.children,
            orient="row",
            schema={
                "person_id": pl.String,
                "attached": pl.Date,
                "born": pl.Date,
                "education": pl.Boolean,
                "well": pl.Boolean,
            },
        )
        children = children.with_columns(records_from=pl.col("attached") - pl.duration(days=730))
        terms = pl.read_csv(schema_path("terms.csv"), try_parse_dates=True).filter(pl.col("end_date") <= self.extract)
        rows = (
            children.join_where(terms, pl.col("end_date") > pl.col("records_from"))
            .filter(school_age(pl.col("born"), pl.col("start_date")))
            .sort("person_id", "start_date")
        )
        n = rows.height
        draws = pl.DataFrame({name: [self.r.random() for _ in range(n)] for name in ("size", "rate", "split")})
        poor = pl.col("education") & ((pl.col("end_date") <= pl.col("attached")) | ~pl.col("well"))
        absence = pl.when(poor).then(0.11 + 0.19 * pl.col("rate")).otherwise(0.095 * pl.col("rate"))
        return (
            pl.concat([rows, draws], how="horizontal")
            .with_columns(possible=110 + 10 * (4 * pl.col("size")).floor().cast(pl.Int64))
            .with_columns(absent=(pl.col("possible") * absence).floor().cast(pl.Int64))
            .with_columns(authorised=(pl.col("absent") * pl.col("split")).round().cast(pl.Int64))
            .select(
                "person_id",
                "term_id",
                pl.col("possible").alias("possible_sessions"),
                pl.col("authorised").alias("authorised_absence"),
                (pl.col("absent") - pl.col("authorised")).alias("unauthorised_absence"),
            )
            .cast(pl.String)
        )

    def payments(self, fee_pence: int = 100000) -> None:
        """Attachment fees paid quarterly in arrears, within 10% of the families attached that quarter (none
        where the programme pays no fee)."""
        if not fee_pence:
            return
        attached: dict[tuple[int, int], int] = {}
        for _, day, *_ in self.rows["families"]:
            d = dt.date.fromisoformat(day)
            attached[(d.year, (d.month - 1) // 3)] = attached.get((d.year, (d.month - 1) // 3), 0) + 1
        for (year, quarter), count in sorted(attached.items()):
            paid = dt.date(year + (quarter == 3), (3 * quarter + 3) % 12 + 1, 15)
            if paid <= self.extract:
                pence = count * fee_pence * self.r.randint(90, 110) // 100
                self.rows["grant_payments"].append(
                    (_d(paid), f"{pence // 100}.{pence % 100:02d}", "attachment", f"ATTACH-{year}-Q{quarter + 1}")
                )


def generate(
    families: int,
    seed: int = 2017,
    first: dt.date | None = None,
    last: dt.date | None = None,
    extract: dt.date | None = None,
    plan: str = "troubled-families-2015",
) -> dict[str, pl.DataFrame]:
    """Synthetic feed tables as text frames (the shape of a council's CSV extract), for one of `DEMO_PLANS`,
    families attached from `first` to `last` and the extract taken on `extract` (the plan's PERIODS unless given)."""
    default_first, default_last, default_extract = PERIODS[plan]
    council = _Council(seed, first or default_first, last or default_last, extract or default_extract, plan)
    for i in range(families):
        council.family(i)
    if council.later is not None:
        council.follow_up_scores()
    council.payments(fee_pence=0 if council.later is not None else 100000)
    frames = {
        name: pl.DataFrame(council.rows[name], schema={c: pl.String for c in COLUMNS[name]}, orient="row")
        for name in COLUMNS
    }
    frames["members"] = with_identities(frames["members"], seed + 2)
    frames["attendance"] = council.attendance()
    frames["terms"] = pl.read_csv(schema_path("terms.csv"), infer_schema=False)
    return frames


def write_csvs(frames: dict[str, pl.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.write_csv(folder / f"{name}.csv")
    return folder


def with_mistakes(frames: dict[str, pl.DataFrame], seed: int) -> dict[str, pl.DataFrame]:
    """A handful of the mistakes real extracts hold, so the demo shows quarantine at work."""
    r = random.Random(seed)
    events = frames["events"]
    if events.height >= 3:
        picks = r.sample(range(events.height), 3)
        events = (
            events.with_row_index("__i")
            .with_columns(
                pl.when(pl.col("__i") == picks[0])
                .then(pl.lit("Offence"))
                .otherwise(pl.col("event_type"))
                .alias("event_type"),
                pl.when(pl.col("__i") == picks[1])
                .then(pl.lit("2017-13-01"))
                .otherwise(pl.col("event_date"))
                .alias("event_date"),
                pl.when(pl.col("__i") == picks[2])
                .then(pl.lit("NOBODY-1"))
                .otherwise(pl.col("person_id"))
                .alias("person_id"),
            )
            .drop("__i")
        )
    return {**frames, "events": events}


def run_demo(ctx, folder: Path, families: int, seed: int, as_of: dt.date, console) -> None:
    """The whole job on a synthetic council made for the context's plan (a shipped one): generate, load,
    evaluate, claim, and write the returns, through the same services as the commands."""
    from pbr.evaluate import write_decisions
    from pbr.services import decisions, load_feeds

    plan = ctx.plan
    console.print(f"[bold]pbr demo[/]: a synthetic council of {families} families (seed {seed}), plan {plan.name}")
    council = generate(families, seed, plan=plan.name)
    partners = partner_data(council, seed, PERIODS[plan.name][2])
    data = write_csvs(with_mistakes(partners.base, seed), folder / "data")
    console.print(f"  generated the council's extract in {data}", highlight=False)
    result = load_feeds(ctx, data)
    print_file_table(result.files, f"Ingest into {ctx.store.url}")
    console.print(f"  {result.summary()}", highlight=False)
    match_demo(ctx, partners, folder, console)
    evaluation = decisions(ctx, as_of)
    keyed = evaluate_tables_of(council, ctx, as_of)
    agree = evaluation.decisions.join(keyed, on="family_id").filter(
        pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"{c}_keyed")) for c in AGREEMENT_COLUMNS)
    )
    console.print(
        f"  decisions after matching agree with those of perfectly keyed records for {agree.height} of "
        f"{keyed.height} families",
        highlight=False,
    )
    reports = folder / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    write_decisions(
        evaluation,
        reports / "decisions.csv",
        detail=reports / "detail.csv",
        xlsx=reports / "decisions.xlsx",
        council=ctx.council,
    )
    d = evaluation.decisions
    routes = d.filter(d["claimable"]).group_by("claim_route").len().sort("claim_route")
    console.print(
        f"  evaluated as of {as_of}: {d.filter(d['eligible']).height} of {d.height} families eligible, "
        f"{d.filter(d['claimable']).height} claimable "
        f"({', '.join(f'{n} by {ROUTE_WORDS.get(r, r)}' for r, n in routes.iter_rows())}); "
        f"{d.filter(d['quarantined_records'] > 0).height} held from every claim by rows in quarantine",
        highlight=False,
    )
    waiting = d.filter(d["eligible"] & ~d["claimable"]).group_by("reason_kind").len().sort("len", descending=True)
    if waiting.height:
        console.print(
            "  eligible, not yet claimable: " + ", ".join(f"{n} {kind}" for kind, n in waiting.iter_rows()),
            highlight=False,
        )
    console.print(f"  decisions and evidence in {reports}", highlight=False)
    claim_demo(ctx, as_of, folder, console)
    returns_demo(ctx, as_of, reports, console)
    say_how_to_serve(ctx, as_of, console)


def say_how_to_serve(ctx, as_of: dt.date, console) -> None:
    """The closing lines: the exact commands that open this demo's data in the web app, at its as-of day."""
    url = ctx.store.url
    database = f"--db {url} " if url.startswith("sqlite") else ""
    console.print(
        "  to work in the web app on these records (they end in "
        f"{as_of:%B %Y}, so its pages are opened at {day_in_words(as_of)}):\n"
        f"    pbr {database}users add coordinator --role coordinator\n"
        f"    pbr {database}serve --as-of {as_of}\n"
        "  then open http://127.0.0.1:8000/ and sign in as coordinator",
        highlight=False,
    )


AGREEMENT_COLUMNS = ("eligible", "themes_at_attachment", "ssp_met", "ce_met", "claimable", "claim_route")


def evaluate_tables_of(council: dict[str, pl.DataFrame], ctx, as_of: dt.date) -> pl.DataFrame:
    """The decisions the council's records would give if every partner had sent the council's person_id."""
    import tempfile

    from pbr.services import decisions

    with tempfile.TemporaryDirectory() as folder:
        keyed = decisions(ctx, as_of, data=write_csvs(council, Path(folder)))
    return keyed.decisions.select("family_id", *[pl.col(c).alias(f"{c}_keyed") for c in AGREEMENT_COLUMNS])


def match_demo(ctx, partners: PartnerData, folder: Path, console) -> None:
    """The partners' files written as partners send them, matched, and the families no member matched identified."""
    from pbr import services
    from pbr.matching.workbook import write_identification

    where = folder / "partners"
    where.mkdir(parents=True, exist_ok=True)
    for source, frame in partners.partners.items():
        frame.write_csv(where / source)
    report = services.match_partner_files(ctx, where, actor="demo")
    console.print(f"  matched the partners' files in {where}: {report.summary()}", highlight=False, soft_wrap=True)
    found = services.identify_households(ctx, PERIODS[ctx.plan.name][2])
    path = write_identification(found, folder / "reports" / "identified-households.xlsx", ctx.plan)
    console.print(f"  {found.eligible.height} households no member matched would be eligible: {path}", highlight=False)


def returns_demo(ctx, as_of: dt.date, reports: Path, console) -> None:
    """The progress return, impact-study return, reconciliation and outcomes report for the as-of period."""
    from pbr import services

    quarter = periods.quarter_of(as_of).name
    year = periods.financial_year(periods.financial_year_of(as_of))
    written = [
        services.write_progress_return(ctx, quarter, reports / f"progress-return-{quarter}.xlsx"),
        services.write_impact_study_return(
            ctx, year.start, year.end, reports / f"impact-study-{year.start.year}.xlsx"
        ).path,
        reports / f"reconciliation-{year.start.year}.xlsx",
        services.write_outcomes_report(ctx, quarter, reports / f"outcomes-{quarter}.xlsx"),
    ]
    reconciled = services.write_reconciliation(ctx, year.start.year, written[2], day=as_of)
    console.print(
        "  returns: " + ", ".join(p.name for p in written) + f" in {reports} "
        "(the impact-study return holds personal data and is readable by its owner only)",
        highlight=False,
    )
    summary = reconciled.summary
    console.print(
        f"  reconciliation {year.name}: received {pounds(int(summary['received'].sum()))} against "
        f"{pounds(int(summary['expected'].sum()))} expected; its bridge explains the variance of "
        f"{pounds(reconciled.variance)} in {reconciled.bridge.height} lines that add up to it",
        highlight=False,
    )


def claim_demo(ctx, as_of: dt.date, folder: Path, console) -> None:
    """Prepare, sample, pass and submit the claim for the latest window, and write its workbook."""
    import pbr.claims as claims
    from pbr import services

    window = f"{as_of.year}-{as_of.month:02d}"
    opens, closes = as_of + dt.timedelta(days=1), as_of + dt.timedelta(days=31)
    prepared = services.prepare_claim(ctx, window, as_of, "demo coordinator", opens=opens, closes=closes)
    if not prepared.by_route:
        console.print(
            f"  claim {prepared.ref}: left as a draft, nothing new to claim (every claimable family is "
            f"claimed already; {prepared.held} held by quarantine)",
            highlight=False,
        )
        return
    chosen = services.sample_claim(ctx, prepared.ref, 2017, "demo auditor")
    for family in chosen:
        claims.verdict(ctx.store, prepared.ref, family, True, "demo auditor", "evidence on file")
    services.submit_claim(ctx, prepared.ref, "demo coordinator", late="demonstration on synthetic historical data")
    path = services.write_claim_workbook(ctx, prepared.ref, folder / "claims" / f"{prepared.ref}.xlsx")
    console.print(
        f"  claim {prepared.ref}: {sum(prepared.by_route.values())} families "
        f"({', '.join(f'{n} by {ROUTE_WORDS.get(r, r)}' for r, n in prepared.by_route.items())}), "
        f"{pounds(prepared.total_pence)}; "
        f"{len(chosen)} sampled and passed; {prepared.held} more claimable held back by quarantine; submitted; "
        f"workbook {path}",
        highlight=False,
    )
