"""Notebook-layer fixtures: an in-process IPython shell that re-raises, and a guard for widget callbacks."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

# Import the Jupyter stack early and shallow (rfc3987_syntax builds grammars at import; slow deep in pytest).
with contextlib.suppress(ImportError):
    import rfc3987_syntax  # noqa: F401
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
def loaded(ip: TestingShell, server_env) -> Iterator[TestingShell]:
    """The shell with ``%load_ext langfuse_nb`` done against the session test server."""
    ip.run_line_magic("load_ext", "langfuse_nb")
    yield ip
    from langfuse_nb import get_client

    get_client().flush(timeout=2)  # nothing left to export after the server is gone


@pytest.fixture(autouse=True)
def fail_on_swallowed_widget_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """ipywidgets logs (instead of raising) exceptions of on_click handlers: turn those into failures."""
    yield
    bad = [
        r
        for r in caplog.get_records("call")
        if r.name == "traitlets" and r.levelno >= logging.WARNING and "Exception in" in r.getMessage()
    ]
    assert not bad, "widget callback raised: " + "; ".join(r.getMessage() for r in bad)


GOLDEN = Path(__file__).with_name("golden")


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """``golden(name, html)``: compare with golden/<name>.html (LANGFUSE_NB_UPDATE_GOLDEN=1 rewrites)."""
    from langfuse_nb.notebook.render.html import stylesheet

    def check(name: str, html: str) -> None:
        body = html.replace(stylesheet(), "<style/>")  # a CSS tweak must not churn every golden file
        path = GOLDEN / f"{name}.html"
        if os.environ.get("LANGFUSE_NB_UPDATE_GOLDEN"):
            path.parent.mkdir(exist_ok=True)
            path.write_text(body + "\n", encoding="utf-8")
        assert body + "\n" == path.read_text(encoding="utf-8")

    return check
