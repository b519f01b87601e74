"""Traces to a DataFrame: `traces_df` vs the reference SDK's paging loop, on one local server.

Run: ``python benchmarks/bench_analysis.py [--traces 10000] [--rounds 3]``. Target: 10,000 traces into a
DataFrame in < 2 s against the local server. The reference column pages through ``api.trace.list`` the way
its users do (100 per page, one after another) and builds the same DataFrame; rounds are interleaved and the
paired ratio (ours / reference) of each round is reported with the median.
"""

from __future__ import annotations

import argparse
import logging
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

logging.disable(logging.WARNING)


def fill(url: str, keys: tuple[str, str], traces: int) -> None:
    from langfuse_nb import Langfuse

    client = Langfuse(public_key=keys[0], secret_key=keys[1], base_url=url)
    for i in range(traces):
        with client.start_as_current_span(name=f"bench-{i % 10}", input={"i": i}, output="ok") as span:
            if i % 2 == 0:
                span.score_trace(name="quality", value=(i % 10) / 10)
    client.flush(timeout=120)


def ours(url: str, keys: tuple[str, str], scores: bool) -> int:
    from langfuse_nb import Langfuse

    client = Langfuse(public_key=keys[0], secret_key=keys[1], base_url=url, tracing_enabled=False)
    return len(client.traces_df(scores=scores, progress=False))


def reference(url: str, keys: tuple[str, str]) -> int:
    import pandas as pd
    from langfuse import Langfuse as Reference

    client = Reference(public_key=keys[0], secret_key=keys[1], host=url, tracing_enabled=False)
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        result = client.api.trace.list(page=page, limit=100)
        rows.extend(t.dict() for t in result.data)
        if page >= result.meta.total_pages:
            break
        page += 1
    frame = pd.DataFrame(rows)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return len(frame)


def timed(fn: Any, *args: Any) -> tuple[float, int]:
    start = time.perf_counter()
    count = fn(*args)
    return time.perf_counter() - start, count


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from langfuse_nb.server.runner import start_detached

    keys = ("pk-lf-bench-analysis", "sk-lf-bench-analysis")
    # a server process of its own, as the notebook layer runs it (not a thread sharing our GIL)
    handle = start_detached(
        port=_free_port(), db_path=Path(tempfile.mkdtemp()) / "lf.db", public_key=keys[0], secret_key=keys[1]
    )
    try:
        fill(handle.url, keys, args.traces)
        samples: dict[str, list[float]] = {"ours": [], "ours+scores": [], "reference": []}
        for _ in range(args.rounds):
            for name, call in (
                ("ours", lambda: ours(handle.url, keys, False)),
                ("ours+scores", lambda: ours(handle.url, keys, True)),
                ("reference", lambda: reference(handle.url, keys)),
            ):
                seconds, count = timed(call)
                assert count == args.traces, (name, count)
                samples[name].append(seconds)
    finally:
        handle.stop()
    ratios = [o / r for o, r in zip(samples["ours"], samples["reference"], strict=True)]
    print(f"{args.traces} traces -> DataFrame, median of {args.rounds} interleaved rounds")
    for name, values in samples.items():
        print(f"  {name:12s} {statistics.median(values):6.2f} s   samples {[round(v, 3) for v in values]}")
    print(f"  ratio ours/reference {statistics.median(ratios):.2f}  (target: ours < 2 s for 10,000 traces)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
