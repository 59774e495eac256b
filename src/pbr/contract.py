"""Feed contracts (schemas/feeds.yaml): tables, columns, types, keys and references."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from pbr.resources import load_yaml

# The largest whole number (or amount in pence) the database stores: its integer columns are PostgreSQL
# `integer`, 32 bits.
MAX_INTEGER = 2**31 - 1


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


@lru_cache(maxsize=1)
def contracts() -> dict[str, TableContract]:
    data = load_yaml("feeds.yaml")
    tables = {}
    for name in data["load_order"]:
        body = data["tables"][name]
        columns = {}
        for column, spec in body["columns"].items():
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


def table_for_stem(stem: str) -> str | None:
    """`police__events` -> `events`; matched case-insensitively; None when no such table."""
    name = stem.rsplit("__", 1)[-1].strip().lower()
    return name if name in contracts() else None
