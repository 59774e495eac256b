"""Feed contracts (schemas/feeds.yaml): tables, columns, types, keys and references."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from pbr.resources import load_yaml

# The largest whole number (or amount in pence) the database stores: its integer columns are PostgreSQL
# `integer`, 32 bits.
MAX_INTEGER = 2**31 - 1
PARTNER_PREFIX = "partner:"


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    required: bool = False
    vocabulary: str | None = None
    not_future: bool = False
    min_column: str | None = None
    minimum: int | None = None
    references: tuple[str, str] | None = None
    personal: bool = False
    max_length: int | None = None  # characters the database column holds


@dataclass(frozen=True)
class TableContract:
    name: str
    columns: dict[str, ColumnSpec]
    key: tuple[str, ...] = ()
    sum_at_most: dict | None = None
    no_overlap: tuple[str, str] | None = None
    scale: dict | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.required]

    @property
    def dates(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.type == "date"]


def _columns(specs: dict) -> dict[str, ColumnSpec]:
    columns = {}
    for column, spec in specs.items():
        ref = spec.get("references")
        columns[column] = ColumnSpec(
            name=column,
            type=spec["type"],
            required=bool(spec.get("required", False)),
            vocabulary=spec.get("vocabulary"),
            not_future=bool(spec.get("not_future", False)),
            min_column=spec.get("min_column"),
            minimum=spec.get("min"),
            references=tuple(ref.split(".")) if ref else None,
            personal=bool(spec.get("personal", False)),
            max_length=spec.get("max_length"),
        )
    return columns


@lru_cache(maxsize=1)
def contracts() -> dict[str, TableContract]:
    data = load_yaml("feeds.yaml")
    tables = {}
    for name in data["load_order"]:
        body = data["tables"][name]
        columns = _columns(body["columns"])
        overlap = body.get("no_overlap")
        tables[name] = TableContract(
            name=name,
            columns=columns,
            key=tuple(body.get("key", ())),
            sum_at_most=body.get("sum_at_most"),
            no_overlap=tuple(overlap) if overlap else None,
            scale=body.get("scale"),
        )
    return tables


@lru_cache(maxsize=1)
def partner_contracts() -> dict[str, TableContract]:
    """The contracts a partner file is read by (matching.md), by `partner_table` name, with the term calendar
    its attendance refers to: each person-keyed table without `person_id`, with the identity columns instead.
    Keyless: what a row's key is depends on the member it is linked to."""
    data = load_yaml("feeds.yaml")["partner_files"]
    identity = _columns(data["identity"])
    found = {"terms": contracts()["terms"]}
    for name in data["tables"]:
        own = {c: spec for c, spec in contracts()[name].columns.items() if c != "person_id"}
        found[partner_table(name)] = TableContract(name=name, columns={**identity, **own})
    return found


def partner_table(table: str) -> str:
    """The name a partner file's table is read under: `events` -> `partner:events`."""
    return PARTNER_PREFIX + table


def contract_for(table: str) -> TableContract:
    """The contract of a feed table, or of a partner file's table (`partner_table`)."""
    return partner_contracts()[table] if table.startswith(PARTNER_PREFIX) else contracts()[table]


def table_for_stem(stem: str, partner: bool = False) -> str | None:
    """`police__events` -> `events` (`partner:events` for a partner file); matched case-insensitively; None when
    no such table."""
    name = stem.rsplit("__", 1)[-1].strip().lower()
    if partner:
        return partner_table(name) if partner_table(name) in partner_contracts() else None
    return name if name in contracts() else None


# the day each kind of record is dated by (attendance by its term's end, an episode by its start and end)
DATED_RECORDS = {
    "families": "attachment_date",
    "indicators": "identified_date",
    "events": "event_date",
    "episodes": "start_date",
    "assessments": "assessment_date",
    "milestones": "milestone_date",
    "grant_payments": "payment_date",
}
