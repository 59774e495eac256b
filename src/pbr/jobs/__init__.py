"""Scheduled jobs: APScheduler 3 with its job store in pbr's own database, so jobs survive restarts."""

from __future__ import annotations

import os
import signal
import sys
import threading

import polars as pl
from sqlalchemy import select

from pbr.jobs.config import ConfigError, JobsConfig, load_config
from pbr.settings import Settings
from pbr.store import Store
from pbr.store.models import JobRun

JOB_FUNCTION = "pbr.jobs.runner:run_job"
RECORD_SECONDS = 1.5  # after the grace, the most the stop waits to record what it cut


def build_scheduler(store: Store):
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.base import STATE_STOPPED
    from apscheduler.schedulers.blocking import BlockingScheduler

    class Scheduler(BlockingScheduler):
        def _process_jobs(self):
            # shutdown wakes the main loop, which looks for due jobs once more before it sees the stop; a job
            # due then would go to executors already shut down and log a traceback
            return None if self.state == STATE_STOPPED else super()._process_jobs()

    return Scheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=store.engine)},
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )


def sync_jobs(scheduler, config: JobsConfig, config_path: str | None, database_url: str) -> list[str]:
    """Put the configured jobs in the store; a job already there with the same schedule keeps its next run."""
    changed = []
    for job_id, schedule in config.schedules.items():
        trigger = schedule.trigger()
        existing = scheduler.get_job(job_id)
        if (
            existing is not None
            and str(existing.trigger) == str(trigger)
            and list(existing.args) == [job_id, config_path, database_url]
        ):
            continue
        scheduler.add_job(
            JOB_FUNCTION,
            trigger,
            args=[job_id, config_path, database_url],
            id=job_id,
            name=job_id,
            replace_existing=True,
        )
        changed.append(job_id)
    for job in scheduler.get_jobs():
        if job.id not in config.schedules and not job.id.endswith(":retry"):
            scheduler.remove_job(job.id)
    return changed


def run_scheduler(settings: Settings, store: Store, config_path: str | None, say=print) -> None:
    """Run in the foreground until SIGTERM or SIGINT, then stop cleanly; each job builds its context from
    `settings`."""
    import pbr.jobs.runner as runner

    config = load_config(config_path)
    config.inbox.mkdir(parents=True, exist_ok=True)
    abandoned = runner.recover_abandoned(store)
    if abandoned:
        say(f"recorded as interrupted, left running by a scheduler that has gone: {', '.join(abandoned)}")
    scheduler = build_scheduler(store)
    runner.attach(scheduler, settings)
    stopping = threading.Event()

    def halt():
        # no job starts and none schedules a retry; the running ones finish before shutdown takes its locks
        runner.stop_retries()
        scheduler.pause()
        if runner.wait_until_idle(config.stop_grace_seconds):
            scheduler.shutdown()
            return
        # a service manager kills a process that ignores SIGTERM: stop now, with the run log saying what was cut
        reason = f"stopped by {stopping_on[0]} before it finished; what it had not committed was rolled back"
        interrupted, recorded = runner.interrupt_running(reason, within=RECORD_SECONDS)
        say(
            f"interrupted after {config.stop_grace_seconds:g} s: {', '.join(interrupted) or 'a job still starting'} "
            "(its next scheduled run stands)"
        )
        if not recorded:
            say(
                "the database was too busy to record that now: the next scheduler to start on it records the run "
                "as interrupted and frees its lease"
            )
        say("scheduler stopped")
        sys.stdout.flush()
        os._exit(0)

    stopping_on: list[str] = []

    def stop(signum, _frame):
        if not stopping.is_set():
            stopping.set()
            stopping_on.append(signal.Signals(signum).name)
            say(f"stopping on {stopping_on[0]}")
            threading.Thread(target=halt, daemon=True).start()

    def after_start():
        # start() blocks until shutdown, and the store is only open once it runs: sync, then let jobs run
        changed = sync_jobs(scheduler, config, config_path, store.url)
        jobs = ", ".join(
            f"{job.id} next {job.next_run_time:%Y-%m-%d %H:%M:%S}" for job in scheduler.get_jobs() if job.next_run_time
        )
        say(f"scheduler started: {jobs}" + (f" (updated: {', '.join(changed)})" if changed else ""))
        scheduler.resume()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Timer(0.05, after_start).start()
    scheduler.start(paused=True)
    say("scheduler stopped")


def history(store: Store, limit: int = 20) -> pl.DataFrame:
    runs = JobRun.__table__
    with store.engine.connect() as connection:
        rows = connection.execute(select(runs).order_by(runs.c.id.desc()).limit(limit)).mappings().all()
    return (
        pl.DataFrame([dict(r) for r in rows], schema={c.name: pl.Object for c in runs.columns})
        if rows
        else pl.DataFrame()
    )


__all__ = ["ConfigError", "build_scheduler", "history", "load_config", "run_scheduler", "sync_jobs"]
