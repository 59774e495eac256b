"""Outcome plans and dated financial parameters."""

from pbr.plan.model import BenefitRule, Plan, PlanError, Rule, Theme, load_plan, parse_plan, plan_from_text, summary
from pbr.plan.parameters import DEFAULT_PROGRAMME, DatedParameter, Parameters, ParametersError, load_parameters

__all__ = [
    "DEFAULT_PROGRAMME",
    "BenefitRule",
    "DatedParameter",
    "Parameters",
    "ParametersError",
    "Plan",
    "PlanError",
    "Rule",
    "Theme",
    "load_parameters",
    "load_plan",
    "parse_plan",
    "plan_from_text",
    "summary",
]
