"""The scheduler in a subprocess, with second-level intervals, against a temporary inbox."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select, text

from conftest import EXAMPLES, PBR, SEAMS
from pbr.jobs.runner import recover_abandoned
from pbr.jobs.tasks import ready_files
from pbr.store import Store
from pbr.store.models import JobLease, JobRun

BASIC = EXAMPLES / "basic"


def start(folder: Path, db: str, config: str, env: dict | None = None, hold: float = 0) -> subprocess.Popen:
    """`pbr scheduler run` in a subprocess; with `hold`, each job holds its lease that many seconds first."""
    (folder / "cfg.yaml").write_text(config)
    log = open(folder / f"scheduler-{time.time_ns()}.log", "w")
    command = [sys.executable, str(SEAMS / "held_scheduler.py"), str(hold)] if hold else PBR
    return subprocess.Popen(
        [*command, "--db", db, "scheduler", "run", "--config", str(folder / "cfg.yaml")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        cwd=folder,
    )


# The scheduler stops within 5 s; the tests allow for a machine five times slower, and check what the stop did.
STOP_LIMIT = 25


def stop(process: subprocess.Popen) -> float:
    """SIGTERM, then the seconds until the process has ended."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=2 * STOP_LIMIT)
    return time.monotonic() - started


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def stop_while_running(folder: Path, db: str, config: str, pause_seconds: float) -> SimpleNamespace:
    """Start the scheduler with each job held `pause_seconds`, send SIGTERM while progress-return runs."""
    Store(db)
    process = start(folder, db, config, hold=pause_seconds)
    try:
        wait_for(lambda: any(r["outcome"] == "running" for r in runs(db, "progress-return")))
        stopped_in = stop(process)
    finally:
        if process.poll() is None:
            process.kill()
    return SimpleNamespace(stopped_in=stopped_in, returncode=process.returncode)


def runs(db: str, job: str | None = None) -> list[dict]:
    """Job runs, oldest first, with naive UTC datetimes."""
    table = JobRun.__table__
    query = select(table).order_by(table.c.id)
    if job:
        query = query.where(table.c.job_id == job)
    with Store(db).engine.connect() as connection:
        rows = [dict(r) for r in connection.execute(query).mappings()]
    for row in rows:
        for key in ("started_at", "finished_at"):
            if row[key] is not None:
                row[key] = row[key].replace(tzinfo=None)
    return rows


def log_of(folder: Path) -> str:
    return "".join(p.read_text() for p in sorted(folder.glob("scheduler-*.log")))


INBOX = "inbox: {folder: inbox, every_seconds: 1, stable_seconds: 0.5}\n"


