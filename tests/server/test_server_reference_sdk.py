"""The PyPI langfuse==3.11.2 SDK as an independent client of a real langfuse_nb server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.reference


def test_reference_sdk_scenario(fresh_server):
    pytest.importorskip("langfuse")
    script = Path(__file__).with_name("reference_scenario.py")
    result = subprocess.run(
        [sys.executable, str(script), fresh_server.url], capture_output=True, text=True, timeout=90
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-4000:]}"
    assert "REFERENCE SCENARIO OK" in result.stdout
