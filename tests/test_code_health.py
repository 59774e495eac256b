"""The habits that keep the code as clear as the engine: lint and format, layers one way, short functions, the
environment read at the edge only, and no sleeps in the package for tests."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SOURCE = ROOT / "src" / "pbr"
MAX_FUNCTION_LINES = 80


def tool(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    return str(found) if found.exists() else (shutil.which(name) or name)


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def python_files() -> list[Path]:
    return [p for p in sorted(SOURCE.rglob("*.py")) if "migrations" not in p.parts]


def test_ruff_finds_nothing_to_mend_and_nothing_to_reformat():
    checked = run(tool("ruff"), "check", "src", "tests", "benchmarks", "docs")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = run(tool("ruff"), "format", "--check", "src", "tests", "benchmarks", "docs")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_the_layers_contract_holds():
    result = run(tool("lint-imports"))
    assert result.returncode == 0 and "0 broken" in result.stdout, result.stdout + result.stderr


def test_no_function_of_the_package_is_longer_than_a_screen():
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in python_files()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, long


def test_the_environment_is_read_in_the_settings_module_only():
    written = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in python_files()
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"os\.environ\[[^\]]+\]\s*=|os\.environ\.(update|setdefault)\(|os\.putenv", line)
    ]
    assert not written, written
    readers = sorted(
        str(p.relative_to(SOURCE)) for p in python_files() if re.search(r"os\.environ|os\.getenv", p.read_text())
    )
    assert readers == ["settings.py"], readers


def test_no_sleep_in_the_package_waits_for_a_test():
    sleeps = [
        f"{p.relative_to(SOURCE)}:{n}: {line.strip()}"
        for p in python_files()
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if "sleep(" in line
    ]
    # the inbox looks twice at a file to see it is no longer being written: a real wait, for real files
    assert [s.split(":")[0] for s in sleeps] == ["jobs/tasks.py"], sleeps


@pytest.mark.parametrize("module", ["pbr.store", "pbr.feeds", "pbr.engine", "pbr.plan", "pbr.evaluate"])
def test_importing_a_lower_layer_loads_no_edge(module):
    loaded = run(
        sys.executable, "-c", f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('pbr')))"
    )
    modules = ast.literal_eval(loaded.stdout)
    assert not [m for m in modules if m.split(".")[1:2] and m.split(".")[1] in ("cli", "web", "jobs", "demo")], modules
