"""Synthetic identities and partner files for the demo, the tests and the matching benchmark.

Members get names, postcodes (in the ZZ pseudo-area) and property numbers drawn from `schemas/synthetic_names.yaml`.
Partner files take a share of the council's police-type events, benefit and employment spells and school
attendance, and send them as partners do: names and dates of birth instead of `person_id`, with the slips real
extracts hold (typing slips, short forms, swapped names, day and month swapped, a digit off, old addresses),
strangers who share names or dates of birth with members, whole stranger households, and a few broken rows.
The truth of every row comes back with it (`source,row,person_id,stranger_household,expect,noise`).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from functools import cache

import polars as pl

from pbr.resources import load_yaml

IDENTITY = ["given_name", "family_name", "date_of_birth", "sex", "postcode", "uprn", "partner_ref"]
# the partners' files: the source, the table, which of its records they hold, and the share of those moved to them
PARTNERS = (
    ("police__events.csv", "events", ("event_type", ["offence", "asb_incident", "dv_incident"]), 0.6),
    ("dwp__episodes.csv", "episodes", ("episode_type", ["jsa", "uc", "esa", "is", "employment"]), 0.5),
    ("schools__attendance.csv", "attendance", None, 0.5),
)
# how often each slip is made: per person and partner (the partner's record of them) or per row (its typing)
PERSON_SLIPS = {
    "typo": 0.08,
    "short_form": 0.05,
    "old_address": 0.04,
    "dob_day_month": 0.027,
    "dob_digit": 0.022,
    "swap_names": 0.014,
    "part_surname": 0.5,  # of double-barrelled family names
    "accents": 0.003,
}
ROW_SLIPS = {"sex_missing": 0.19, "postcode_missing": 0.076, "uprn": 0.4, "upper": 0.3, "lower": 0.1}
STRANGER_SHARE = 0.15
BROKEN_SHARE = 0.01
ACCENTED = {"e": "é", "o": "ö", "a": "á", "i": "ï", "u": "ü"}


@cache
def _names() -> dict[str, list[str]]:
    data = load_yaml("synthetic_names.yaml")
    return {key: list(dict.fromkeys(data[key])) for key in data if key != "reference"}


def _zipf(r: random.Random, names: list[str]) -> str:
    """A name drawn with the commonest first far more often, as names are."""
    return names[min(int(len(names) * r.random() ** 1.3), len(names) - 1)]


class Identities:
    """Draws names, addresses and property numbers from one generator of its own."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.names = _names()
        self.uprns: set[str] = set()

    def family_name(self) -> str:
        r = self.r
        if r.random() < 0.55:
            name = _zipf(r, self.names["common_family"])
        else:
            name = r.choice(self.names["family_starts"]) + r.choice(self.names["family_ends"])
        if r.random() < 0.03:  # double-barrelled
            other = _zipf(r, self.names["common_family"])
            name = f"{name}{r.choice(['-', ' '])}{other}" if other != name else name
        return name

    def given_name(self, sex: str | None) -> str:
        pool = {"F": "female", "M": "male"}.get(sex or "", self.r.choice(["female", "male"]))
        return _zipf(self.r, self.names[pool])

    def postcode(self) -> str:
        r = self.r
        letters = "ABDEFGHJLNPQRSTUWXY"
        return f"ZZ{r.randint(1, 99)} {r.randint(0, 9)}{r.choice(letters)}{r.choice(letters)}"

    def uprn(self) -> str:
        while True:
            value = str(self.r.randint(10**7, 10**12 - 1))
            if value not in self.uprns:
                self.uprns.add(value)
                return value


