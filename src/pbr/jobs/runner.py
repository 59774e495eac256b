"""Running one job: a lease so no two schedulers run it at once, a run record, and retries on failure."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import traceback

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from pbr.context import AppContext
from pbr.jobs.config import JobsConfig, load_config
from pbr.jobs.tasks import TASKS
from pbr.periods import utc_now
from pbr.settings import Settings
from pbr.store import Store
from pbr.store.models import JobLease, JobRun

LEASE = JobLease.__table__
RUNS = JobRun.__table__
LEASE_SECONDS = 6 * 3600
OWNER = f"{socket.gethostname()}:{os.getpid()}"
scheduler = None  # the running scheduler, for retries; None for `pbr jobs run`
settings = Settings()  # what the process's edge (`pbr scheduler run`, `pbr jobs run`) was configured with
# APScheduler's shutdown holds its job-store lock while it waits for running jobs, so a job that adds its retry
# after shutdown began would wait for that lock forever. Retries are added under this lock, and none after stop;
# the stop also waits for running jobs itself (`wait_until_idle`) before it calls shutdown.
_retry_lock = threading.Lock()
_stopping = False
_active = threading.Condition()
_active_jobs = 0  # jobs of this process between their start and their end
_active_runs: dict[int, tuple[str, Store]] = {}  # run id -> (job id, its store), once the run is recorded


def attach(running, configured: Settings) -> None:
    """The scheduler this process runs (a failing job schedules its retry on it) and the settings its jobs build
    their context from."""
    global scheduler, settings, _stopping
    with _retry_lock:
        scheduler, settings, _stopping = running, configured, False


def stop_retries() -> None:
    """Called before the scheduler shuts down: from now on a failing job schedules no retry."""
    global _stopping
    with _retry_lock:
        _stopping = True


def wait_until_idle(timeout: float | None = None) -> bool:
    """Whether no job of this process is running, waiting at most `timeout` seconds for the running ones."""
    with _active:
        return _active.wait_for(lambda: _active_jobs == 0, timeout)


def interrupt_running(reason: str, within: float) -> tuple[list[str], bool]:
    """Record every job still running in this process as interrupted and free its lease, taking at most
    `within` seconds; returns their ids and whether the record was written.

    The process exits next, so the database rolls back whatever the job had not committed. A database too busy
    to take the record in time (SQLite while another writer holds it) leaves the runs for `recover_abandoned`.
    """
    with _active:
        running = dict(_active_runs)
    written = threading.Event()

    def record() -> None:
        for run_id, (job_id, store) in running.items():
            with store.engine.begin() as connection:
                _mark_interrupted(connection, run_id, reason)
            _release(store, job_id)
        written.set()

    threading.Thread(target=record, daemon=True).start()
    written.wait(within)
    return [job_id for job_id, _ in running.values()], written.is_set()


def recover_abandoned(store: Store) -> list[str]:
    """Runs left `running` by a process of this host that is gone (killed, or stopped while the database was
    busy): record them as interrupted and free their leases, so the jobs run again now, not when a lease expires.
    Returns their job ids. A run of another host is left to its lease's expiry: its process cannot be seen here."""
    host = socket.gethostname()
    with store.engine.begin() as connection:
        running = connection.execute(
            select(RUNS.c.id, RUNS.c.job_id, RUNS.c.host).where(
                (RUNS.c.outcome == "running") & RUNS.c.host.startswith(f"{host}:", autoescape=True)
            )
        ).all()
        held = connection.execute(
            select(LEASE.c.job_id, LEASE.c.owner).where(LEASE.c.owner.startswith(f"{host}:", autoescape=True))
        ).all()
        gone = [r for r in running if not _alive(r.host)]
        for run in gone:
            _mark_interrupted(
                connection,
                run.id,
                f"the scheduler process running it ({run.host}) ended before it "
                "finished; recorded when a scheduler next started; what it had not committed was rolled back",
            )
        for lease in held:
            if not _alive(lease.owner):
                connection.execute(
                    update(LEASE)
                    .where((LEASE.c.job_id == lease.job_id) & (LEASE.c.owner == lease.owner))
                    .values(owner=None, until=None)
                )
    return [r.job_id for r in gone]


