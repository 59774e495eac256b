"""Matching partner rows at scale: `pbr match` against a plain splink setup, on the same synthetic data.

A council of `--families` families (the demo's, with realistic names) is generated once; its partners' files are
drawn from it (pbr.demo_partners: typing slips, short forms, swapped names, day and month swapped, a digit off,
old addresses, strangers, broken rows) and cut to each size of `--rows`. For each size it prints, for pbr and
for the plain setup: precision of automatic links, recall of members' rows, the share of rows waiting for review,
the share of strangers' rows linked, recall on the hard cases, the share of families whose decisions equal
those of perfectly keyed data, wall time and peak memory of the matching process.

The plain setup is splink's tutorial model: Jaro-Winkler on each name, exact date of birth, exact postcode;
u by random sampling, m by expectation maximisation; a link at probability 0.99.

    python benchmarks/match.py [--families 100000] [--rows 10000 100000]
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from _common import PYTHON, arguments, run_measured

from pbr.demo import PERIODS, generate, write_csvs
from pbr.demo_partners import partner_data

PLAN = "troubled-families-2015"
HARD = {
    "swap_names": "names swapped",
    "dob_day_month": "day/month swapped",
    "dob_digit": "a digit off",
    "typo": "a typing slip",
}
COMPARED = ["eligible", "themes_at_attachment", "ssp_met", "ce_met", "claimable", "claim_route"]
PLAIN_MATCH = r"""
import sys, polars as pl, splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
base, partners, out = sys.argv[1:4]
members = pl.read_csv(f"{base}/members.csv", infer_schema=False).select(
    pl.col("person_id").alias("unique_id"), "given_name", "family_name", "date_of_birth", "postcode")
rows = []
for name in ("police__events.csv", "dwp__episodes.csv", "schools__attendance.csv"):
    frame = pl.read_csv(f"{partners}/{name}", infer_schema=False).with_row_index("row", offset=2)
    rows.append(frame.select((pl.lit(name + ":") + pl.col("row").cast(pl.String)).alias("unique_id"),
                             "given_name", "family_name", "date_of_birth", "postcode"))
rows = pl.concat(rows)
db = DuckDBAPI()
settings = SettingsCreator(
    link_type="link_only",
    comparisons=[cl.JaroWinklerAtThresholds("given_name"), cl.JaroWinklerAtThresholds("family_name"),
                 cl.ExactMatch("date_of_birth"), cl.ExactMatch("postcode")],
    blocking_rules_to_generate_predictions=[block_on("date_of_birth"), block_on("given_name", "family_name"),
                                            block_on("postcode")],
)
linker = Linker([db.register(members.to_arrow(), dataset_display_name="a"),
                 db.register(rows.to_arrow(), dataset_display_name="b")], settings, log_level=40)
linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "family_name"))
pairs = pl.from_arrow(linker.inference.predict(threshold_match_probability=0.99).as_duckdbpyrelation().to_arrow_table())
left = pl.col("source_dataset_l") == "a"
best = pairs.select(
    pl.when(left).then("unique_id_r").otherwise("unique_id_l").alias("rid"),
    pl.when(left).then("unique_id_l").otherwise("unique_id_r").alias("person_id"), "match_probability",
).sort("match_probability", descending=True).unique("rid", keep="first")
best.write_csv(out)
"""


def council(families: int, work: Path) -> Path:
    """The council's base, its partners' files (every row), and the truth, generated once."""
    folder = work / f"match-{families}"
    if not (folder / "truth.csv").exists():
        frames = generate(families, 2017, plan=PLAN)
        data = partner_data(frames, 2027, PERIODS[PLAN][2])
        write_csvs(data.base, folder / "base")
        (folder / "all-partners").mkdir(parents=True, exist_ok=True)
        for name, frame in data.partners.items():
            frame.write_csv(folder / "all-partners" / name)
        data.truth.write_csv(folder / "truth.csv")
    return folder


def cut(folder: Path, rows: int) -> Path:
    """`rows` partner rows drawn at random from every partner file, with their truth."""
    target = folder / f"partners-{rows}"
    if (target / "truth.csv").exists():
        return target
    truth = pl.read_csv(folder / "truth.csv", infer_schema=False)
    chosen = truth.sample(n=min(rows, truth.height), seed=rows)
    target.mkdir(parents=True, exist_ok=True)
    kept = []
    for path in sorted((folder / "all-partners").glob("*.csv")):
        frame = (
            pl.read_csv(path, infer_schema=False)
            .with_row_index("old", offset=2)
            .with_columns(pl.col("old").cast(pl.String))
        )
        mine = chosen.filter(pl.col("source") == path.name).select(pl.col("row").alias("old"))
        picked = frame.join(mine, on="old", how="semi").sort(pl.col("old").cast(pl.Int64))
        picked.drop("old").write_csv(target / path.name)
        renumbered = picked.select("old").with_row_index("row", offset=2)
        kept.append(
            truth.filter(pl.col("source") == path.name)
            .join(renumbered.select(pl.col("old").alias("row"), pl.col("row").cast(pl.String).alias("new")), on="row")
            .with_columns(pl.col("new").alias("row"))
            .drop("new")
        )
    pl.concat(kept).write_csv(target / "truth.csv")
    return target


def scores(found: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """Precision, recall, review and strangers linked, and recall on each hard case, from (source, row, status,
    person_id) against the truth."""
    both = truth.join(found, on=["source", "row"], how="left").with_columns(pl.col("status").fill_null("unmatched"))
    linked = both.filter(pl.col("status") == "linked")
    right = linked.filter(pl.col("person_id") == pl.col("true_id")).height
    members = both.filter(pl.col("expect") == "member")
    strangers = both.filter(pl.col("expect") == "stranger")
    figures = {
        "precision": right / max(linked.height, 1),
        "recall": right / max(members.height, 1),
        "review": both.filter(pl.col("status") == "review").height / both.height,
        "strangers linked": strangers.filter(pl.col("status") == "linked").height / max(strangers.height, 1),
    }
    for noise, label in HARD.items():
        hard = members.filter(pl.col("noise").fill_null("").str.contains(noise))
        ok = hard.filter((pl.col("status") == "linked") & (pl.col("person_id") == pl.col("true_id"))).height
        figures[f"recall, {label}"] = ok / max(hard.height, 1)
    return figures


def agreement(decided: Path, keyed: Path) -> float:
    """The share of families whose decisions equal those of perfectly keyed data."""
    mine, theirs = pl.read_csv(decided, infer_schema=False), pl.read_csv(keyed, infer_schema=False)
    joined = theirs.select("family_id", *COMPARED).join(
        mine.select("family_id", *COMPARED), on="family_id", suffix="_m"
    )
    same = joined.filter(pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"{c}_m")) for c in COMPARED))
    return same.height / theirs.height


def evaluate(args: list[str], out: Path, as_of: str) -> Path:
    run_measured([PYTHON, "-m", "pbr.cli", *args, "--as-of", as_of, "--out", str(out)], quiet=True)
    return out


def keyed_by(links: pl.DataFrame, folder: Path, partners: Path, target: Path) -> Path:
    """The council's base with the partner rows `links` (source, row, person_id) names, each keyed to its member
    as if the partner had sent the person_id: a data set `pbr evaluate --data` reads."""
    write_csvs({p.stem: pl.read_csv(p, infer_schema=False) for p in (folder / "base").glob("*.csv")}, target)
    identity = ["given_name", "family_name", "date_of_birth", "sex", "postcode", "uprn", "partner_ref"]
    for path in partners.glob("*__*.csv"):
        rows = (
            pl.read_csv(path, infer_schema=False)
            .with_row_index("row", offset=2)
            .with_columns(pl.col("row").cast(pl.String), pl.lit(path.name).alias("source"))
        )
        linked = rows.join(links.select("source", "row", "person_id"), on=["source", "row"])
        linked.drop("source", "row", *identity).write_csv(target / path.name)
    return target


def run_pbr(folder: Path, partners: Path, work: Path, as_of: str) -> tuple[dict, float, float, float]:
    db = f"sqlite:///{work / 'match.db'}"
    if (work / "match.db").exists():
        os.remove(work / "match.db")
    run_measured([PYTHON, "-m", "pbr.cli", "--db", db, "ingest", str(folder / "base")], quiet=True)
    wall, peak = run_measured([PYTHON, "-m", "pbr.cli", "--db", db, "match", str(partners)], quiet=True)
    links = work / "links.csv"
    run_measured([PYTHON, "-m", "pbr.cli", "--db", db, "match", "links", "--csv", str(links)], quiet=True)
    found = pl.read_csv(links, infer_schema=False).select("source", "row", "status", "person_id")
    truth = pl.read_csv(partners / "truth.csv", infer_schema=False).rename({"person_id": "true_id"})
    decided = evaluate(["--db", db, "evaluate"], work / "decided-pbr.csv", as_of)
    return scores(found, truth), agreement(decided, work / "decided-keyed.csv"), wall, peak


def run_plain(folder: Path, partners: Path, work: Path, as_of: str) -> tuple[dict, float, float, float]:
    out = work / "plain-links.csv"
    wall, peak = run_measured([PYTHON, "-c", PLAIN_MATCH, str(folder / "base"), str(partners), str(out)])
    best = pl.read_csv(out, infer_schema=False).with_columns(
        pl.col("rid").str.split(":").list.get(0).alias("source"), pl.col("rid").str.split(":").list.get(1).alias("row")
    )
    found = best.select("source", "row", pl.lit("linked").alias("status"), "person_id")
    truth = pl.read_csv(partners / "truth.csv", infer_schema=False).rename({"person_id": "true_id"})
    data = keyed_by(found, folder, partners, work / "plain-data")
    decided = evaluate(["evaluate", "--data", str(data)], work / "decided-plain.csv", as_of)
    return scores(found, truth), agreement(decided, work / "decided-keyed.csv"), wall, peak


def report(name: str, figures: dict, agree: float, wall: float, peak: float) -> None:
    shown = ", ".join(f"{k} {v:.2%}" if k != "precision" else f"{k} {v:.4%}" for k, v in figures.items())
    print(
        f"  {name}: {shown}; decisions equal to keyed data {agree:.2%}; {wall:.1f} s, peak RSS {peak:,.0f} MiB",
        flush=True,
    )


def main() -> None:
    parser = arguments(__doc__, families=True)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.set_defaults(as_of=str(PERIODS[PLAN][2]))
    options = parser.parse_args()
    folder = council(options.families, options.work)
    for rows in options.rows:
        partners = cut(folder, rows)
        work = folder / f"run-{rows}"
        work.mkdir(exist_ok=True)
        truth = pl.read_csv(partners / "truth.csv", infer_schema=False).filter(pl.col("expect") == "member")
        keyed = keyed_by(truth, folder, partners, work / "keyed-data")
        evaluate(["evaluate", "--data", str(keyed)], work / "decided-keyed.csv", options.as_of)
        print(f"{rows:,} partner rows against the members of {options.families:,} families:", flush=True)
        report("pbr", *run_pbr(folder, partners, work, options.as_of))
        report("plain splink", *run_plain(folder, partners, work, options.as_of))


if __name__ == "__main__":
    main()
