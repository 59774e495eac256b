"""The application context: what every service works with, built once at an edge from the settings.

The CLI builds one per command, the scheduler one per job run, the web app one when it starts. Below the
edges nothing reads the environment: a function takes the context, or the parts of it it needs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pbr.periods import utc_now
from pbr.plan import DatedParameter, Plan, load_parameters, load_plan
from pbr.resources import plan_location, vocabularies
from pbr.settings import Council, Settings

if TYPE_CHECKING:  # opened, and imported, by the commands that use a database only: it is slow to import
    from pbr.matching_config import MatchingConfig
    from pbr.store import Store


class Clock:
    """The day and the moment, as the system gives them."""

    def today(self) -> dt.date:
        return dt.date.today()

    def now(self) -> dt.datetime:
        return utc_now()


@dataclass(frozen=True)
class FixedClock(Clock):
    """A clock standing on one day, for replaying and testing."""

    day: dt.date

    def today(self) -> dt.date:
        return self.day

    def now(self) -> dt.datetime:
        return dt.datetime.combine(self.day, dt.time(12), dt.UTC)


@dataclass
class AppContext:
    """The store, plan, money parameters, code lists, clock and settings of one installation."""

    settings: Settings
    plan: Plan
    parameters: dict[str, DatedParameter]
    vocabularies: dict
    clock: Clock = field(default_factory=Clock)
    _store: Store | None = None
    create_database: bool = True

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        clock: Clock | None = None,
        store: Store | None = None,
        create_database: bool = True,
    ) -> AppContext:
        """Read the plan, money parameters and code lists the settings name; each raises its own error with the
        file and the mistake (VocabularyError, PlanError)."""
        settings = settings or Settings()
        codes = vocabularies(Path(settings.vocabularies) if settings.vocabularies else None)
        plan = load_plan(settings.plan, vocabularies=codes)
        parameters = load_parameters(settings.parameters)
        return cls(settings, plan, parameters, codes, clock or Clock(), store, create_database)

    @property
    def store(self) -> Store:
        """The database, opened (and migrated) on first use: a command that needs none opens none."""
        if self._store is None:
            from pbr.store import Store

            self._store = Store(self.settings.database_url, create=self.create_database)
        return self._store

    @cached_property
    def matching(self) -> MatchingConfig:
        """The matching configuration the settings name (or the shipped one), read on first use."""
        from pbr.matching_config import load_matching_config

        return load_matching_config(self.settings.matching)

    @property
    def council(self) -> Council:
        return self.settings.council

    @property
    def plan_is_councils(self) -> bool:
        return self.settings.plan is not None

    def plan_path(self) -> Path | None:
        return plan_location(self.settings.plan) if self.settings.plan else None

    def today(self) -> dt.date:
        return self.clock.today()

    def now(self) -> dt.datetime:
        return self.clock.now()

    def with_plan(self, plan: Plan) -> AppContext:
        """The same installation deciding by another plan (a claim's own, or one named on the command line)."""
        return replace(self, plan=plan)
