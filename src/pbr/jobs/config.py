"""Scheduler configuration (schemas/scheduler.example.yaml), checked with clear messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pbr.resources import parse_yaml


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
    complete_extracts: bool = False
    windows: tuple[Window, ...] = ()
    days_before_close: int = 14
    reports: Path = Path("reports")
    max_attempts: int = 3
    retry_delay_seconds: float = 300
    stop_grace_seconds: float = 2  # SIGTERM waits this long for running jobs, then cuts them: stopped within 5 s
    retention_years: int | None = None  # names and postcodes go this many years after a case closed
    snapshot_keep_days: int = 92  # daily snapshots older than this go, but the first of each month stays
    raw: dict = field(default_factory=dict, compare=False)


JOB_SECTIONS = {
    "inbox": "inbox",
    "nightly_evaluation": "nightly-evaluation",
    "claim_preparation": "claim-preparation",
    "progress_return": "progress-return",
    "retention": "retention",
    "match_retention": "match-retention",
}
SETTING_SECTIONS = ("retry", "shutdown")
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
            data = parse_yaml(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"{path}: {error}") from None
        base = path.parent.resolve()
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a YAML mapping")
    unknown = set(data) - set(JOB_SECTIONS) - set(SETTING_SECTIONS)
    if unknown:
        raise ConfigError(
            f"unknown section {', '.join(sorted(unknown))} (known: {', '.join([*JOB_SECTIONS, *SETTING_SECTIONS])})"
        )
    schedules = {JOB_SECTIONS[s]: _schedule(s, data[s] or {}) for s in JOB_SECTIONS if s in data}
    inbox = data.get("inbox") or {}
    claim = data.get("claim_preparation") or {}
    windows = claim.get("windows") or []
    if not isinstance(windows, list):
        raise ConfigError("claim_preparation.windows: must be a list of windows")
    retry = data.get("retry") or {}
    retention = data.get("retention")
    if retention is not None and "years_after_closure" not in (retention or {}):
        raise ConfigError("retention.years_after_closure: missing (how many years after a case closed its names go)")
    return JobsConfig(
        base=base,
        schedules=schedules,
        inbox=base / inbox.get("folder", "inbox"),
        stable_seconds=_number(inbox, "stable_seconds", 10, "inbox"),
        complete_extracts=_flag(inbox, "complete_extracts", "inbox"),
        windows=tuple(_window(w, f"claim_preparation.windows[{i}]") for i, w in enumerate(windows)),
        days_before_close=int(_number(claim, "days_before_close", 14, "claim_preparation", whole=True)),
        reports=base / (data.get("progress_return") or {}).get("folder", "reports"),
        max_attempts=int(_number(retry, "max_attempts", 3, "retry", whole=True, least=1)),
        retry_delay_seconds=_number(retry, "delay_seconds", 300, "retry"),
        stop_grace_seconds=_number(data.get("shutdown") or {}, "grace_seconds", 2, "shutdown"),
        snapshot_keep_days=int(
            _number(data.get("nightly_evaluation") or {}, "keep_days", 92, "nightly_evaluation", whole=True, least=1)
        ),
        retention_years=None
        if retention is None
        else int(_number(retention, "years_after_closure", 0, "retention", whole=True, least=1)),
        raw=data,
    )


def _flag(section: dict, key: str, path: str) -> bool:
    value = section.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{path}.{key}: {value!r} must be true or false")
    return value


def _number(section: dict, key: str, default: float, path: str, whole: bool = False, least: float = 0) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) or value < least:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{path}.{key}: {value!r} must be {kind} >= {least}")
    return float(value)


def _window(entry, path: str) -> Window:
    """One claim window, checked as `pbr claim prepare` checks it, so a scheduled preparation cannot fail on it."""
    from pbr.claims import WINDOW_ID

    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: must be a mapping with window, evidence_date, closes and optionally opens")
    missing = [k for k in ("window", "evidence_date", "closes") if entry.get(k) is None]
    if missing:
        raise ConfigError(f"{path}: missing {', '.join(missing)}")
    if not WINDOW_ID.fullmatch(str(entry["window"])):
        raise ConfigError(f"{path}.window: {str(entry['window'])!r} must be up to 40 letters, digits, '.', '-' or '_'")
    opens = _day(entry["opens"], f"{path}.opens") if entry.get("opens") else None
    closes = _day(entry["closes"], f"{path}.closes")
    if opens and opens > closes:
        raise ConfigError(f"{path}: opens on {opens}, after it closes on {closes}")
    return Window(str(entry["window"]), _day(entry["evidence_date"], f"{path}.evidence_date"), opens, closes)
