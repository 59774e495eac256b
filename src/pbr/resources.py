"""Where the shipped data that is not code lives (schemas/ in a checkout, pbr/_schemas in a wheel)."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path

import yaml

# Only these lists may grow: the others carry meaning in pbr itself (grant kinds are reconciled by kind,
# sex codes are those of the impact-study return).
EXTENSIBLE = ("event_type", "episode_type", "assessment_tools")
# at most 50 characters: the stored event_type and episode_type columns hold no more
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
_CODE_RULE = "of up to 50 letters, digits, _ and -"


@lru_cache(maxsize=1)
def schemas_dir() -> Path:
    packaged = Path(__file__).parent / "_schemas"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "schemas"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("pbr's schemas folder is missing from this installation")


def schema_path(*parts: str) -> Path:
    return schemas_dir().joinpath(*parts)


# LibYAML's loader where PyYAML was built with it: the same safe loading, several times faster
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(source):
    """YAML as pbr reads it from a person: a date that does not exist is a YAML mistake like any other."""
    try:
        return yaml.load(source, Loader=SAFE_LOADER)
    except ValueError as error:  # PyYAML builds `2017-02-30` with datetime.date, which raises this
        raise yaml.YAMLError(f"a date that does not exist ({error})") from None


@cache
def load_yaml(*parts: str) -> dict:
    with open(schema_path(*parts), encoding="utf-8") as handle:
        return yaml.load(handle, Loader=SAFE_LOADER)


SHIPPED_PLAN = "troubled-families-2015"  # the default: the programme the spec describes


def shipped_plans() -> dict[str, Path]:
    """The plans pbr ships, by name (the file's stem, which is also the plan's `name`)."""
    return {path.stem: path for path in sorted(schema_path("outcome_plans").glob("*.yaml"))}


def shipped_plan_path() -> Path:
    return shipped_plans()[SHIPPED_PLAN]


def plan_location(reference: str | Path) -> Path:
    """A plan file, or a shipped plan named without a folder or suffix (`--plan supporting-families-2022`)."""
    path = Path(reference)
    if path.exists() or path.suffix or len(path.parts) != 1:
        return path
    return shipped_plans().get(str(reference), path)


class VocabularyError(ValueError):
    """A council vocabulary file that cannot be used; the message names the file and the entry."""


def vocabularies(extension: str | Path | None = None) -> dict:
    """The code lists feeds and plans are checked against: the shipped ones, plus a council's own file (a YAML
    file like schemas/vocabularies.yaml, named with `pbr --vocabularies` or PBR_VOCABULARIES), if any."""
    return _vocabularies(str(Path(extension).resolve()) if extension else None)


@lru_cache(maxsize=8)
def _vocabularies(extension: str | None) -> dict:
    shipped = load_yaml("vocabularies.yaml")
    if extension is None:
        return shipped
    where = f"the code lists file {extension}"
    try:
        with open(extension, encoding="utf-8") as handle:
            added = parse_yaml(handle) or {}
    except OSError as error:
        raise VocabularyError(f"{where}: cannot be read ({error.strerror or error})") from None
    except yaml.YAMLError as error:
        raise VocabularyError(f"{where}: is not YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(added, dict):
        raise VocabularyError(f"{where}: must be a mapping of code lists")
    merged = dict(shipped)
    if added.get("reference"):
        merged["reference"] = f"{shipped['reference']}; {added['reference']}"
    for name, codes in added.items():
        if name == "reference":
            continue
        if name not in EXTENSIBLE:
            raise VocabularyError(
                f"{where}: {name}: not a code list a council can extend (one of {', '.join(EXTENSIBLE)})"
            )
        if name == "assessment_tools":
            merged[name] = {**shipped[name], **_scales(codes, f"{where}: {name}")}
            continue
        if not isinstance(codes, list) or not all(_is_code(c) for c in codes):
            raise VocabularyError(f"{where}: {name}: must be a list of codes {_CODE_RULE}")
        merged[name] = shipped[name] + [c for c in dict.fromkeys(codes) if c not in shipped[name]]
    return merged


def _scales(tools, where: str) -> dict:
    if not isinstance(tools, dict):
        raise VocabularyError(f"{where}: must map each tool to its scale, e.g. outcome_star: {{min: 1, max: 10}}")
    scales = {}
    for tool, scale in tools.items():
        if not _is_code(tool):
            raise VocabularyError(f"{where}: {tool!r} is not a code {_CODE_RULE}")
        low, high = (scale.get("min"), scale.get("max")) if isinstance(scale, dict) else (None, None)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)) or low > high:
            raise VocabularyError(f"{where}.{tool}: must give whole numbers min and max, with min <= max")
        scales[tool] = {"min": low, "max": high}
    return scales


def _is_code(value) -> bool:
    return isinstance(value, str) and _CODE.match(value) is not None
