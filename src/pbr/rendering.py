"""The one Jinja environment pbr renders HTML with: the web app's pages and the documents it prints (evidence
packs), so a fact reads the same on a screen and on paper."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from pbr.money import pounds
from pbr.periods import day_in_words

HERE = Path(__file__).parent
FOLDERS = (HERE / "web" / "templates", HERE / "templates")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Autoescaping HTML templates from the web app's folder and the documents' folder, with pbr's filters."""
    env = Environment(loader=FileSystemLoader([str(f) for f in FOLDERS]), autoescape=select_autoescape(default=True))
    env.filters["pounds"] = pounds
    env.filters["day"] = day_in_words
    return env
