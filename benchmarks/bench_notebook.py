"""Notebook-layer benchmarks: traced-cell overhead, %load_ext with a running server, inline view render.

    python benchmarks/bench_notebook.py [--rounds 300]

Targets (issue #6): %%langfuse_trace adds <= 1 ms median to a trivial cell (flush excluded, reported
separately); %load_ext with the local server already running < 300 ms; the inline view of a
100-observation trace renders in < 50 ms. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def median_ms(fn: Callable[[], Any], rounds: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def shell() -> Any:
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


def bench_cell_overhead(ip: Any, rounds: int) -> dict[str, float]:
    # the plain shell's displayhook prints "Out[n]: 1" for every timed cell: keep the report readable
    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            return _cell_overhead(ip, rounds)
        finally:
            sys.stdout = stdout


def _cell_overhead(ip: Any, rounds: int) -> dict[str, float]:
    from langfuse_nb import get_client

    ip.run_line_magic("config", "LangfuseMagics.auto_flush = False")
    plain = median_ms(lambda: ip.run_cell("x = 1\nx"), rounds)
    traced = median_ms(lambda: ip.run_cell("%%langfuse_trace name=bench display=none\nx = 1\nx"), rounds)
    client = get_client()

    def traced_and_flushed() -> None:
        ip.run_cell("%%langfuse_trace name=bench display=none\nx = 1\nx")
        client.flush(timeout=2)

    with_flush = median_ms(traced_and_flushed, max(rounds // 5, 20))
    ip.run_line_magic("config", "LangfuseMagics.auto_flush = True")
    return {
        "plain cell": plain,
        "traced cell (no flush)": traced,
        "overhead": traced - plain,
        "traced cell + flush": with_flush,
        "flush": with_flush - traced,
    }


def bench_load_ext(ip: Any, rounds: int, server_port: int) -> dict[str, float]:
    from langfuse_nb.notebook import connect, extension

    def configured() -> None:
        extension.load_ipython_extension(ip)

    def local() -> None:  # no keys in the env: ensure_server finds the running server and reuses it
        saved = {
            k: os.environ.pop(k) for k in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY") if k in os.environ
        }
        connect._OWN_URL.clear()
        try:
            conn = connect.connect(port=server_port)
            assert conn.mode == "local" and not conn.server.started, conn.message
        finally:
            os.environ.update(saved)

    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            load = median_ms(configured, rounds)
            reuse = median_ms(local, rounds)
        finally:
            sys.stdout = stdout
    return {
        "%load_ext (env configured)": load,
        "connect: reuse running local server": reuse,
        "%load_ext with local server (sum)": load + reuse,
    }


def bench_view(rounds: int) -> dict[str, float]:
    from langfuse_nb import get_client
    from langfuse_nb.notebook.render import render_trace
    from langfuse_nb.notebook.store import STORE

    client = get_client()
    with client.start_as_current_observation(name="root") as root:
        for i in range(33):
            with client.start_as_current_observation(name=f"step {i}", as_type="chain"):
                with client.start_as_current_observation(
                    name="llm",
                    as_type="generation",
                    model="m",
                    input={"q": "x" * 200},
                    usage_details={"input": 5},
                ):
                    pass
                client.create_event(name="note", output="y" * 300)
    records = STORE.records(root.trace_id)
    assert len(records) == 100, len(records)
    return {
        "render 100 observations (spans -> HTML)": median_ms(
            lambda: render_trace(STORE.records(root.trace_id)), rounds
        )
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    from langfuse_nb.server.runner import start_detached

    port = free_port()  # a detached server, as in a real notebook (an in-thread one shares our GIL)
    server = start_detached(port=port, db_path=Path(tempfile.mkdtemp()) / "lf.db")
    os.environ.update(
        LANGFUSE_PUBLIC_KEY=server.public_key,
        LANGFUSE_SECRET_KEY=server.secret_key,
        LANGFUSE_BASE_URL=server.url,
    )
    ip = shell()
    ip.run_line_magic("load_ext", "langfuse_nb")
    try:
        results = {
            **bench_cell_overhead(ip, args.rounds),
            **bench_load_ext(ip, max(args.rounds // 10, 20), port),
            **bench_view(max(args.rounds // 10, 20)),
        }
    finally:
        get_client_flush()
        server.stop()
    for name, value in results.items():
        print(f"{name:<45} {value:8.3f} ms (median)")
    targets = [
        ("overhead", 1.0),
        ("%load_ext with local server (sum)", 300.0),
        ("render 100 observations (spans -> HTML)", 50.0),
    ]
    missed = [
        f"{name} {results[name]:.2f} ms > {limit} ms" for name, limit in targets if results[name] > limit
    ]
    print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_client_flush() -> None:
    from langfuse_nb import get_client

    get_client().flush(timeout=2)


if __name__ == "__main__":
    sys.exit(main())
