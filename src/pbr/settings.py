"""Run-time settings: the database URL and the council's own details (env or `pbr.toml` later)."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Council:
    name: str = os.environ.get("PBR_COUNCIL_NAME", "Synthetic Borough Council")
    code: str = os.environ.get("PBR_COUNCIL_CODE", "E09000999")
    target_per_year: int = int(os.environ.get("PBR_TARGET_FAMILIES", "500"))


def council() -> Council:
    return Council()


def secure_cookies() -> bool:
    """PBR_SECURE_COOKIES: the app is served over HTTPS, so its session cookie is sent over HTTPS only."""
    return os.environ.get("PBR_SECURE_COOKIES", "").strip().lower() in ("1", "true", "yes")


def session_secret() -> str | None:
    """PBR_SECRET_KEY: the council's key for signing sessions, so they outlive a restart of the app."""
    return os.environ.get("PBR_SECRET_KEY") or None
