"""Where the shipped data that is not code lives (schemas/ in a checkout, pbr/_schemas in a wheel)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml


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


@lru_cache(maxsize=None)
def load_yaml(*parts: str) -> dict:
    with open(schema_path(*parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def default_plan_path() -> Path:
    return schema_path("outcome_plans", "troubled-families-2015.yaml")
