"""Notebook-layer fixtures: an in-process IPython shell that re-raises, and a guard for widget callbacks."""

from __future__ import annotations

import logging
from collections.abc import Iterator

# Import the Jupyter stack early and shallow (rfc3987_syntax builds grammars at import; slow deep in pytest).
try:
    import rfc3987_syntax  # noqa: F401
except ImportError:
    pass
import nbclient  # noqa: F401,E402
import pytest  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402


class TestingShell(InteractiveShell):
    """A real IPython shell whose run_cell raises the cell's error (so tests see failures)."""

    def run_cell(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = super().run_cell(*args, **kwargs)
        result.raise_error()
        return result


@pytest.fixture
def ip() -> Iterator[TestingShell]:
    shell = TestingShell.instance()
    yield shell
    from langfuse_nb.notebook import extension

    extension.unload_ipython_extension(shell)
    TestingShell.clear_instance()
    InteractiveShell.clear_instance()


@pytest.fixture
def loaded(ip: TestingShell, server_env) -> TestingShell:  # noqa: ANN001
    """The shell with ``%load_ext langfuse_nb`` done against the session test server."""
    ip.run_line_magic("load_ext", "langfuse_nb")
    return ip


@pytest.fixture(autouse=True)
def fail_on_swallowed_widget_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """ipywidgets logs (instead of raising) exceptions of on_click handlers: turn those into failures."""
    yield
    bad = [r for r in caplog.get_records("call")
           if r.name == "traitlets" and r.levelno >= logging.WARNING and "Exception in" in r.getMessage()]
    assert not bad, "widget callback raised: " + "; ".join(r.getMessage() for r in bad)
