"""Headless main job: run notebooks/quickstart.ipynb in a real kernel against the local server.

    python -m langfuse_nb.notebook.demo [--notebook PATH] [--output PATH] [--port 3939] [--db PATH]

Starts (or reuses) the embedded server unless LANGFUSE_PUBLIC_KEY/SECRET_KEY are set, executes the
notebook with nbclient, then prints what was traced and where to look at it. On failure it stops the
server it started itself (a server it merely reused keeps running).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from langfuse_nb._settings import resolve_settings
from langfuse_nb.notebook.connect import Connection, connect
from langfuse_nb.server.config import DEFAULT_PORT, PROJECT_ID

REPO_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"
DEFAULT_OUTPUT = Path.home() / ".langfuse_nb" / "quickstart.executed.ipynb"
# a first start in a fresh environment compiles and imports the server stack: allow for a slow machine
SERVER_START_TIMEOUT = 60.0


@dataclass
class DemoResult:
    connection: Connection
    output: Path
    seconds: float
    traces: list[dict[str, Any]] = field(default_factory=list)


def execute(notebook: Path, output: Path, timeout: int = 120) -> float:
    """Run every cell in a fresh kernel (cwd = the notebook's folder); a cell error raises."""
    import nbformat
    from nbclient import NotebookClient

    # the kernel runs ``python -m ipykernel_launcher`` with this interpreter: it has our package
    _check_kernel_available()
    nb = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=timeout,
        startup_timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    try:
        client.execute()
    finally:
        output.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, output)
    return time.perf_counter() - start


def recent_traces(base_url: str, since: datetime) -> list[dict[str, Any]]:
    """Traces the run produced, read with the keys ``connect`` put into the environment."""
    from langfuse_nb.api import LangfuseAPI
    from langfuse_nb.notebook.commands import as_dict

    settings = resolve_settings()  # the keys connect() put into the environment, read the one way
    api = LangfuseAPI(base_url=base_url, username=settings.public_key, password=settings.secret_key)
    page = api.trace.list(
        limit=50, from_timestamp=since, request_options={"timeout_in_seconds": 5, "max_retries": 0}
    )
    return [as_dict(trace) for trace in page.data]


def _check_kernel_available() -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        raise RuntimeError("no 'python3' Jupyter kernel is installed (pip install ipykernel)") from None


def run_demo(notebook: Path = REPO_NOTEBOOK, output: Path = DEFAULT_OUTPUT, **server_args: Any) -> DemoResult:
    if not notebook.exists():
        raise FileNotFoundError(f"{notebook} not found: run from a checkout of the repo or pass --notebook")
    _check_kernel_available()  # before a server is started for nothing
    # sets LANGFUSE_* in os.environ: the kernel inherits them
    connection = connect(timeout=SERVER_START_TIMEOUT, **server_args)
    print(connection.message)
    try:
        if not connection.tracing:
            raise RuntimeError("no Langfuse endpoint is available; nothing would be traced")
        wait_until_ready(connection)
        since = datetime.now(timezone.utc).replace(microsecond=0)
        seconds = execute(notebook, output)
        return DemoResult(connection, output, seconds, recent_traces(connection.base_url or "", since))
    except BaseException:
        stop_own_server(connection)
        raise


def wait_until_ready(connection: Connection) -> None:
    """The local server may still be starting (connect returns once it is launched): the kernel's
    ``%load_ext`` gives up after a few seconds, so wait here, where a slow first start is expected."""
    handle = connection.server
    if handle is not None and not handle.wait_ready(SERVER_START_TIMEOUT):
        reason = handle.startup_error or f"no answer within {SERVER_START_TIMEOUT:.0f}s"
        raise RuntimeError(f"the local server at {handle.url} did not start: {reason}")


def stop_own_server(connection: Connection) -> None:
    """Stop the local server only when this run started it (a reused one belongs to someone else)."""
    handle = connection.server
    if handle is not None and handle.started:
        handle.stop()
        print(f"stopped the local server this demo started at {handle.url}", file=sys.stderr)


def report(result: DemoResult) -> str:
    url = result.connection.base_url
    lines = [f"executed {result.output} in {result.seconds:.1f}s", f"{len(result.traces)} traces at {url}:"]
    for trace in sorted(result.traces, key=lambda t: str(t.get("timestamp"))):
        count = len(trace.get("observations") or [])
        lines.append(f"  {trace.get('name') or '(unnamed)':<24} {trace['id']}  {count} observations")
    return "\n".join(lines + ["", *where_to_look(result)])


def where_to_look(result: DemoResult) -> list[str]:
    """The closing lines: the web UI and its keys, the executed notebook, how to stop the server."""
    connection = result.connection
    public_key = resolve_settings().public_key or ""
    if connection.server is None:  # a configured Langfuse: its own UI, its own keys
        web = f"traces:   {connection.base_url} (project of the public key {public_key})"
    else:
        web = (
            f"traces:   {connection.base_url}/project/{PROJECT_ID}/traces  "
            f"(sign in with {connection.server.public_key} / {connection.server.secret_key})"
        )
    lines = [web, f"notebook: {result.output}"]
    if connection.server is not None:
        lines.append(f"stop the local server with: {stop_command(connection.base_url or '')}")
    return lines


def stop_command(url: str) -> str:
    port = urlsplit(url).port
    return "langfuse-nb stop" if port in (None, DEFAULT_PORT) else f"langfuse-nb stop --port {port}"


def failure_line(exc: BaseException, output: Path) -> str:
    """One line: a failed cell names its error and the executed notebook, not a page of ANSI traceback."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:  # nbclient's CellExecutionError
        return f"a notebook cell raised {ename}: {evalue}; see the executed notebook {output}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:500]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m langfuse_nb.notebook.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--notebook", type=Path, default=REPO_NOTEBOOK)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--port", type=int, default=None, help="local server port (default 3939)")
    parser.add_argument(
        "--db", type=Path, default=None, help="local server database (default ~/.langfuse_nb)"
    )
    args = parser.parse_args(argv)
    server_args = {key: val for key, val in (("port", args.port), ("db_path", args.db)) if val is not None}
    try:
        result = run_demo(args.notebook, args.output, **server_args)
    except Exception as exc:  # noqa: BLE001 - the main job reports one line and a non-zero status
        print(f"langfuse_nb demo failed: {failure_line(exc, args.output)}", file=sys.stderr)
        return 1
    print(report(result))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiets a debugger warning in kernels
    sys.exit(main())
