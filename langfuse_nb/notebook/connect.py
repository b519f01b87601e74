"""Where traces go: the configured endpoint, or the local server started/reused on demand (bounded)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

CLOUD_URL = "https://cloud.langfuse.com"
VIEW_HINT = "view them with %langfuse_traces or %langfuse_trace_view"


@dataclass
class Connection:
    """The outcome of connecting: ``message`` is the one line shown by ``%load_ext``."""

    mode: str  # "configured" | "local" | "unavailable"
    base_url: str | None
    message: str
    server: Any = None  # ServerHandle of the local server, when we started or reused it
    public_key: str | None = None  # the key traces are sent with (selects the client the magics use)

    @property
    def tracing(self) -> bool:
        return self.mode != "unavailable"


# What this module set itself: the local server's URL (on reload it still means "the local server", not
# "configured") and whether it turned tracing off.
_OWN_URL: dict[str, str] = {}


class _Deadline(Exception):
    pass


def run_bounded(fn: Callable[[], Any], timeout: float) -> Any:
    """Run ``fn`` on a daemon thread and give up after ``timeout`` seconds (the thread is abandoned)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, daemon=True, name="langfuse-nb-connect").start()
    if not done.wait(timeout):
        raise _Deadline(f"no answer within {timeout:.0f}s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _disable_tracing(environ: MutableMapping[str, str]) -> None:
    environ["LANGFUSE_TRACING_ENABLED"] = "false"
    _OWN_URL["disabled"] = "1"


def _undo_disable(environ: MutableMapping[str, str]) -> None:
    if _OWN_URL.pop("disabled", None):
        environ.pop("LANGFUSE_TRACING_ENABLED", None)


def _var(name: str, environ: MutableMapping[str, str]) -> str | None:
    """A LANGFUSE_* string variable as `langfuse_nb._settings` reads it; None when unset or blank."""
    from langfuse_nb._settings import read_environment

    value = read_environment({name: environ.get(name, "")}).get(name)
    return value if isinstance(value, str) else None


def _configured(environ: MutableMapping[str, str], timeout: float) -> Connection:
    from langfuse_nb.server.runner import is_healthy

    url = (_var("LANGFUSE_BASE_URL", environ) or _var("LANGFUSE_HOST", environ) or CLOUD_URL).rstrip("/")
    try:
        healthy = run_bounded(lambda: is_healthy(url, timeout=timeout), timeout + 0.5)
    except _Deadline:
        healthy = False
    if not healthy:
        _disable_tracing(environ)
        return Connection(
            "unavailable",
            url,
            f"langfuse_nb: cannot reach {url}; tracing is off in this "
            "kernel (check LANGFUSE_BASE_URL, then %reload_ext langfuse_nb)",
        )
    _undo_disable(environ)
    return Connection(
        "configured",
        url,
        f"langfuse_nb: traces go to {url} (from LANGFUSE_* env vars); {VIEW_HINT}",
        public_key=_var("LANGFUSE_PUBLIC_KEY", environ),
    )


def _local(environ: MutableMapping[str, str], timeout: float, server_args: dict[str, Any]) -> Connection:
    from langfuse_nb.server import runner

    try:
        # wait=False: the line is printed once the server process is launched; its readiness finishes in
        # the background, and spans sent meanwhile are retried by the exporter (docs/reliability.md)
        start = lambda: runner.ensure_server(timeout=timeout, wait=False, **server_args)  # noqa: E731
        handle = run_bounded(start, timeout + 1.0)
    except Exception as exc:  # noqa: BLE001 - any failure becomes the one-line message
        _disable_tracing(environ)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Connection(
            "unavailable",
            None,
            f"langfuse_nb: the local server could not start ({reason}); "
            "tracing is off in this kernel (try: langfuse-nb serve)",
        )
    environ.update(
        LANGFUSE_PUBLIC_KEY=handle.public_key,
        LANGFUSE_SECRET_KEY=handle.secret_key,
        LANGFUSE_BASE_URL=handle.url,
    )
    _undo_disable(environ)
    if handle.started:
        _quiet_while_starting(handle)
        _await_launch_in_requests(handle)
    verb = "started" if handle.started else "reusing"
    where = f", database {handle.db_path}" if handle.db_path else ""
    return Connection(
        "local",
        handle.url,
        f"langfuse_nb: {verb} the local server at {handle.url}{where}; traces go there, {VIEW_HINT}; "
        f"its web UI: {web_ui_hint(handle)}",
        handle,
        public_key=handle.public_key,
    )


def _await_launch_in_requests(handle: Any) -> None:
    """A REST call made before the launched server answers (Run All: a prompt right after %load_ext)
    waits for it instead of failing (`langfuse_nb._retry.expect_startup`)."""
    from langfuse_nb._retry import STARTUP_WAIT_SECONDS, expect_startup

    ready = threading.Event()
    expect_startup(handle.url, ready)

    def watch() -> None:
        try:
            handle.wait_ready(STARTUP_WAIT_SECONDS)
        finally:
            ready.set()

    threading.Thread(target=watch, daemon=True, name="langfuse-nb-await-launch").start()


class _StartupQuiet(logging.Filter):
    """Drops the exporter's "not answering" / "sending ... failed" lines about a server still starting:
    a cell run right after %load_ext (Run All) is retried, not lost, so those lines would only alarm."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        template = str(record.msg)
        if template.startswith("langfuse_nb: sending %s failed"):
            return False
        return not ("is not answering" in template and self.url in record.getMessage())


def _quiet_while_starting(handle: Any) -> None:
    """Until ``handle``'s server answers (or its start fails, which the runner logs), hide startup noise."""
    wait_ready = getattr(handle, "wait_ready", None)
    if wait_ready is None:
        return
    logger, quiet = logging.getLogger("langfuse_nb"), _StartupQuiet(handle.url)
    logger.addFilter(quiet)

    def lift() -> None:
        try:
            wait_ready(120.0)
        finally:
            logger.removeFilter(quiet)

    threading.Thread(target=lift, daemon=True, name="langfuse-nb-server-startup").start()


def web_ui_hint(handle: Any) -> str:
    """``http://...  (sign in with user name ... and password ...)`` for the local server's pages."""
    from langfuse_nb.server.auth import sign_in_hint

    return f"{handle.url} ({sign_in_hint(handle.public_key, handle.secret_key)})"


def connect(
    environ: MutableMapping[str, str] | None = None, *, timeout: float = 8.0, **server_args: Any
) -> Connection:
    """Use LANGFUSE_* keys when set (and reachable), else the local server; never blocks past ``timeout``.

    ``server_args`` (e.g. ``port``, ``db_path``) go to ``ensure_server`` for the local server.
    """
    env = os.environ if environ is None else environ
    own = _OWN_URL.get("url")
    has_keys = _var("LANGFUSE_PUBLIC_KEY", env) and _var("LANGFUSE_SECRET_KEY", env)
    if has_keys and not (own and _var("LANGFUSE_BASE_URL", env) == own):
        return _configured(env, min(timeout, 3.0))
    conn = _local(env, timeout, server_args)
    if conn.base_url:
        _OWN_URL["url"] = conn.base_url
    return conn
