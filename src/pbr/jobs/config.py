"""Scheduler configuration (schemas/scheduler.example.yaml), checked with clear messages."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    every_seconds: float | None = None
    cron: str | None = None

    def trigger(self):
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger
        if self.cron:
            return CronTrigger.from_crontab(self.cron, timezone="UTC")
        return IntervalTrigger(seconds=self.every_seconds, timezone="UTC")

    def describe(self) -> str:
        return f"cron {self.cron}" if self.cron else f"every {self.every_seconds:g} s"


@dataclass(frozen=True)
class Window:
    window: str
    evidence_date: dt.date
    opens: dt.date | None
    closes: dt.date


@dataclass(frozen=True)
class JobsConfig:
    base: Path
    schedules: dict[str, Schedule]
    inbox: Path = Path("inbox")
    stable_seconds: float = 10
    windows: tuple[Window, ...] = ()
    days_before_close: int = 14
    reports: Path = Path("reports")
    max_attempts: int = 3
    retry_delay_seconds: float = 300
    raw: dict = field(default_factory=dict, compare=False)


JOB_SECTIONS = {"inbox": "inbox", "nightly_evaluation": "nightly-evaluation",
                "claim_preparation": "claim-preparation", "progress_return": "progress-return"}
DEFAULTS = {"inbox": {"every_seconds": 60}, "nightly_evaluation": {"cron": "0 2 * * *"}}


def _schedule(section: str, body: dict) -> Schedule:
    every, cron = body.get("every_seconds"), body.get("cron")
    if (every is None) == (cron is None):
        raise ConfigError(f"{section}: give exactly one of every_seconds or cron")
    if every is not None and (isinstance(every, bool) or not isinstance(every, (int, float)) or every <= 0):
        raise ConfigError(f"{section}.every_seconds: must be a number of seconds > 0")
    if cron is not None:
        from apscheduler.triggers.cron import CronTrigger
        try:
            CronTrigger.from_crontab(str(cron))
        except ValueError as error:
            raise ConfigError(f"{section}.cron: {error}") from None
    return Schedule(every_seconds=every, cron=cron)


def _day(value, path: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{path}: {value!r} is not a date YYYY-MM-DD") from None


def load_config(path: str | Path | None) -> JobsConfig:
    if path is None:
        data, base = dict(DEFAULTS), Path.cwd()
    else:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"{path}: {error}") from None
        base = path.parent.resolve()
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a YAML mapping")
    unknown = set(data) - set(JOB_SECTIONS) - {"retry"}
    if unknown:
        raise ConfigError(f"unknown section {', '.join(sorted(unknown))} (known: {', '.join([*JOB_SECTIONS, 'retry'])})")
    schedules = {JOB_SECTIONS[s]: _schedule(s, data[s] or {}) for s in JOB_SECTIONS if s in data}
    inbox = data.get("inbox") or {}
    claim = data.get("claim_preparation") or {}
    windows = tuple(Window(str(w["window"]), _day(w["evidence_date"], f"claim_preparation.windows[{i}].evidence_date"),
                           _day(w["opens"], f"claim_preparation.windows[{i}].opens") if w.get("opens") else None,
                           _day(w["closes"], f"claim_preparation.windows[{i}].closes"))
                    for i, w in enumerate(claim.get("windows") or []))
    retry = data.get("retry") or {}
    return JobsConfig(
        base=base, schedules=schedules,
        inbox=base / inbox.get("folder", "inbox"), stable_seconds=float(inbox.get("stable_seconds", 10)),
        windows=windows, days_before_close=int(claim.get("days_before_close", 14)),
        reports=base / (data.get("progress_return") or {}).get("folder", "reports"),
        max_attempts=int(retry.get("max_attempts", 3)), retry_delay_seconds=float(retry.get("delay_seconds", 300)),
        raw=data)
