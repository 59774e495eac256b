"""The project's copy of the spec and its public examples is the shared folder's, byte for byte, so a fresh clone
tests itself against the same data every developer and CI run has beside the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SHARED, SHARED_COPY

COPIED = ("examples", "spec")


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.skipif(not (SHARED / "examples").is_dir(), reason="no shared folder beside the project to compare with")
@pytest.mark.parametrize("part", COPIED)
def test_the_copy_is_identical_to_the_shared_folder(part):
    shared, copy = files_under(SHARED / part), files_under(SHARED_COPY / part)
    assert sorted(copy) == sorted(shared), f"files added or missing: copy ../shared/{part} into tests/shared again"
    changed = [name for name in shared if shared[name] != copy[name]]
    assert not changed, f"the copy differs from ../shared in {changed[:10]}: copy it again"


def test_the_copy_holds_every_public_example():
    examples = {p.name for p in (SHARED_COPY / "examples").iterdir() if p.is_dir()}
    assert {"basic", "cohort", "sf-basic", "matching"} <= examples
    assert (SHARED_COPY / "spec" / "outcome_plan.yaml").is_file()
