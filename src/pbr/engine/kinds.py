"""Every rule kind of an outcome plan, registered once: its grammar, its evaluation, how its answer can move after
D (for the forecast), and the days it looks at (for pictures of a family's case). The evidence text is part of
each evaluation.

The grammar lives with the plan (`pbr.plan.kinds`), which knows nothing of the engine; a kind registered here
takes its grammar from there, and `check_registry` says whether the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pbr.plan.kinds import ELIGIBILITY_KINDS, PROGRESS_KINDS, Param

# How a measure's answer can move on days after D when no record is added after D:
FIXED = "fixed"  # the same answer on every later day as on D
SETTLES = "settles"  # unmet until its change day, met from then on (if met there at all)
STEPS = "steps"  # may switch either way on each of its change days


@dataclass(frozen=True)
class CriterionKind:
    """An eligibility criterion: which members it fires for."""

    name: str
    grammar: dict[str, Param]
    fires: Callable[..., Any]  # (rule, theme, families with lookback bounds, records) -> (family_id, person_id)


@dataclass(frozen=True)
class MeasureKind:
    """A progress measure: met or not, with its evidence, at given days."""

    name: str
    grammar: dict[str, Param]
    evaluate: Callable[..., Any]  # (Context, points) -> (family_id, at, met, evidence)
    change_days: Callable[..., Any]  # (Context, families) -> (family_id, at): the later days its answer can change
    after_d: str  # FIXED, SETTLES or STEPS
    windows: Callable[..., Any]  # (Context, points) -> (family_id, at, what, start, end): the days it looks at


CRITERIA: dict[str, CriterionKind] = {}
MEASURES: dict[str, MeasureKind] = {}


def criterion(name: str):
    """Register the function that evaluates the eligibility criterion `name` of the plan grammar."""

    def register(fires):
        CRITERIA[name] = CriterionKind(name, ELIGIBILITY_KINDS[name], fires)
        return fires

    return register


def measure(name: str, change_days, after_d: str, windows):
    """Register the function that evaluates the progress measure `name` of the plan grammar."""

    def register(evaluate):
        MEASURES[name] = MeasureKind(name, PROGRESS_KINDS[name], evaluate, change_days, after_d, windows)
        return evaluate

    return register


def check_registry() -> list[str]:
    """What is wrong between the plan grammar and the engine: kinds a plan may name that cannot be evaluated or
    forecast, and kinds evaluated that no plan may name. Empty when they agree."""
    from pbr.engine import eligibility, measures  # noqa: F401  (their decorators fill the registry)

    problems = [f"eligibility kind {k} has no evaluation" for k in ELIGIBILITY_KINDS if k not in CRITERIA]
    problems += [f"progress kind {k} has no evaluation" for k in PROGRESS_KINDS if k not in MEASURES]
    problems += [
        f"{k} is evaluated but not in the plan grammar"
        for k in [*set(CRITERIA) - set(ELIGIBILITY_KINDS), *set(MEASURES) - set(PROGRESS_KINDS)]
    ]
    problems += [
        f"progress kind {k} cannot be forecast"
        for k, m in MEASURES.items()
        if m.after_d not in (FIXED, SETTLES, STEPS) or m.change_days is None
    ]
    return problems
