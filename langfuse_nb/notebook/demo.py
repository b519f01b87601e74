"""Headless main job: run notebooks/quickstart.ipynb in a real kernel against the local server.

    python -m langfuse_nb.notebook.demo [--notebook PATH] [--output PATH] [--port 3939] [--db PATH]

Starts (or reuses) the embedded server unless LANGFUSE_PUBLIC_KEY/SECRET_KEY are set, executes the
notebook with nbclient, then prints what was traced and where to look at it.
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

from langfuse_nb.notebook.connect import Connection, connect

REPO_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"
DEFAULT_OUTPUT = Path.home() / ".langfuse_nb" / "quickstart.executed.ipynb"


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
    from langfuse_nb.notebook.commands import REQUEST, as_dict

    api = LangfuseAPI(
        base_url=base_url,
        username=os.environ["LANGFUSE_PUBLIC_KEY"],
        password=os.environ["LANGFUSE_SECRET_KEY"],
    )
    page = api.trace.list(limit=50, from_timestamp=since, request_options=REQUEST)
    return [as_dict(trace) for trace in page.data]


def run_demo(notebook: Path = REPO_NOTEBOOK, output: Path = DEFAULT_OUTPUT, **server_args: Any) -> DemoResult:
    if not notebook.exists():
        raise FileNotFoundError(f"{notebook} not found: run from a checkout of the repo or pass --notebook")
    connection = connect(**server_args)  # sets LANGFUSE_* in os.environ: the kernel inherits them
    print(connection.message)
    if not connection.tracing:
        raise RuntimeError("no Langfuse endpoint is available; nothing would be traced")
    since = datetime.now(timezone.utc).replace(microsecond=0)
    seconds = execute(notebook, output)
    return DemoResult(connection, output, seconds, recent_traces(connection.base_url, since))


def report(result: DemoResult) -> str:
    url = result.connection.base_url
    lines = [f"executed {result.output} in {result.seconds:.1f}s", f"{len(result.traces)} traces at {url}:"]
    for trace in sorted(result.traces, key=lambda t: str(t.get("timestamp"))):
        count = len(trace.get("observations") or [])
        lines.append(f"  {trace.get('name') or '(unnamed)':<24} {trace['id']}  {count} observations")
    lines += [
        "look at them in a notebook: %load_ext langfuse_nb, then %langfuse_traces or %langfuse_trace_view ID",
        f"or over the API: curl -u pk-lf-local:sk-lf-local {url}/api/public/traces",
        f"open the executed notebook: jupyter lab {result.output}",
    ]
    return "\n".join(lines)


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
        print(f"langfuse_nb demo failed: {type(exc).__name__}: {str(exc).strip()[:2000]}", file=sys.stderr)
        return 1
    print(report(result))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiets a debugger warning in kernels
    sys.exit(main())
