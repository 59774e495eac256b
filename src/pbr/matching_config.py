"""The matching configuration (schemas/matching.yaml, or a council's copy): thresholds, prior, training, blocking,
retention, name variants and each comparison's levels with their starting values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pbr.resources import parse_yaml, schema_path

KINDS = ("agreed", "close", "disagreed", "missing")


class MatchingConfigError(ValueError):
    """A matching configuration that cannot be used; the message names the file and the value."""


@dataclass(frozen=True)
class Level:
    """One level of a comparison: how a person reads it, and its starting m- and u-probabilities."""

    level: str
    kind: str
    words: str
    m: float | None = None
    u: float | None = None
    fixed: bool = False


@dataclass(frozen=True)
class MatchingConfig:
    source: str
    link_probability: float
    clear_ahead_bits: float
    review_probability: float
    expected_member_share: float
    min_members: int
    min_rows: int
    u_sample_pairs: int
    seed: int
    em_blocks: tuple[str, ...]
    blocking: tuple[str, ...]
    unmatched_days: int
    memory_limit: str  # the most memory DuckDB takes while scoring, as DuckDB writes it ("2GB")
    variants: dict[str, tuple[str, ...]]  # a name -> every full name it may stand for
    comparisons: dict[str, tuple[Level, ...]]

    def level(self, comparison: str, index: int) -> Level:
        """The level splink numbered `index` (-1 is the missing level; the rest count up from the weakest)."""
        levels = self.comparisons[comparison]
        return levels[0] if index < 0 else levels[len(levels) - 1 - index]


def _number(data: dict, key: str, where: str, low: float, high: float) -> float:
    value = data.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        raise MatchingConfigError(f"{where}: {key} must be a number from {low} to {high}, not {value!r}")
    return value


def _memory(value, where: str) -> str:
    text = str(value).strip().upper()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(MB|GB)", text):
        raise MatchingConfigError(f"{where}: memory_limit must be an amount such as 2GB or 800MB, not {value!r}")
    return text.replace(" ", "")


def _levels(name: str, raw, where: str) -> tuple[Level, ...]:
    if not isinstance(raw, list) or len(raw) < 3:
        raise MatchingConfigError(f"{where}: comparison {name} needs a missing level and at least two more")
    levels = []
    for entry in raw:
        kind = entry.get("kind")
        if kind not in KINDS:
            raise MatchingConfigError(f"{where}: {name} level {entry.get('level')}: kind must be one of {KINDS}")
        probabilities = [entry.get(p) for p in ("m", "u")]
        if entry is not raw[0] and any(not isinstance(p, int | float) or not 0 < p <= 1 for p in probabilities):
            raise MatchingConfigError(f"{where}: {name} level {entry.get('level')}: m and u must be in (0, 1]")
        levels.append(
            Level(entry["level"], kind, entry["words"], entry.get("m"), entry.get("u"), bool(entry.get("fixed")))
        )
    if levels[0].level != "missing":
        raise MatchingConfigError(f"{where}: comparison {name} must begin with its missing level")
    return tuple(levels)


def _variants(reference: str, base: Path) -> dict[str, tuple[str, ...]]:
    path = Path(reference)
    path = path if path.is_absolute() else (base / path if (base / path).exists() else schema_path(reference))
    data = parse_yaml(path.read_text(encoding="utf-8"))
    meaning: dict[str, set[str]] = {}
    for full, others in (data.get("variants") or {}).items():
        for name in [full, *(others or [])]:
            meaning.setdefault(str(name).lower(), set()).add(str(full).lower())
    return {name: tuple(sorted(fulls)) for name, fulls in meaning.items()}


def load_matching_config(path: str | Path | None = None) -> MatchingConfig:
    """The council's matching configuration at `path`, or the shipped one."""
    file = Path(path) if path else schema_path("matching.yaml")
    where = str(file)
    try:
        data = parse_yaml(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise MatchingConfigError(f"{where}: cannot be read ({error.strerror})") from None
    thresholds, training = data.get("thresholds", {}), data.get("training", {})
    link = _number(thresholds, "link_probability", where, 0.5, 1)
    review = _number(thresholds, "review_probability", where, 0, link)
    comparisons = {name: _levels(name, raw, where) for name, raw in (data.get("comparisons") or {}).items()}
    missing = {"name", "date_of_birth", "address", "sex"} - set(comparisons)
    if missing:
        raise MatchingConfigError(f"{where}: comparisons {', '.join(sorted(missing))} are missing")
    return MatchingConfig(
        source=where,
        link_probability=link,
        clear_ahead_bits=_number(thresholds, "clear_ahead_bits", where, 0, 100),
        review_probability=review,
        expected_member_share=_number(data.get("expected_member_share", {}), "value", where, 0.01, 1),
        min_members=int(_number(training, "min_members", where, 0, 1e12)),
        min_rows=int(_number(training, "min_rows", where, 0, 1e12)),
        u_sample_pairs=int(_number(training, "u_sample_pairs", where, 1e3, 1e10)),
        seed=int(_number(training, "seed", where, 0, 2**31)),
        em_blocks=tuple(training.get("em_blocks") or ()),
        blocking=tuple(data.get("blocking") or ()),
        unmatched_days=int(_number(data.get("retention", {}), "unmatched_days", where, 1, 36500)),
        memory_limit=_memory(data.get("memory_limit", "2GB"), where),
        variants=_variants(data.get("name_variants", "name_variants.yaml"), file.parent),
        comparisons=comparisons,
    )
