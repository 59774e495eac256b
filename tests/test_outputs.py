"""Outputs appear whole or not at all."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import stat

import pytest

import pbr
from conftest import EXAMPLES
from pbr.outputs import written_whole


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path):
    target = tmp_path / "decisions.csv"
    target.write_text("old\n")
    with pytest.raises(OSError):
        with written_whole(target) as partial:
            partial.write_text("half")
            raise OSError(28, "No space left on device")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["decisions.csv"]
    with written_whole(target) as partial:
        partial.write_text("new\n")
    assert target.read_text() == "new\n" and [p.name for p in tmp_path.iterdir()] == ["decisions.csv"]


def test_a_private_file_is_owner_only_and_a_link_is_kept(tmp_path):
    with written_whole(tmp_path / "names.xlsx", private=True) as partial:
        assert stat.S_IMODE(partial.stat().st_mode) == 0o600  # before any byte is written
        partial.write_bytes(b"x")
    assert stat.S_IMODE((tmp_path / "names.xlsx").stat().st_mode) == 0o600
    (tmp_path / "real.csv").write_text("old")
    os.symlink(tmp_path / "real.csv", tmp_path / "link.csv")
    with written_whole(tmp_path / "link.csv") as partial:
        partial.write_text("new")
    assert (tmp_path / "link.csv").is_symlink() and (tmp_path / "real.csv").read_text() == "new"


def test_evaluate_replaces_its_files_together_or_not_at_all(tmp_path, monkeypatch):
    module = importlib.import_module("pbr.evaluate")  # the package's `evaluate` is the function of that name
    evaluation = pbr.evaluate(data=EXAMPLES / "basic", as_of=dt.date(2017, 10, 31))
    out, detail, xlsx = tmp_path / "d.csv", tmp_path / "detail.csv", tmp_path / "d.xlsx"
    for path in (out, detail, tmp_path / "d.csv.json"):
        path.write_text("from an earlier run\n")

    def disk_full(evaluation, path, council=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module, "write_evaluation_workbook", disk_full)
    with pytest.raises(OSError):
        module.write_decisions(evaluation, out, detail=detail, xlsx=xlsx)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "d.csv.json", "detail.csv"]
    assert all(p.read_text() == "from an earlier run\n" for p in tmp_path.iterdir())
    monkeypatch.undo()
    module.write_decisions(evaluation, out, detail=detail, xlsx=xlsx)
    assert out.read_text().startswith("family_id,") and detail.read_text().startswith("family_id,theme,")
    assert '"as_of": "2017-10-31"' in (tmp_path / "d.csv.json").read_text() and xlsx.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "d.csv.json", "d.xlsx", "detail.csv"]
