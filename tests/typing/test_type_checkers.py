"""mypy and pyright see the public API: a user program's mistakes are reported at their lines, and a correct
program gets no error.

The checkers are pointed at this checkout (MYPYPATH / pyright's ``extraPaths`` in pyrightconfig.json): an
editable install hooks the import system at runtime, which static checkers cannot follow.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO = HERE.parent.parent
CLEAN = HERE / "user_clean.py"
MISTAKES = HERE / "user_mistakes.py"
pytestmark = pytest.mark.timeout(600)


def expected_lines() -> set[int]:
    lines = MISTAKES.read_text().splitlines()
    return {number for number, line in enumerate(lines, 1) if "# expect-error" in line}


def run_mypy() -> dict[str, set[int]]:
    pytest.importorskip("mypy", reason="mypy is part of the test extra")
    env = {**os.environ, "MYPYPATH": str(REPO)}
    # silent: errors inside langfuse_nb are the package gate's business, not this test's
    cmd = [
        sys.executable,
        "-m",
        "mypy",
        "--no-incremental",
        "--follow-imports=silent",
        "--python-version",
        "3.10",
        "--show-error-codes",
        str(CLEAN),
        str(MISTAKES),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=500)
    found: dict[str, set[int]] = {CLEAN.name: set(), MISTAKES.name: set()}
    for match in re.finditer(r"^(?:.*[/\\])?(user_\w+\.py):(\d+): error:", out.stdout, re.M):
        found[match.group(1)].add(int(match.group(2)))
    assert out.returncode in (0, 1), out.stdout + out.stderr
    return found


def run_pyright() -> dict[str, set[int]]:
    exe = shutil.which("pyright")
    if exe is None:
        pytest.skip("pyright is not installed (pip install pyright)")
    cmd = [exe, "--outputjson", "-p", str(HERE / "pyrightconfig.json"), str(CLEAN), str(MISTAKES)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE, timeout=500)
    report = json.loads(out.stdout)
    found: dict[str, set[int]] = {CLEAN.name: set(), MISTAKES.name: set()}
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            found[Path(diagnostic["file"]).name].add(diagnostic["range"]["start"]["line"] + 1)
    return found


@pytest.mark.parametrize("checker", [run_mypy, run_pyright], ids=["mypy", "pyright"])
def test_every_mistake_is_reported_and_the_clean_program_passes(checker: object) -> None:
    found = checker()  # type: ignore[operator]
    assert found[CLEAN.name] == set(), f"errors in the clean program at lines {sorted(found[CLEAN.name])}"
    missed = expected_lines() - found[MISTAKES.name]
    unexpected = found[MISTAKES.name] - expected_lines()
    assert not missed, f"mistakes not reported at lines {sorted(missed)}"
    assert not unexpected, f"errors at unmarked lines {sorted(unexpected)}"


def test_py_typed_is_shipped() -> None:
    assert (REPO / "langfuse_nb" / "py.typed").exists()
    assert "py.typed" in (REPO / "pyproject.toml").read_text()