def with_identities(members: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Members with realistic names, a household postcode and property number per family (a partner of another
    name now and then), from a generator of their own so the council's records stay as they were."""
    ids = Identities(seed)
    households: dict[str, tuple[str, str, str]] = {}
    given, family, postcode, uprn = [], [], [], []
    for family_id, person_id, sex in members.select("family_id", "person_id", "sex").iter_rows():
        if family_id not in households:
            households[family_id] = (ids.family_name(), ids.postcode(), ids.uprn())
        surname, code, prop = households[family_id]
        if person_id.endswith("-A1") and ids.r.random() < 0.3:
            surname = ids.family_name()
        given.append(ids.given_name(sex))
        family.append(surname)
        postcode.append(code)
        uprn.append(prop)
    return members.with_columns(
        pl.Series("given_name", given, pl.String),
        pl.Series("family_name", family, pl.String),
        pl.Series("postcode", postcode, pl.String),
        pl.Series("uprn", uprn, pl.String),
    )


@dataclass
class PartnerData:
    """The council's own extract (less what only partners hold), the partners' files, and the truth."""

    base: dict[str, pl.DataFrame]
    partners: dict[str, pl.DataFrame]
    truth: pl.DataFrame


class _Slips:
    """A partner's record of a person, and the typing of each row of it."""

    def __init__(self, r: random.Random):
        self.r = r
        self.variants = _short_forms()

    def typo(self, name: str) -> str:
        """One slip of the keys, now and then two."""
        once = self.slip(name)
        return self.slip(once) if self.r.random() < 0.3 else once

    def slip(self, name: str) -> str:
        r = self.r
        if len(name) < 3:
            return name
        i = r.randrange(1, len(name) - 1)
        kind = r.choice(["swap", "drop", "change", "double"])
        if kind == "swap":
            return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        if kind == "drop":
            return name[:i] + name[i + 1 :]
        if kind == "double":
            return name[:i] + name[i] + name[i:]
        letter = r.choice("abcdefghijklmnoprstuvwy")
        return name[:i] + (letter.upper() if name[i].isupper() else letter) + name[i + 1 :]

    def dob_digit(self, day: dt.date) -> dt.date:
        text = day.isoformat()
        for _ in range(20):
            i = self.r.choice([2, 3, 5, 6, 8, 9])
            changed = text[:i] + str(self.r.randint(0, 9)) + text[i + 1 :]
            try:
                value = dt.date.fromisoformat(changed)
            except ValueError:
                continue
            if value != day and value <= dt.date.today():
                return value
        return day

    def record(self, person: dict, ids: Identities) -> tuple[dict, list[str]]:
        """The person as one partner holds them, and the slips made."""
        r, held, noise = self.r, dict(person), []
        chance = PERSON_SLIPS
        short = self.variants.get(held["given_name"].lower())
        if short and r.random() < chance["short_form"]:
            held["given_name"], noise = r.choice(short).title(), [*noise, "short_form"]
        if r.random() < chance["typo"]:
            field = r.choice(["given_name", "family_name"])
            held[field], noise = self.typo(held[field]), [*noise, "typo"]
        parts = [p for p in held["family_name"].replace("-", " ").split(" ") if p]
        if len(parts) > 1 and r.random() < chance["part_surname"]:
            held["family_name"], noise = r.choice(parts), [*noise, "part_surname"]
        if r.random() < chance["swap_names"]:
            held["given_name"], held["family_name"] = held["family_name"], held["given_name"]
            noise.append("swap_names")
        born = held["date_of_birth"]
        if born and r.random() < chance["dob_day_month"] and born.day <= 12 and born.day != born.month:
            held["date_of_birth"], noise = dt.date(born.year, born.day, born.month), [*noise, "dob_day_month"]
        elif born and r.random() < chance["dob_digit"]:
            held["date_of_birth"], noise = self.dob_digit(born), [*noise, "dob_digit"]
        if r.random() < chance["old_address"]:
            held["postcode"], held["uprn"], noise = ids.postcode(), ids.uprn(), [*noise, "old_address"]
        if r.random() < chance["accents"] and any(c in held["given_name"] for c in ACCENTED):
            letter = next(c for c in held["given_name"] if c in ACCENTED)
            held["given_name"], noise = held["given_name"].replace(letter, ACCENTED[letter], 1), [*noise, "accents"]
        return held, noise

    def typed(self, held: dict) -> tuple[dict, list[str]]:
        """One row as typed: case, spacing, which optional fields are filled."""
        r, row, noise = self.r, dict(held), []
        case = r.random()
        for field in ("given_name", "family_name"):
            if case < ROW_SLIPS["upper"]:
                row[field] = row[field].upper()
            elif case < ROW_SLIPS["upper"] + ROW_SLIPS["lower"]:
                row[field] = row[field].lower()
        if r.random() < ROW_SLIPS["sex_missing"]:
            row["sex"], noise = None, [*noise, "sex_missing"]
        if r.random() < ROW_SLIPS["postcode_missing"]:
            row["postcode"], noise = None, [*noise, "postcode_missing"]
        elif row["postcode"] and r.random() < 0.3:
            row["postcode"] = row["postcode"].replace(" ", "")
        elif row["postcode"] and r.random() < 0.1:
            row["postcode"] = row["postcode"].lower()
        if r.random() >= ROW_SLIPS["uprn"]:
            row["uprn"] = None
        return row, noise


@cache
def _short_forms() -> dict[str, list[str]]:
    variants = load_yaml("name_variants.yaml")["variants"]
    return {full: [v for v in others if len(v) > 1] for full, others in variants.items() if others}


def _partner_ref(r: random.Random, source: str) -> str:
    letters = "ABCDEFGHJKLMNPRSTWXYZ"
    if source.startswith("police"):
        return f"{r.randint(0, 19):02d}/{r.randint(0, 999999):06d}{r.choice(letters)}"
    if source.startswith("dwp"):
        return f"{r.choice(letters)}{r.choice(letters)}{r.randint(0, 999999):06d}{r.choice('ABCD')}"
    return f"{r.choice(letters)}{r.randint(0, 10**12 - 1):012d}"


class _Partners:
    """The rows of every partner file as they are built, with their truth."""

    def __init__(self, seed: int, members: pl.DataFrame, extract: dt.date, terms: pl.DataFrame):
        self.r = random.Random(seed)
        self.ids = Identities(seed + 1)
        self.slips = _Slips(self.r)
        self.extract = extract
        self.terms = terms.filter(pl.col("end_date") <= extract.isoformat()).sort("end_date")["term_id"].to_list()
        self.people = {
            row["person_id"]: {
                **{k: row[k] for k in ("given_name", "family_name", "sex", "postcode", "uprn")},
                "date_of_birth": dt.date.fromisoformat(row["date_of_birth"]) if row["date_of_birth"] else None,
            }
            for row in members.iter_rows(named=True)
        }
        self.member_ids = list(self.people)
        self.rows: dict[str, list[dict]] = {source: [] for source, *_ in PARTNERS}
        self.held: dict[tuple[str, str], tuple[dict, list[str]]] = {}
        self.refs: dict[tuple[str, str], str] = {}

    def add(self, source: str, person: dict, key: str, record: dict, truth: dict, slips: bool = True) -> None:
        if (source, key) not in self.held:
            self.held[(source, key)] = self.slips.record(person, self.ids) if slips else (dict(person), [])
            self.refs[(source, key)] = _partner_ref(self.r, source)
        held, noise = self.held[(source, key)]
        row, typing = self.slips.typed(held)
        row["date_of_birth"] = row["date_of_birth"].isoformat() if row["date_of_birth"] else None
        row["partner_ref"] = self.refs[(source, key)] if self.r.random() < 0.97 else None
        all_noise = [*noise, *typing, *truth.pop("noise", [])]
        self.rows[source].append({**{k: row[k] for k in IDENTITY}, **record, "__truth": {**truth, "noise": all_noise}})

    def member_record(self, source: str, person_id: str, record: dict) -> None:
        self.add(source, self.people[person_id], person_id, record, {"person_id": person_id, "expect": "member"})

    def _day(self, low_days: int, high_days: int) -> str:
        return (self.extract - dt.timedelta(days=self.r.randint(low_days, high_days))).isoformat()

    def stranger_household(self, number: int) -> None:
        """A household no council record knows, seen by the partners for the needs it shows."""
        r, ids, household = self.r, self.ids, f"SH{number:05d}"
        surname = self.people[r.choice(self.member_ids)]["family_name"] if r.random() < 0.3 else ids.family_name()
        postcode, uprn = ids.postcode(), ids.uprn()
        adults, children = r.choice([1, 2, 2]), r.choice([1, 1, 2, 2, 3])
        people = []
        for k in range(adults + children):
            sex = r.choice("FM")
            age = r.randint(20, 50) if k < adults else r.randint(5, 15)
            born = self.extract - dt.timedelta(days=365 * age + r.randint(0, 364))
            people.append(
                {
                    "given_name": ids.given_name(sex),
                    "family_name": surname,
                    "sex": sex,
                    "date_of_birth": born,
                    "postcode": postcode,
                    "uprn": uprn,
                }
            )
        needs = r.sample(["crime", "education", "worklessness", "domestic_abuse"], r.choice([1, 2, 2, 3]))
        truth = {"stranger_household": household, "expect": "stranger", "noise": ["household"]}

        def seen(source: str, k: int, record: dict) -> None:
            self.add(source, people[k], f"{household}-{k}", record, dict(truth, noise=["household"]))

        for need in needs:
            if need in ("crime", "domestic_abuse"):
                kinds = ["offence", "asb_incident"] if need == "crime" else ["dv_incident"]
                who = r.randrange(adults) if need == "domestic_abuse" else r.randrange(len(people))
                for _ in range(r.randint(1, 3)):
                    seen("police__events.csv", who, {"event_type": r.choice(kinds), "event_date": self._day(10, 330)})
            elif need == "worklessness":
                seen(
                    "dwp__episodes.csv",
                    r.randrange(adults),
                    {
                        "episode_type": r.choice(["jsa", "uc", "esa"]),
                        "start_date": self._day(60, 700),
                        "end_date": None,
                    },
                )
            else:
                for k in range(adults, len(people)):
                    for term in self.terms[-3:]:
                        possible = r.choice([110, 120, 130])
                        absent = int(possible * r.uniform(0.12, 0.3))
                        seen(
                            "schools__attendance.csv",
                            k,
                            {
                                "term_id": term,
                                "possible_sessions": str(possible),
                                "authorised_absence": str(absent // 2),
                                "unauthorised_absence": str(absent - absent // 2),
                            },
                        )

    def namesake(self, kind: str) -> None:
        """One stranger sharing a member's whole name, or their family name and date of birth."""
        r, ids = self.r, self.ids
        member = self.people[r.choice(self.member_ids)]
        stranger = {**member, "postcode": ids.postcode(), "uprn": ids.uprn()}
        if kind == "other":
            stranger["date_of_birth"] = (member["date_of_birth"] or self.extract) - dt.timedelta(
                days=r.randint(400, 9000)
            )
        else:
            while stranger["given_name"] == member["given_name"]:
                stranger["given_name"] = ids.given_name(member["sex"])
        key = f"S{len(self.held)}"
        truth = {"expect": "stranger", "noise": [kind]}
        self.add(
            "police__events.csv",
            stranger,
            key,
            {"event_type": r.choice(["offence", "asb_incident"]), "event_date": self._day(10, 600)},
            truth,
        )

    def broken(self) -> None:
        """A row that breaks an identity rule: it is quarantined, never matched."""
        r = self.r
        person = dict(self.people[r.choice(self.member_ids)])
        fault = r.choice(["bad_date_of_birth", "future_date_of_birth", "bad_given_name", "bad_uprn", "bad_sex"])
        record = {"event_type": "offence", "event_date": self._day(10, 300)}
        self.add(
            "police__events.csv",
            person,
            f"B{len(self.held)}",
            record,
            {"expect": "quarantine", "noise": [fault]},
            slips=False,
        )
        row = self.rows["police__events.csv"][-1]
        if fault == "bad_date_of_birth":
            row["date_of_birth"] = f"{r.randint(1960, 2010)}-02-30"
        elif fault == "future_date_of_birth":
            row["date_of_birth"] = (dt.date.today() + dt.timedelta(days=r.randint(30, 900))).isoformat()
        elif fault == "bad_given_name":
            row["given_name"] = " "
        elif fault == "bad_uprn":
            row["uprn"] = r.choice(["UPRN" + str(r.randint(1000, 9999)), str(r.randint(10**12, 10**13))])
        else:
            row["sex"] = "Male"


def partner_data(frames: dict[str, pl.DataFrame], seed: int, extract: dt.date, limit: int | None = None) -> PartnerData:
    """The partners' files for a synthetic council (`generate`'s frames, whose members carry identities), the
    council's extract less the records only partners now hold, and the truth of every row. With `limit`, at
    most that many partner rows, drawn at random."""
    partners = _Partners(seed, frames["members"], extract, frames["terms"])
    base = dict(frames)
    for source, table, chooser, share in PARTNERS:
        frame = frames[table].with_row_index("__i")
        chosen = frame if chooser is None else frame.filter(pl.col(chooser[0]).is_in(chooser[1]))
        moved = chosen.filter(pl.Series([partners.r.random() < share for _ in range(chosen.height)], dtype=pl.Boolean))
        base[table] = frame.join(moved.select("__i"), on="__i", how="anti").drop("__i")
        own = [c for c in frame.columns if c not in ("__i", "person_id")]
        for record in moved.iter_rows(named=True):
            partners.member_record(source, record["person_id"], {c: record[c] for c in own})
    member_rows = sum(len(rows) for rows in partners.rows.values())
    strangers = int(member_rows * STRANGER_SHARE / (1 - STRANGER_SHARE))
    number = 0
    while sum(len(rows) for rows in partners.rows.values()) < member_rows + 0.85 * strangers:
        number += 1
        partners.stranger_household(number)
    for k in range(int(strangers * 0.15)):
        partners.namesake("other" if k % 3 else "same_surname_dob")
    for _ in range(int((member_rows + strangers) * BROKEN_SHARE)):
        partners.broken()
    return _assembled(partners, base, limit)


def _assembled(partners: _Partners, base: dict[str, pl.DataFrame], limit: int | None) -> PartnerData:
    r = partners.r
    every = [(source, row) for source, rows in partners.rows.items() for row in rows]
    if limit is not None and limit < len(every):
        every = r.sample(every, limit)
    files, truth = {}, []
    for source, table, *_ in PARTNERS:
        rows = [row for s, row in every if s == source]
        r.shuffle(rows)
        columns = IDENTITY + [c for c in base[table].columns if c != "person_id"]
        files[source] = pl.DataFrame(
            [{c: row.get(c) for c in columns} for row in rows], schema={c: pl.String for c in columns}, orient="row"
        )
        for number, row in enumerate(rows, start=2):
            fact = row["__truth"]
            truth.append(
                (
                    source,
                    str(number),
                    fact.get("person_id"),
                    fact.get("stranger_household"),
                    fact["expect"],
                    ";".join(dict.fromkeys(fact["noise"])) or None,
                )
            )
    schema = ["source", "row", "person_id", "stranger_household", "expect", "noise"]
    members = base["members"]
    blanks = pl.Series([r.random() < 0.01 for _ in range(members.height)], dtype=pl.Boolean)
    base["members"] = members.with_columns(
        pl.when(blanks).then(None).otherwise(pl.col("date_of_birth")).alias("date_of_birth")
    )
    return PartnerData(base, files, pl.DataFrame(truth, schema={c: pl.String for c in schema}, orient="row"))