def test_dropped_files_are_ingested_and_archived_and_broken_ones_rejected_with_a_reason(tmp_path, db_url):
    inbox = tmp_path / "inbox"
    process = start(tmp_path, db_url, INBOX)
    try:
        wait_for(lambda: inbox.is_dir() and "scheduler started" in log_of(tmp_path))
        (inbox / "families.csv.part").write_bytes((BASIC / "families.csv").read_bytes())
        (inbox / "events.csv").write_text("person_id,event_date\nF01-C1,2017-01-01\n")
        wait_for(lambda: list((inbox / "rejected").glob("*.reason.txt")) if (inbox / "rejected").is_dir() else False)
        assert (inbox / "families.csv.part").exists()  # still being written: left alone
        (inbox / "families.csv.part").rename(inbox / "families.csv")
        shutil.copy(BASIC / "members.csv", inbox / "members.csv")
        wait_for(lambda: len(list((inbox / "archive").glob("*.csv"))) == 2 if (inbox / "archive").is_dir() else False)
        shutil.copy(BASIC / "families.csv", inbox / "families.csv")  # the same file dropped again
        wait_for(
            lambda: (
                list((inbox / "archive" / "duplicates").glob("*families.csv"))
                if (inbox / "archive" / "duplicates").is_dir()
                else False
            )
        )
        elapsed = stop(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert elapsed < STOP_LIMIT and process.returncode == 0
    reason = next((inbox / "rejected").glob("*.reason.txt")).read_text()
    assert "events.csv" in reason and "missing required column event_type" in reason
    store = Store(db_url)
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM families")).scalar_one() == 20
        assert (
            connection.execute(text("SELECT COUNT(*) FROM ingest_runs WHERE source = 'families.csv'")).scalar_one() == 1
        )
    history = runs(db_url, "inbox")
    assert history and all(r["outcome"] == "ok" and r["finished_at"] for r in history)
    assert "scheduler stopped" in log_of(tmp_path)


def test_sigterm_stops_within_five_seconds_and_a_restart_resumes_from_the_job_store(tmp_path, db_url):
    config = "nightly_evaluation: {every_seconds: 2}\n" + INBOX
    process = start(tmp_path, db_url, config)
    try:
        wait_for(lambda: len(runs(db_url, "nightly-evaluation")) >= 2)
        assert stop(process) < STOP_LIMIT and process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
    before = runs(db_url)
    # a run the stop cut short (a slow machine) says so; none is left "running"
    assert all(r["outcome"] in ("ok", "skipped", "interrupted") and r["finished_at"] for r in before)
    with Store(db_url).engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT id, next_run_time FROM apscheduler_jobs")).all())
    assert set(stored) == {"inbox", "nightly-evaluation"}
    time.sleep(5)  # two or three evaluation runs are missed while it is down
    restarted_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    process = start(tmp_path, db_url, config)
    try:
        wait_for(lambda: len([r for r in runs(db_url, "nightly-evaluation") if r["started_at"] >= restarted_at]) >= 3)
        stop(process)
    finally:
        if process.poll() is None:
            process.kill()
    logs = log_of(tmp_path).split("scheduler started")
    assert "updated" in logs[1].splitlines()[0] and "updated" not in logs[2].splitlines()[0]  # resumed, not re-added
    after = [r for r in runs(db_url, "nightly-evaluation") if r["started_at"] >= restarted_at]
    # The missed runs are coalesced into the first run after the restart; every later run keeps to the
    # job's two-second grid. Replayed missed runs would instead start back to back, off the grid.
    grid_start = stored["nightly-evaluation"]
    later = [r["started_at"].replace(tzinfo=dt.UTC).timestamp() for r in after[1:]]
    assert later and all((started - grid_start) % 2 < 0.5 for started in later), (grid_start, later)


def test_a_failing_job_is_retried_and_never_stops_the_scheduler(tmp_path, db_url):
    (tmp_path / "reports").write_text("a file where the reports folder should be")
    config = (
        "progress_return: {every_seconds: 3, folder: reports}\nretry: {max_attempts: 2, delay_seconds: 1}\n" + INBOX
    )
    Store(db_url)
    process = start(tmp_path, db_url, config)
    try:
        wait_for(lambda: "scheduler started" in log_of(tmp_path))
        subprocess.run(
            [*PBR, "--db", db_url, "jobs", "run", "progress-return", "--config", str(tmp_path / "cfg.yaml")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        wait_for(
            lambda: any(r["attempt"] == 2 and r["outcome"] != "running" for r in runs(db_url, "progress-return")),
            seconds=60,
        )
        inbox_runs = len(runs(db_url, "inbox"))
        wait_for(lambda: len(runs(db_url, "inbox")) > inbox_runs + 1)
        assert process.poll() is None
        stop(process)
    finally:
        if process.poll() is None:
            process.kill()
    failed = [r for r in runs(db_url, "progress-return") if r["outcome"] == "failed"]
    assert failed and all(r["error"] for r in failed)
    assert max(r["attempt"] for r in failed) == 2


def test_sigterm_while_a_job_is_failing_stops_without_waiting_for_its_retry(tmp_path, db_url):
    # The job fails after the signal, when shutdown is already waiting for it: adding its retry then must not
    # wait for the scheduler's lock that shutdown holds.
    (tmp_path / "reports").write_text("a file where the reports folder should be")
    config = (
        "progress_return: {every_seconds: 1, folder: reports}\nretry: {max_attempts: 3, delay_seconds: 1}\n"
        "shutdown: {grace_seconds: 10}\n"
    )  # the job fails inside the grace, not cut by it
    stopped = stop_while_running(tmp_path, db_url, config, pause_seconds=2)
    assert stopped.stopped_in < 10 + STOP_LIMIT and stopped.returncode == 0  # the grace, then the stop
    last = runs(db_url, "progress-return")[-1]
    assert last["outcome"] == "failed" and last["finished_at"]
    assert "progress-return: no retry scheduled, the scheduler is stopping" in log_of(tmp_path)
    assert "Traceback" not in log_of(tmp_path)  # no job was handed to executors already shut down


def test_sigterm_cuts_a_job_that_outlasts_the_grace_and_records_it_as_interrupted(tmp_path, db_url):
    config = "progress_return: {every_seconds: 1, folder: reports}\n"
    stopped = stop_while_running(tmp_path, db_url, config, pause_seconds=60)
    assert stopped.stopped_in < STOP_LIMIT and stopped.returncode == 0
    held = runs(db_url, "progress-return")
    assert len(held) == 1 and held[0]["outcome"] == "interrupted" and held[0]["finished_at"]
    assert "stopped by SIGTERM before it finished" in held[0]["error"]
    with Store(db_url).engine.connect() as connection:
        owners = (
            connection.execute(text("SELECT owner FROM job_leases WHERE job_id = 'progress-return'")).scalars().all()
        )
    assert owners == [None]  # another scheduler may run it at once
    log = log_of(tmp_path)
    assert "interrupted after 2 s: progress-return" in log and "scheduler stopped" in log
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


@contextmanager
def writes_held(db: str):
    """Another writer holding the run log, as a long load on SQLite holds the whole database."""
    if db.startswith("sqlite"):
        connection = sqlite3.connect(db.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.rollback()
            connection.close()
        return
    with Store(db).engine.connect() as connection:
        connection.execute(text("LOCK TABLE job_runs, job_leases IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()


def test_a_stop_while_the_database_is_busy_exits_in_time_and_the_next_start_records_the_cut_run(tmp_path, db_url):
    config = "progress_return: {every_seconds: 1, folder: reports}\n"
    Store(db_url)
    process = start(tmp_path, db_url, config, hold=60)
    try:
        wait_for(lambda: any(r["outcome"] == "running" for r in runs(db_url, "progress-return")))
        with writes_held(db_url):
            stopped_in = stop(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert stopped_in < STOP_LIMIT and process.returncode == 0
    assert "the database was too busy to record that now" in log_of(tmp_path)
    [cut] = runs(db_url, "progress-return")
    assert cut["outcome"] == "running"  # the process is gone: nothing could say otherwise yet

    process = start(tmp_path, db_url, config)
    try:
        wait_for(lambda: "scheduler started" in log_of(tmp_path).split("scheduler stopped")[-1])
        stop(process)
    finally:
        if process.poll() is None:
            process.kill()
    recorded = runs(db_url, "progress-return")[0]
    assert recorded["id"] == cut["id"] and recorded["outcome"] == "interrupted" and recorded["finished_at"]
    assert f"({cut['host']}) ended before it finished" in recorded["error"]
    assert "recorded as interrupted, left running by a scheduler that has gone: progress-return" in log_of(tmp_path)
    # the lease the dead process held was freed at the start, so the job ran again at once
    assert any(r["outcome"] == "ok" for r in runs(db_url, "progress-return")[1:])


def test_only_runs_of_gone_processes_of_this_host_are_recovered(db_url):
    store = Store(db_url)
    child = subprocess.Popen(["true"])
    child.wait()  # reaped: its pid runs nothing now
    gone = f"{socket.gethostname()}:{child.pid}"
    here = f"{socket.gethostname()}:{os.getpid()}"
    elsewhere = "another-host:1"
    now = dt.datetime.now(dt.UTC)
    with store.engine.begin() as connection:
        for job, host in (("inbox", gone), ("nightly-evaluation", here), ("progress-return", elsewhere)):
            connection.execute(
                JobRun.__table__.insert().values(job_id=job, attempt=1, started_at=now, outcome="running", host=host)
            )
            connection.execute(JobLease.__table__.insert().values(job_id=job, owner=host, until=now))
    assert recover_abandoned(store) == ["inbox"]
    outcomes = {r["job_id"]: r["outcome"] for r in runs(db_url)}
    assert outcomes == {"inbox": "interrupted", "nightly-evaluation": "running", "progress-return": "running"}
    with store.engine.connect() as connection:
        owners = dict(connection.execute(text("SELECT job_id, owner FROM job_leases")).all())
    assert owners == {"inbox": None, "nightly-evaluation": here, "progress-return": elsewhere}


def test_two_schedulers_on_one_database_never_run_a_job_twice_at_once(tmp_path, db_url):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    config = "inbox: {folder: ../inbox, every_seconds: 1, stable_seconds: 0.5}\n"
    Store(db_url)
    first, second = start(tmp_path / "a", db_url, config, hold=1.5), start(tmp_path / "b", db_url, config, hold=1.5)
    try:
        wait_for(lambda: len([r for r in runs(db_url, "inbox") if r["outcome"] == "ok"]) >= 4, seconds=60)
        stop(first)
        stop(second)
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
    done = [r for r in runs(db_url, "inbox") if r["outcome"] == "ok"]
    spans = sorted((r["started_at"], r["finished_at"].replace(tzinfo=None)) for r in done)
    for (_, end), (start_next, _) in itertools.pairwise(spans):
        assert start_next >= end - dt.timedelta(seconds=0.5), "two runs of one job overlapped"
    assert {r["host"] for r in done} | {r["host"] for r in runs(db_url, "inbox") if r["outcome"] == "skipped"}


def test_half_written_and_unfinished_files_are_not_ready(tmp_path):
    (tmp_path / "families.csv.part").write_text("family_id\n")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "~$council.xlsx").write_bytes(b"\x05owner")  # Excel's lock file: the workbook is still open
    fresh = tmp_path / "members.csv"
    fresh.write_text("person_id,family_id\n")
    assert ready_files(tmp_path, stable_seconds=60) == []
    old = time.time() - 120
    for path in tmp_path.iterdir():
        os.utime(path, (old, old))
    assert ready_files(tmp_path, stable_seconds=60) == [fresh]
