"""Run-time settings, read from the environment at the edge (the CLI, the scheduler, the web app) and nowhere else.

Each variable names one thing a council sets once for its installation; `pbr`'s global options override them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

DATABASE_ENV = "PBR_DATABASE_URL"  # SQLAlchemy URL of the database (default: sqlite:///pbr.db)
PLAN_ENV = "PBR_PLAN"  # the council's outcome plan: a file, or a shipped plan's name
PARAMETERS_ENV = "PBR_FINANCIAL_PARAMETERS"  # the council's dated money parameters, in place of the shipped ones
VOCABULARIES_ENV = "PBR_VOCABULARIES"  # the council's own code lists, added to the shipped ones
MATCHING_ENV = "PBR_MATCHING"  # the council's matching configuration, in place of schemas/matching.yaml
COUNCIL_NAME_ENV = "PBR_COUNCIL_NAME"
COUNCIL_CODE_ENV = "PBR_COUNCIL_CODE"
TARGET_ENV = "PBR_TARGET_FAMILIES"  # families the council aims to attach per programme year
SECRET_KEY_ENV = "PBR_SECRET_KEY"  # the council's key for signing web sessions, so they outlive a restart
NEW_PASSWORD_ENV = "PBR_NEW_PASSWORD"  # a new account's password, for `pbr users add` run by a script
SECURE_COOKIES_ENV = "PBR_SECURE_COOKIES"  # the app is served over HTTPS: its session cookie goes over HTTPS only
# evidence packs go to the spot-checker by a secure route: only then do they carry names and dates of birth
PACKS_SECURE_ROUTE_ENV = "PBR_PACKS_SECURE_ROUTE"
DEFAULT_TARGET = 500


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Council:
    name: str = "Synthetic Borough Council"
    code: str = "E09000999"
    target_per_year: int = DEFAULT_TARGET


@dataclass(frozen=True)
class Settings:
    """What an installation is configured with; every path is as given (a shipped plan may be named)."""

    database_url: str | None = None
    plan: str | None = None
    parameters: str | None = None
    vocabularies: str | None = None
    matching: str | None = None
    council: Council = field(default_factory=Council)
    secret_key: str | None = None
    secure_cookies: bool = False
    packs_secure_route: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        target = env.get(TARGET_ENV, "").strip() or str(DEFAULT_TARGET)
        if not target.isdigit():
            raise SettingsError(f"{TARGET_ENV} {target!r} is not a whole number of families")
        council = Council(
            name=env.get(COUNCIL_NAME_ENV) or Council.name,
            code=env.get(COUNCIL_CODE_ENV) or Council.code,
            target_per_year=int(target),
        )
        return cls(
            database_url=env.get(DATABASE_ENV) or None,
            plan=env.get(PLAN_ENV) or None,
            parameters=env.get(PARAMETERS_ENV) or None,
            vocabularies=env.get(VOCABULARIES_ENV) or None,
            matching=env.get(MATCHING_ENV) or None,
            council=council,
            secret_key=env.get(SECRET_KEY_ENV) or None,
            secure_cookies=_yes(env.get(SECURE_COOKIES_ENV)),
            packs_secure_route=_yes(env.get(PACKS_SECURE_ROUTE_ENV)),
        )

    def overridden(self, **values) -> Settings:
        """These settings with the values given (None leaves a setting as it is)."""
        return replace(self, **{name: value for name, value in values.items() if value is not None})


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")