def _mark_interrupted(connection, run_id: int, reason: str) -> None:
    connection.execute(
        update(RUNS)
        .where((RUNS.c.id == run_id) & (RUNS.c.outcome == "running"))
        .values(finished_at=utc_now(), outcome="interrupted", error=reason)
    )


def _alive(owner: str) -> bool:
    """Whether the process `host:pid` of this host still runs."""
    pid = owner.rpartition(":")[2]
    if not pid.isdigit():
        return True  # not written by pbr: leave it
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _acquire(store: Store, job_id: str) -> bool:
    now = utc_now()
    with store.engine.begin() as connection:
        try:
            connection.execute(insert(LEASE).values(job_id=job_id, owner=None, until=None))
        except IntegrityError:
            pass
    with store.engine.begin() as connection:
        taken = connection.execute(
            update(LEASE)
            .where((LEASE.c.job_id == job_id) & (LEASE.c.owner.is_(None) | (LEASE.c.until < now)))
            .values(owner=OWNER, until=now + dt.timedelta(seconds=LEASE_SECONDS))
        )
        return taken.rowcount == 1


def _release(store: Store, job_id: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            update(LEASE).where((LEASE.c.job_id == job_id) & (LEASE.c.owner == OWNER)).values(owner=None, until=None)
        )


def run_job(
    job_id: str, config_path: str | None, database_url: str, attempt: int = 1, configured: Settings | None = None
) -> str:
    """Run a job once and record it; returns its outcome (ok, failed, skipped). The job's context is built from
    `configured`, or from the settings of the process's scheduler, each time it runs."""
    global _active_jobs
    with _active:
        _active_jobs += 1
    run_id = None
    try:
        store = Store(database_url)
        config = load_config(config_path)
        with store.engine.begin() as connection:
            run_id = connection.execute(
                insert(RUNS).values(job_id=job_id, attempt=attempt, started_at=utc_now(), outcome="running", host=OWNER)
            ).inserted_primary_key[0]
        with _active:
            _active_runs[run_id] = (job_id, store)
        context = (configured or settings).overridden(database_url=database_url)
        return _run_recorded(job_id, config_path, context, store, config, run_id, attempt)
    finally:
        with _active:
            _active_jobs -= 1
            _active_runs.pop(run_id, None)
            _active.notify_all()


def _run_recorded(
    job_id: str,
    config_path: str | None,
    configured: Settings,
    store: Store,
    config: JobsConfig,
    run_id: int,
    attempt: int,
) -> str:
    if not _acquire(store, job_id):
        _finish(store, run_id, "skipped", None, "another scheduler is running this job")
        return "skipped"
    try:
        # the plan, money parameters and code lists are read each time a job runs: a change needs no restart
        counts = TASKS[job_id](config, AppContext.from_settings(configured, store=store))
        _finish(store, run_id, "ok", counts, None)
        return "ok"
    except Exception as error:  # a failing job is recorded and retried; it never stops the scheduler
        _finish(store, run_id, "failed", None, f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}")
        if scheduler is not None and attempt < config.max_attempts:
            _schedule_retry(job_id, config_path, store.url, attempt + 1, config.retry_delay_seconds)
        return "failed"
    finally:
        _release(store, job_id)


def _schedule_retry(job_id: str, config_path: str | None, database_url: str, attempt: int, delay: float) -> None:
    with _retry_lock:
        if _stopping:
            print(
                f"{job_id}: no retry scheduled, the scheduler is stopping (the next scheduled run stands)", flush=True
            )
            return
        scheduler.add_job(
            "pbr.jobs.runner:run_job",
            "date",
            args=[job_id, config_path, database_url, attempt],
            run_date=utc_now() + dt.timedelta(seconds=delay),
            id=f"{job_id}:retry",
            replace_existing=True,
        )


def _finish(store: Store, run_id: int, outcome: str, counts: dict | None, error: str | None) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            update(RUNS)
            .where(RUNS.c.id == run_id)
            .values(
                finished_at=utc_now(),
                outcome=outcome,
                counts=json.dumps(counts, default=str) if counts else None,
                error=error,
            )
        )
