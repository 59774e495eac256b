"""`pbr doctor`: is this installation ready to run? Each check says ok, a warning or a fault, and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from pbr.settings import Settings

OK, WARN, FAULT = "ok", "warning", "fault"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    message: str


def run_checks(settings: Settings, config_path: Path | None = None, today: dt.date | None = None) -> list[Check]:
    """Every check of the installation `settings` describe, in turn; a check that cannot run says so and the
    others still run."""
    day = today or dt.date.today()
    checks = [_vocabularies(settings), _plan(settings), _parameters(settings, day)]
    store, check = _database(settings.database_url)
    checks.append(check)
    if store is not None:
        checks += [_records(store), _quarantine(store), _users(store), _jobs(store, day)]
    checks += [_scheduler_config(config_path), *_web_settings(settings)]
    return checks


def _guard(name: str, check) -> Check:
    try:
        return check()
    except Exception as error:  # a check names what is wrong; it never ends the others
        return Check(name, FAULT, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")


def _plan(settings: Settings) -> Check:
    from pbr.plan import load_plan
    from pbr.resources import vocabularies

    def check() -> Check:
        plan = load_plan(settings.plan, vocabularies=vocabularies(settings.vocabularies))
        whose = f"the council's ({settings.plan})" if settings.plan else "the shipped default"
        return Check(
            "outcome plan",
            OK,
            f"{plan.name} (SHA-256 {plan.sha256[:12]}), {whose}: {len(plan.themes)} "
            f"themes, a family needs {plan.min_themes}",
        )

    return _guard("outcome plan", check)


def _parameters(settings: Settings, day: dt.date) -> Check:
    from pbr.money import pounds
    from pbr.plan import load_parameters

    def check() -> Check:
        parameters = load_parameters(settings.parameters)
        whose = f"the council's ({settings.parameters})" if settings.parameters else "shipped"
        in_force = "; ".join(
            f"{programme} {name} {pounds(p.at(day))}"
            for programme, money in parameters.programmes.items()
            for name, p in money.items()
            if p.first_day <= day
        )
        return Check("financial parameters", OK, f"{whose}; in force on {day}: {in_force or 'none yet'}")

    return _guard("financial parameters", check)


def _vocabularies(settings: Settings) -> Check:
    from pbr.resources import vocabularies

    def check() -> Check:
        lists = vocabularies(settings.vocabularies)
        extra = settings.vocabularies
        return Check(
            "code lists",
            OK,
            f"{len(lists['event_type'])} event types, {len(lists['episode_type'])} episode "
            f"types" + (f", with the council's {extra}" if extra else ", shipped"),
        )

    return _guard("code lists", check)


def _database(url: str | None):
    from pbr.store import Store

    try:
        store = Store(url)
    except Exception as error:
        return None, Check("database", FAULT, f"cannot open it: {str(error).splitlines()[0]}")
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    where = store.engine.url.render_as_string(hide_password=True)
    return store, Check("database", OK, f"{where}, schema at migration {revision}")


def _records(store) -> Check:
    from pbr.store.models import Family, IngestRun

    def check() -> Check:
        runs = IngestRun.__table__.c
        with store.engine.connect() as connection:
            families = connection.execute(select(func.count()).select_from(Family.__table__)).scalar_one()
            last = connection.execute(select(func.max(runs.finished_at)).where(runs.status == "loaded")).scalar_one()
        if not families:
            return Check("records", WARN, "no families loaded yet: pbr ingest FOLDER")
        return Check("records", OK, f"{families:,} families; last load {str(last)[:16]}")

    return _guard("records", check)


def _quarantine(store) -> Check:
    def check() -> Check:
        held = store.quarantine_frame()
        if held.height == 0:
            return Check("quarantine", OK, "nothing held")
        families = held["family_id"].drop_nulls().n_unique()
        return Check(
            "quarantine",
            WARN,
            f"{held.height:,} rows held, {families:,} families kept from claims until "
            "their senders correct them: pbr quarantine",
        )

    return _guard("quarantine", check)


def _users(store) -> Check:
    from pbr.store.models import User

    def check() -> Check:
        users = User.__table__.c
        with store.engine.connect() as connection:
            roles = dict(
                connection.execute(
                    select(users.role, func.count()).where(users.disabled_at.is_(None)).group_by(users.role)
                ).all()
            )
        if not roles:
            return Check("web users", WARN, "no accounts: pbr users add NAME --role coordinator")
        listed = ", ".join(f"{n} {role}" for role, n in sorted(roles.items()))
        if "coordinator" not in roles:
            return Check("web users", WARN, f"{listed}; no coordinator, so nobody can prepare a claim in the app")
        return Check("web users", OK, listed)

    return _guard("web users", check)


def _jobs(store, day: dt.date) -> Check:
    from pbr.store.models import JobRun

    def check() -> Check:
        runs = JobRun.__table__.c
        latest = select(runs.job_id, func.max(runs.id).label("id")).group_by(runs.job_id).subquery()
        with store.engine.connect() as connection:
            rows = (
                connection.execute(
                    select(runs.job_id, runs.outcome, runs.started_at)
                    .join(latest, runs.id == latest.c.id)
                    .order_by(runs.job_id)
                )
                .mappings()
                .all()
            )
        if not rows:
            return Check("scheduled jobs", OK, "none has run here (pbr scheduler run)")
        bad = [f"{r['job_id']} {r['outcome']}" for r in rows if r["outcome"] in ("failed", "interrupted")]
        listed = ", ".join(f"{r['job_id']} {r['outcome']} {str(r['started_at'])[:16]}" for r in rows)
        if bad:
            return Check("scheduled jobs", WARN, f"last run {', '.join(bad)}: pbr jobs history; all: {listed}")
        return Check("scheduled jobs", OK, listed)

    return _guard("scheduled jobs", check)


def _scheduler_config(path: Path | None) -> Check:
    if path is None:
        return Check("scheduler configuration", OK, "not checked: give --config FILE")
    from pbr.jobs.config import load_config

    def check() -> Check:
        config = load_config(path)
        return Check(
            "scheduler configuration",
            OK,
            ", ".join(f"{job} {schedule.describe()}" for job, schedule in config.schedules.items()) or "no jobs",
        )

    return _guard("scheduler configuration", check)


def _web_settings(settings: Settings) -> list[Check]:
    secret, secure = settings.secret_key, settings.secure_cookies
    return [
        Check(
            "web sessions",
            OK if secret and len(secret) >= 32 else WARN,
            "PBR_SECRET_KEY set"
            if secret and len(secret) >= 32
            else (
                "PBR_SECRET_KEY is shorter than 32 characters"
                if secret
                else "PBR_SECRET_KEY is not set: every restart of pbr serve signs everyone out"
            ),
        ),
        Check(
            "web cookies",
            OK if secure else WARN,
            "sent over HTTPS only"
            if secure
            else "PBR_SECURE_COOKIES is not set: set it where the app is served over "
            "HTTPS, so the session cookie is never sent in clear",
        ),
    ]
