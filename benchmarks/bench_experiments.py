"""Experiments and batch evaluation: langfuse_nb vs the reference SDK (langfuse==3.11.2), same run.

Run: ``python benchmarks/bench_experiments.py [--items 1000] [--traces 10000] [--target sink|server]``.

1. ``run_experiment`` on N local items (trivial sync task, one evaluator), each SDK in a fresh
   subprocess (best of ``--repeat`` runs) against the counting sink (``benchmarks/_sink.py``, its own
   process; ``--target server``: a fresh embedded server per run, counted in its tables). Items/s counts
   until every span and score has arrived. Target: ours >= 5x the reference.
2. ``run_batched_evaluation`` over M traces stored in the embedded server (populated first through the
   SDK), in a subprocess that samples its RSS every 5 ms. Target: peak RSS growth < 50 MB.
3. ``ExperimentResult.to_dataframe()`` of 10,000 items. Target: < 1 s.

The reference runs with ``benchmarks/.venv-ref/bin/python`` when that venv exists, else with this
interpreter (where ``langfuse==3.11.2`` is installed as a test dependency).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KEYS = {"public_key": "pk-lf-local", "secret_key": "sk-lf-local"}


# ------------------------------------------------------------------ workers (run in subprocesses)


def _quiet() -> None:
    import logging

    logging.disable(logging.CRITICAL)
    os.environ["LANGFUSE_NB_PROGRESS"] = "0"


def _stats(url: str) -> dict[str, int]:
    """Spans and score events received so far: the sink's counters, or the embedded server's tables."""
    if "/sink" not in url:
        return httpx.get(f"{url}/_stats").json()
    base, auth = url.rsplit("/sink", 1)[0], (KEYS["public_key"], KEYS["secret_key"])

    def total(path: str, **params: Any) -> int:
        response = httpx.get(f"{base}{path}", params={"limit": 1, **params}, auth=auth)
        return response.json()["meta"]["totalItems"]

    return {
        "spans": total("/api/public/observations", name="experiment-item-run"),
        "ingestion_events": total("/api/public/v2/scores"),
    }


def _wait_counts(url: str, spans: int, events: int, timeout: float = 60.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        stats = _stats(url)
        if (stats["spans"] >= spans and stats["ingestion_events"] >= events) or time.monotonic() > deadline:
            return stats
        time.sleep(0.01)


def worker_experiment(sdk: str, url: str, items: int) -> dict[str, Any]:
    _quiet()
    if sdk == "ours":
        from langfuse_nb import Langfuse
        from langfuse_nb.experiment import Evaluation
    else:  # the reference SDK, only ever imported in this subprocess
        from langfuse import Langfuse
        from langfuse.experiment import Evaluation
    # Imports are not run time: the reference imports httpx/httpcore with ``import langfuse``, ours on the
    # first score; import them here for both so the timed region holds the same work.
    import httpcore  # noqa: F401

    base = url.rsplit("/sink", 1)[0]
    client = Langfuse(host=base, **KEYS) if sdk == "ref" else Langfuse(base_url=base, **KEYS)
    data = [{"input": f"question {i}", "expected_output": f"QUESTION {i}"} for i in range(items)]

    def task(*, item, **_):
        return item["input"].upper()

    def exact(*, output, expected_output, **_):
        # an Evaluation, not a dict: the reference drops dict results (DEVIATIONS F3)
        return Evaluation(name="exact", value=float(output == expected_output))

    started = time.perf_counter()
    result = client.run_experiment(name=f"bench-{sdk}", data=data, task=task, evaluators=[exact])
    returned = time.perf_counter()
    stats = _wait_counts(url, items, items)
    arrived = time.perf_counter()
    assert len(result.item_results) == items
    return {"returned_s": returned - started, "arrived_s": arrived - started, **stats}


def worker_populate(url: str, traces: int, tag: str) -> dict[str, Any]:
    _quiet()
    from langfuse_nb import Langfuse

    client = Langfuse(base_url=url, **KEYS)
    started = time.perf_counter()
    for i in range(traces):
        with client.start_as_current_observation(name="stored") as span:
            span.update_trace(
                tags=[tag], input={"q": i, "text": "lorem ipsum " * 8}, output="answer " * (i % 17)
            )
    client.flush()
    return {"seconds": time.perf_counter() - started}


class _RssSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = self.rss()
        self.running = True

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.005)


def worker_batch(sdk: str, url: str, tag: str) -> dict[str, Any]:
    _quiet()
    if sdk == "ours":
        from langfuse_nb import Langfuse
        from langfuse_nb.batch_evaluation import EvaluatorInputs
        from langfuse_nb.experiment import Evaluation
    else:
        from langfuse import Evaluation, EvaluatorInputs, Langfuse
    client = Langfuse(host=url, **KEYS) if sdk == "ref" else Langfuse(base_url=url, **KEYS)
    client.auth_check() if hasattr(client, "auth_check") else None  # warm the HTTP pools first

    def mapper(*, item, **_):
        return EvaluatorInputs(input=item.input, output=item.output)

    def length(*, output, **_):
        return Evaluation(name="length", value=len(output or ""))

    filter_ = json.dumps([{"type": "arrayOptions", "column": "tags", "operator": "any of", "value": [tag]}])
    sampler = _RssSampler()
    baseline = sampler.rss()
    sampler.start()
    started = time.perf_counter()
    result = client.run_batched_evaluation(
        scope="traces", mapper=mapper, evaluators=[length], filter=filter_, fetch_batch_size=50
    )
    seconds = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    return {
        "seconds": seconds,
        "processed": result.total_items_processed,
        "scores": result.total_scores_created,
        "peak_rss_growth_mb": (sampler.peak - baseline) / 2**20,
    }


def worker_dataframe(items: int) -> dict[str, Any]:
    from langfuse_nb.experiment import Evaluation, ExperimentItemResult, ExperimentResult

    results = [
        ExperimentItemResult(
            item={"input": f"q{i}", "expected_output": f"a{i}"},
            output=f"a{i}",
            evaluations=[Evaluation(name="exact", value=1.0, comment="ok"), Evaluation(name="len", value=i)],
            trace_id=f"{i:032x}",
            dataset_run_id=None,
            item_id=f"{i:016x}",
        )
        for i in range(items)
    ]
    result = ExperimentResult(
        name="df", run_name="df", description=None, item_results=results, run_evaluations=[]
    )
    import pandas  # noqa: F401  (import time is not part of to_dataframe)

    started = time.perf_counter()
    frame = result.to_dataframe()
    seconds = time.perf_counter() - started
    assert frame.shape[0] == items
    return {"seconds": seconds, "rows": frame.shape[0], "columns": frame.shape[1]}


WORKERS = {
    "experiment": worker_experiment,
    "populate": worker_populate,
    "batch": worker_batch,
    "dataframe": worker_dataframe,
}


# ------------------------------------------------------------------ orchestration


def reference_python() -> str:
    venv = HERE / ".venv-ref" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def run_worker(python: str, name: str, **kwargs: Any) -> dict[str, Any]:
    code = (
        f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import bench_experiments as b; "
        f"print(json.dumps(b.WORKERS[{name!r}](**json.loads(sys.argv[1]))))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)} if python == sys.executable else dict(os.environ)
    done = subprocess.run(
        [python, "-c", code, json.dumps(kwargs)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(ROOT),
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# The sink's handler writes headers and body separately; with Nagle on, each keep-alive reply then waits
# for the client's delayed ACK (~40 ms per request), which would make both SDKs' score flushes measure
# the sink instead of the SDK. TCP_NODELAY on the sink's sockets removes that for both equally.
_SINK_LAUNCHER = (
    "import socketserver, sys; socketserver.StreamRequestHandler.disable_nagle_algorithm = True; "
    "sys.path.insert(0, %r); import _sink; sink = _sink.Sink(store=False); print(sink.url, flush=True); "
    "sink._server.serve_forever()"
)


def start_sink() -> tuple[subprocess.Popen[str], str]:
    code = _SINK_LAUNCHER % str(HERE)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def bench_experiment(items: int, repeat: int = 3, target: str = "sink") -> dict[str, Any]:
    """Best of ``repeat`` fresh-process runs per SDK (runs alternate, so drift hits both alike).

    ``target="server"``: every run sends to a fresh embedded langfuse_nb server (SQLite) instead of the
    sink, and arrival is counted in its tables (root spans and scores).
    """
    rows: dict[str, Any] = {}
    for _ in range(repeat):
        for sdk, python in (("ref", reference_python()), ("ours", sys.executable)):
            with _target(target) as url:
                row = run_worker(python, "experiment", sdk=sdk, url=url, items=items)
            if sdk not in rows or row["arrived_s"] < rows[sdk]["arrived_s"]:
                rows[sdk] = row
    for sdk in ("ref", "ours"):
        rows[sdk]["items_per_s"] = items / rows[sdk]["arrived_s"]
    rows["speedup"] = rows["ours"]["items_per_s"] / rows["ref"]["items_per_s"]
    rows["ok"] = rows["speedup"] >= 5 and all(
        rows[s]["spans"] >= items and rows[s]["ingestion_events"] >= items for s in ("ours", "ref")
    )
    return rows


@contextlib.contextmanager
def _target(kind: str) -> Iterator[str]:
    """A fresh place to send to: the counting sink, or an embedded server (URL suffixed ``/sink``)."""
    if kind == "sink":
        process, url = start_sink()
        try:
            yield url
        finally:
            process.terminate()
            process.wait()
        return
    from langfuse_nb.server.runner import start_in_thread

    with tempfile.TemporaryDirectory() as tmp:
        server = start_in_thread(port=0, db_path=Path(tmp) / "experiment.db", **KEYS)
        try:
            yield f"{server.url}/sink"
        finally:
            server.stop()


def _wait_stored(server: Any, traces: int, timeout: float = 120.0) -> None:
    """Start evaluating only once the server has ingested every populated trace."""
    auth = (server.public_key, server.secret_key)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        meta = httpx.get(f"{server.url}/api/public/traces", params={"limit": 1}, auth=auth).json()["meta"]
        if meta["totalItems"] >= traces:
            return
        time.sleep(0.1)


def bench_batch(traces: int, with_reference: bool) -> dict[str, Any]:
    from langfuse_nb.server.runner import start_in_thread

    with tempfile.TemporaryDirectory() as tmp:
        server = start_in_thread(port=0, db_path=Path(tmp) / "bench.db", **KEYS)
        try:
            tag = f"bench-{os.getpid()}"
            rows: dict[str, Any] = {
                "populate": run_worker(sys.executable, "populate", url=server.url, traces=traces, tag=tag)
            }
            _wait_stored(server, traces)
            rows["ours"] = run_worker(sys.executable, "batch", sdk="ours", url=server.url, tag=tag)
            if with_reference:
                rows["ref"] = run_worker(reference_python(), "batch", sdk="ref", url=server.url, tag=tag)
        finally:
            server.stop()
    ours = rows["ours"]
    rows["ok"] = ours["processed"] == traces and ours["peak_rss_growth_mb"] < 50
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process runs per SDK; best is kept")
    parser.add_argument(
        "--target",
        choices=("sink", "server"),
        default="sink",
        help="count arrivals at the counting sink or at the embedded server",
    )
    parser.add_argument("--traces", type=int, default=10_000)
    parser.add_argument("--skip-batch-reference", action="store_true")
    args = parser.parse_args()

    experiment = bench_experiment(args.items, args.repeat, args.target)
    print(
        f"run_experiment, {args.items} local items (items/s until every span+score arrived at the "
        f"{args.target}, best of {args.repeat}):"
    )
    for sdk in ("ref", "ours"):
        row = experiment[sdk]
        print(
            f"  {sdk:4} {row['items_per_s']:9.0f} items/s  (returned {row['returned_s']:.3f}s, "
            f"arrived {row['arrived_s']:.3f}s, spans {row['spans']}, "
            f"score events {row['ingestion_events']})"
        )
    print(f"  speedup {experiment['speedup']:.1f}x (target >= 5x)  {'OK' if experiment['ok'] else 'FAIL'}")

    batch = bench_batch(args.traces, not args.skip_batch_reference)
    populated = batch["populate"]["seconds"]
    print(f"run_batched_evaluation, {args.traces} stored traces (populated in {populated:.1f}s):")
    for sdk in ("ref", "ours"):
        if sdk in batch:
            row = batch[sdk]
            print(
                f"  {sdk:4} {row['seconds']:7.2f}s  processed {row['processed']}, scores {row['scores']}, "
                f"peak RSS growth {row['peak_rss_growth_mb']:.1f} MB"
            )
    print(f"  target: ours processes all, peak growth < 50 MB  {'OK' if batch['ok'] else 'FAIL'}")

    frame = run_worker(sys.executable, "dataframe", items=10_000)
    frame_ok = frame["seconds"] < 1.0
    print(
        f"to_dataframe, 10000 items: {frame['seconds'] * 1000:.1f} ms ({frame['columns']} columns)  "
        f"{'OK' if frame_ok else 'FAIL'}"
    )
    return 0 if experiment["ok"] and batch["ok"] and frame_ok else 1


if __name__ == "__main__":
    sys.exit(main())
