"""Outcome plans: typed, validated, with every error naming its path inside the YAML."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from pbr.plan.kinds import COMMON_KEYS, ELIGIBILITY_KINDS, PROGRESS_KINDS, Param, ParamError, _whole
from pbr.resources import parse_yaml, plan_location, shipped_plan_path, shipped_plans
from pbr.resources import vocabularies as shipped_vocabularies

THEME_CODE = re.compile(r"[A-Za-z0-9_-]{1,40}")
# the most characters a claim line's `themes_at_attachment` holds (pbr.store.models; a test keeps them equal)
THEMES_LISTED_MAX = 300
PLAN_NAME_MAX = 200  # pbr.store.models.Claim.plan_name
DEFAULT_PROGRAMME = "troubled-families-2015"  # the money parameters of a plan that names no programme
NEEDS_AT_ATTACHMENT, NEEDS_SINCE = "at_attachment", "at_attachment_and_since"
ADULT_AGE = 18


class PlanError(ValueError):
    """A plan that cannot be used; the message names the YAML path and what is wrong."""


@dataclass(frozen=True)
class Rule:
    kind: str
    params: dict[str, Any]
    index: int
    reference: str | None = None

    def __getitem__(self, name: str) -> Any:
        return self.params[name]

    def label(self, section: str) -> str:
        """How the evidence names this rule, e.g. `progress[0]:events_reduced`."""
        return f"{section}[{self.index}]:{self.kind}"


@dataclass(frozen=True)
class Theme:
    code: str
    title: str
    eligibility: tuple[Rule, ...]
    progress: tuple[Rule, ...]


@dataclass(frozen=True)
class BenefitRule:
    benefit: str
    weeks_employed: int
    within_weeks: int


@dataclass(frozen=True)
class Plan:
    name: str
    description: str
    reference: str | None
    min_themes: int
    require_dependent_child: bool
    eligibility_lookback_months: int
    themes: tuple[Theme, ...]
    benefit_rules: tuple[BenefitRule, ...]
    sha256: str
    source: str
    programme: str = DEFAULT_PROGRAMME  # the key of the money parameters its claims are priced by
    # outcome-plan.md, "Plan fields for later programmes and audited practice"; each default keeps the older meaning
    needs: str = NEEDS_AT_ATTACHMENT  # or NEEDS_SINCE: themes that emerge after attachment need progress too
    result_after_closure_months: int | None = None  # ssp_met needs the case closed this long ago
    child_under_age: int = 18  # a member under this age on the attachment day is a dependent child
    pregnancy_counts: bool = False  # a `pregnancy` episode covering the attachment day counts as a child
    way_of_working: tuple[str, ...] = ()  # milestones a family must have recorded to be claimable
    raw: dict = field(repr=False, compare=False, default_factory=dict)
    text: str = field(repr=False, compare=False, default="")  # the YAML as read, kept with a claim resting on it
    # the code lists the plan was checked against; records are validated against the same lists
    vocabularies: dict = field(repr=False, compare=False, default_factory=dict)

    @property
    def theme_codes(self) -> list[str]:
        return [t.code for t in self.themes]

    def theme(self, code: str) -> Theme:
        return next(t for t in self.themes if t.code == code)


def _rule(entry: Any, path: str, kinds: dict[str, dict[str, Param]], index: int, codes: dict) -> Rule:
    if not isinstance(entry, dict):
        raise PlanError(f"{path}: must be a mapping with a kind")
    kind = entry.get("kind")
    if kind is None:
        raise PlanError(f"{path}.kind: missing")
    if kind not in kinds:
        raise PlanError(f"{path}.kind: unknown kind {kind!r} (known: {', '.join(kinds)})")
    spec = kinds[kind]
    unknown = set(entry) - set(spec) - COMMON_KEYS
    if unknown:
        raise PlanError(f"{path}: unknown parameter {', '.join(sorted(unknown))} for kind {kind}")
    params: dict[str, Any] = {}
    for name, param in spec.items():
        if name not in entry:
            if param.required:
                raise PlanError(f"{path}.{name}: missing (required by kind {kind})")
            params[name] = param.default
            continue
        try:
            params[name] = param.read(entry[name], codes)
        except ParamError as error:
            raise PlanError(f"{path}.{name}: {error}") from None
    return Rule(kind=kind, params=params, index=index, reference=entry.get("reference"))


def _whole_at(value: Any, path: str, minimum: int) -> int:
    try:
        return _whole(minimum)(value)
    except ParamError as error:
        raise PlanError(f"{path}: {error}") from None


def _theme(code: Any, body: Any, codes: dict) -> Theme:
    path = f"themes.{code}"
    if not isinstance(code, str) or not THEME_CODE.fullmatch(code):
        # codes are listed joined by ';' and written `<theme>.<detail>` in indicators
        raise PlanError(f"{path}: a theme code is 1 to 40 letters, digits, _ or -")
    if not isinstance(body, dict):
        raise PlanError(f"{path}: must be a mapping")
    unknown = set(body) - {"title", "eligibility", "progress", "reference", "description"}
    if unknown:
        raise PlanError(f"{path}: unknown key {', '.join(sorted(unknown))}")
    eligibility = body.get("eligibility") or []
    progress = body.get("progress") or []
    for key, value in (("eligibility", eligibility), ("progress", progress)):
        if not isinstance(value, list):
            raise PlanError(f"{path}.{key}: must be a list of rules")
    if not eligibility:
        raise PlanError(f"{path}.eligibility: needs at least one criterion")
    return Theme(
        code=code,
        title=str(body.get("title", code)),
        eligibility=tuple(
            _rule(e, f"{path}.eligibility[{i}]", ELIGIBILITY_KINDS, i, codes) for i, e in enumerate(eligibility)
        ),
        progress=tuple(_rule(p, f"{path}.progress[{i}]", PROGRESS_KINDS, i, codes) for i, p in enumerate(progress)),
    )


def _themes(data: dict, codes: dict) -> tuple[Theme, ...]:
    themes_data = data["themes"]
    if not isinstance(themes_data, dict) or not themes_data:
        raise PlanError("themes: must be a mapping of theme codes")
    themes = tuple(_theme(code, body, codes) for code, body in themes_data.items())
    listed = len(";".join(t.code for t in themes))
    if listed > THEMES_LISTED_MAX:
        raise PlanError(
            f"themes: the theme codes take {listed} characters when listed, and a claim line holds "
            f"{THEMES_LISTED_MAX}: use shorter codes"
        )
    return themes


def _benefit_rules(data: dict, codes: dict) -> tuple[BenefitRule, ...]:
    employment = data.get("continuous_employment") or {}
    if not isinstance(employment, dict):
        raise PlanError("continuous_employment: must be a mapping")
    benefits = employment.get("benefit_types") or {}
    if not isinstance(benefits, dict):
        raise PlanError("continuous_employment.benefit_types: must be a mapping of benefit codes")
    episode_types = codes["episode_type"]
    rules = []
    for benefit, rule in benefits.items():
        path = f"continuous_employment.benefit_types.{benefit}"
        if benefit not in episode_types:
            raise PlanError(f"{path}: unknown episode type {benefit!r} (known: {', '.join(episode_types)})")
        if not isinstance(rule, dict):
            raise PlanError(f"{path}: must give weeks_employed and within_weeks")
        weeks = _whole_at(rule.get("weeks_employed"), f"{path}.weeks_employed", 1)
        within = _whole_at(rule.get("within_weeks"), f"{path}.within_weeks", 1)
        if within < weeks:
            raise PlanError(f"{path}.within_weeks: must be at least weeks_employed ({weeks})")
        rules.append(BenefitRule(benefit, weeks, within))
    return tuple(rules)


def _dependent_child(data: dict) -> dict:
    rule = data.get("dependent_child")
    if rule is None:
        return {}
    if not isinstance(rule, dict):
        raise PlanError("dependent_child: must be a mapping, e.g. {under_age: 18, pregnancy: true}")
    unknown = set(rule) - {"under_age", "pregnancy"}
    if unknown:
        raise PlanError(f"dependent_child: unknown key {', '.join(sorted(map(str, unknown)))} (under_age, pregnancy)")
    pregnancy = rule.get("pregnancy", False)
    if not isinstance(pregnancy, bool):
        raise PlanError("dependent_child.pregnancy: must be true or false")
    return {
        "child_under_age": _whole_at(rule.get("under_age", ADULT_AGE), "dependent_child.under_age", 1),
        "pregnancy_counts": pregnancy,
    }


def _way_of_working(data: dict, codes: dict) -> tuple[str, ...]:
    listed = data.get("way_of_working")
    if listed is None:
        return ()
    known = codes["milestone"]
    if not isinstance(listed, list) or not listed:
        raise PlanError(f"way_of_working: must be a list of milestones ({', '.join(known)})")
    unknown = [str(m) for m in listed if m not in known]
    if unknown:
        raise PlanError(f"way_of_working: unknown milestone {', '.join(unknown)} (known: {', '.join(known)})")
    return tuple(dict.fromkeys(listed))


def _later_fields(data: dict, codes: dict) -> dict:
    """The plan fields of later programmes and audited practice (outcome-plan.md), each checked with its path."""
    programme = data.get("programme", DEFAULT_PROGRAMME)
    if not isinstance(programme, str) or not THEME_CODE.fullmatch(programme.strip()):
        raise PlanError("programme: must be the name of a programme's money parameters, e.g. troubled-families-2015")
    needs = data.get("needs", NEEDS_AT_ATTACHMENT)
    if needs not in (NEEDS_AT_ATTACHMENT, NEEDS_SINCE):
        raise PlanError(f"needs: must be {NEEDS_AT_ATTACHMENT} or {NEEDS_SINCE}")
    after = data.get("result_after_closure_months")
    return {
        "programme": programme.strip(),
        "needs": needs,
        "result_after_closure_months": None if after is None else _whole_at(after, "result_after_closure_months", 0),
        "way_of_working": _way_of_working(data, codes),
        **_dependent_child(data),
    }


def parse_plan(data: Any, source: str = "<plan>", sha256: str = "", vocabularies: dict | None = None) -> Plan:
    """A plan from its parsed YAML, checked against the code lists given (the shipped ones by default)."""
    codes = vocabularies or shipped_vocabularies()
    if not isinstance(data, dict):
        raise PlanError(f"{source}: a plan must be a YAML mapping")
    for key in ("name", "themes"):
        if key not in data:
            raise PlanError(f"{key}: missing")
    if not 1 <= len(str(data["name"]).strip()) <= PLAN_NAME_MAX:
        raise PlanError(f"name: must be 1 to {PLAN_NAME_MAX} characters, as a claim records it")
    themes = _themes(data, codes)
    min_themes = _whole_at(data.get("min_themes", 2), "min_themes", 1)
    if min_themes > len(themes):
        raise PlanError(f"min_themes: {min_themes} is more than the plan's {len(themes)} themes")
    lookback = _whole_at(data.get("eligibility_lookback_months", 12), "eligibility_lookback_months", 0)
    dependent = data.get("require_dependent_child", True)
    if not isinstance(dependent, bool):
        raise PlanError("require_dependent_child: must be true or false")
    return Plan(
        name=str(data["name"]),
        description=str(data.get("description", "")),
        reference=data.get("reference"),
        min_themes=min_themes,
        require_dependent_child=dependent,
        eligibility_lookback_months=lookback,
        themes=themes,
        benefit_rules=_benefit_rules(data, codes),
        sha256=sha256,
        source=source,
        raw=data,
        **_later_fields(data, codes),
        vocabularies=codes,
    )


def load_plan(path: str | Path | None = None, vocabularies: dict | None = None) -> Plan:
    """Load and check an outcome plan (a file, or a shipped plan's name) against the code lists given; the
    shipped six-theme plan when no path is given."""
    plan_path = plan_location(path) if path else shipped_plan_path()
    try:
        content = plan_path.read_bytes()
    except OSError as error:
        shipped = "" if plan_path.suffix else f" (nor is it a plan pbr ships: {', '.join(shipped_plans())})"
        raise PlanError(f"cannot read plan {plan_path}: {error.strerror}{shipped}") from None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise PlanError(f"{plan_path.name}: not UTF-8 text: save the plan as UTF-8") from None
    return plan_from_text(text, source=str(plan_path), vocabularies=vocabularies)


def plan_from_text(text: str, source: str, vocabularies: dict | None = None) -> Plan:
    """A plan from its YAML text: a file's, or the one a claim was prepared with."""
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as error:
        raise PlanError(f"{Path(source).name}: not valid YAML: {error}") from None
    plan = parse_plan(
        data, source=source, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), vocabularies=vocabularies
    )
    return replace(plan, text=text)


def summary(plan: Plan) -> list[str]:
    """What a plan decides, in a few lines a coordinator can check against the council's framework."""
    child = " and a dependent child" if plan.require_dependent_child else ""
    if plan.benefit_rules:
        employment = (
            ", or continuous employment ("
            + ", ".join(f"{b.benefit} {b.weeks_employed} weeks in {b.within_weeks}" for b in plan.benefit_rules)
            + ")"
        )
    else:
        employment = " (no continuous-employment route)"
    lines = [
        f"{plan.name} (SHA-256 {plan.sha256[:12]}): {plan.description}".rstrip(": "),
        f"a family needs {plan.min_themes} of {len(plan.themes)} themes in the "
        f"{plan.eligibility_lookback_months} months to attachment{child}",
        f"a result: progress on every theme present{employment}",
    ]
    for theme in plan.themes:
        progress = (
            ", ".join(
                rule.kind + (" after closure" if rule.params.get("window_after") == "closure" else "")
                for rule in theme.progress
            )
            or "none (met)"
        )
        found_by = ", ".join(dict.fromkeys(rule.kind for rule in theme.eligibility))
        lines.append(f"  {theme.code}: {theme.title}; found by {found_by}; progress: {progress}")
    return lines
