"""The scheduler's configuration: every mistake is refused naming its place in the YAML, before anything runs."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import ROOT
from pbr.jobs.config import ConfigError, load_config

CLAIMS = 'claim_preparation: {cron: "0 3 * * *", windows: [%s]}'


@pytest.mark.parametrize(
    "text,words",
    [
        ("inbox: {folder: in, every_seconds: -5}", "inbox.every_seconds: must be a number of seconds > 0"),
        ('inbox: {folder: in, cron: "99 * * * *"}', "inbox.cron: Error validating expression '99'"),
        ("inbox: {every_seconds: 5, stable_seconds: abc}", "inbox.stable_seconds: 'abc' must be a number >= 0"),
        ("nightly: {cron: '0 2 * * *'}", "unknown section nightly"),
        ("[1, 2]", "the configuration must be a YAML mapping"),
        ("retry: {max_attempts: 0}", "retry.max_attempts: 0 must be a whole number >= 1"),
        ("shutdown: {grace_seconds: -1}", "shutdown.grace_seconds: -1 must be a number >= 0"),
        ('retention: {cron: "0 5 * * 0"}', "retention.years_after_closure: missing"),
        (
            'nightly_evaluation: {cron: "0 2 * * *", keep_days: 0}',
            "nightly_evaluation.keep_days: 0 must be a whole number >= 1",
        ),
        (
            'retention: {cron: "0 5 * * 0", years_after_closure: 0}',
            "retention.years_after_closure: 0 must be a whole number >= 1",
        ),
        (
            "inbox: {every_seconds: 5, complete_extracts: yes please}",
            "inbox.complete_extracts: 'yes please' must be true or false",
        ),
        (
            'claim_preparation: {cron: "0 3 * * *", days_before_close: 2.5}',
            "days_before_close: 2.5 must be a whole number",
        ),
        ('claim_preparation: {cron: "0 3 * * *", windows: x}', "claim_preparation.windows: must be a list of windows"),
        (CLAIMS % "x", "claim_preparation.windows[0]: must be a mapping"),
        (CLAIMS % "{window: 2017-Q3, evidence_date: 2017-09-30}", "claim_preparation.windows[0]: missing closes"),
        (
            CLAIMS % "{window: 2017/Q3, evidence_date: 2017-09-30, closes: 2017-10-31}",
            "claim_preparation.windows[0].window: '2017/Q3' must be up to 40 letters",
        ),
        (
            CLAIMS % "{window: Q3, evidence_date: 2017-09-31, closes: 2017-10-31}",
            "cfg.yaml: a date that does not exist (day is out of range for month)",
        ),
        (
            CLAIMS % "{window: Q3, evidence_date: 2017-09-30, opens: 2017-11-01, closes: 2017-10-01}",
            "claim_preparation.windows[0]: opens on 2017-11-01, after it closes on 2017-10-01",
        ),
    ],
)
def test_a_mistake_in_the_configuration_is_refused_naming_its_place(tmp_path, text, words):
    (tmp_path / "cfg.yaml").write_text(text + "\n")
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path / "cfg.yaml")
    assert words in str(refused.value)


def test_the_shipped_example_configuration_loads():
    config = load_config(ROOT / "schemas" / "scheduler.example.yaml")
    window = config.windows[0]
    assert (window.window, window.evidence_date, window.opens, window.closes) == (
        "2017-Q3",
        dt.date(2017, 9, 30),
        dt.date(2017, 10, 1),
        dt.date(2017, 10, 31),
    )
    assert (config.days_before_close, config.max_attempts, config.retry_delay_seconds) == (14, 3, 300)
    assert config.stop_grace_seconds == 2
    assert config.retention_years == 6 and config.schedules["retention"].cron == "0 5 * * 0"
    assert config.snapshot_keep_days == 92
    assert config.complete_extracts is False
