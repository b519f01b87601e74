"""README.md is the front door: short, with the two commands CI runs verbatim."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from readme_command import readme_command  # noqa: E402


def test_readme_stays_short() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move details into docs/"


def test_main_command_installs_no_extra_so_ci_catches_a_missing_runtime_dependency() -> None:
    command = readme_command("main")
    assert "pip install" in command and "python -m langfuse_nb.notebook.demo" in command
    assert "[" not in command, "the main job must work with the plain install (extras would hide a gap)"


def test_test_command_runs_pytest_after_installing_the_test_extra() -> None:
    command = readme_command("test")
    assert ".[test]" in command and command.endswith("python -m pytest -q")


def test_a_missing_marker_is_an_error() -> None:
    with pytest.raises(LookupError, match="main-command"):
        readme_command("main", "# README\n\n```bash\npip install .\n```\n")
    marked = "<!-- ci: test-command -->\n\n```bash\npython -m pytest\n```\n"
    assert readme_command("test", marked) == "python -m pytest"
