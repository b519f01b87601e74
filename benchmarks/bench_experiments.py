"""Experiments and batch evaluation: langfuse_nb vs the reference SDK (langfuse==3.11.2), same run.

Run: ``python benchmarks/bench_experiments.py [--items 1000] [--traces 10000] [--target sink|server]``.

1. ``run_experiment`` on N local items (the same trivial sync task and one evaluator for both SDKs,
   called as the reference's docs show), each SDK in a fresh subprocess against a fresh counting sink
   (``benchmarks/_sink.py``, its own process; ``--target server``: a fresh embedded server per run,
   counted in its tables), in interleaved rounds. Items/s counts until every span and score has
   arrived; the figure is the median of the per-round paired ratios. Target (issue 15): ours >= 10x the
   reference, 0 spans or scores lost. Raw samples go to ``benchmarks/results/``.
2. ``run_batched_evaluation`` over M traces stored in the embedded server (populated first through the
   SDK), in a subprocess that samples its RSS every 5 ms. Target: peak RSS growth < 50 MB.
3. ``ExperimentResult.to_dataframe()`` of 10,000 items. Target: < 1 s.

The reference runs with ``benchmarks/.venv-ref/bin/python`` when that venv exists, else with this
interpreter (where ``langfuse==3.11.2`` is installed as a test dependency).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import statistics
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
sys.path.insert(0, str(ROOT))  # this checkout's langfuse_nb, whatever is installed
KEYS = {"public_key": "pk-lf-local", "secret_key": "sk-lf-local"}
TARGET_RATIO = 10.0  # issue 15: local run_experiment >= 10x the reference's items/s at the sink


# ------------------------------------------------------------------ workers (run in subprocesses)


def _quiet() -> None:
    import logging

    logging.disable(logging.CRITICAL)
    os.environ["LANGFUSE_NB_PROGRESS"] = "0"


_POLL: httpx.Client | None = None


def _poller() -> httpx.Client:
    """One client for every poll: ``httpx.get`` builds a client (and reads the CA bundle) per call, which
    would add tens of ms of the benchmark's own work to each SDK's measured time."""
    global _POLL
    if _POLL is None:
        _POLL = httpx.Client(verify=False)
    return _POLL


def _stats(url: str) -> dict[str, int]:
    """Spans and score events received so far: the sink's counters, or the embedded server's tables."""
    if "/sink" not in url:
        return _poller().get(f"{url}/_stats").json()
    base, auth = url.rsplit("/sink", 1)[0], (KEYS["public_key"], KEYS["secret_key"])

    def total(path: str, **params: Any) -> int:
        response = _poller().get(f"{base}{path}", params={"limit": 1, **params}, auth=auth)
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
    # Imports are not run time: the reference imports httpx/httpcore and its experiment module with
    # ``import langfuse``, ours on first use; import them here for both so the timed region holds the
    # same work (first-use costs that are not imports, such as HTTP clients, stay in it).
    import httpcore  # noqa: F401

    if sdk == "ours":
        import langfuse_nb.sdk.experiments.runner  # noqa: F401

    base = url.rsplit("/sink", 1)[0]
    client = Langfuse(host=base, **KEYS) if sdk == "ref" else Langfuse(base_url=base, **KEYS)
    data = [{"input": f"question {i}", "expected_output": f"QUESTION {i}"} for i in range(items)]

    def task(*, item, **_):
        return item["input"].upper()

    def exact(*, output, expected_output, **_):
        # an Evaluation, not a dict: the reference drops dict results (DEVIATIONS F3)
        return Evaluation(name="exact", value=float(output == expected_output))

    _poller()  # the benchmark's own client, made before the clock starts
    collections = [g["collections"] for g in gc.get_stats()]
    cpu, started = time.process_time(), time.perf_counter()
    result = client.run_experiment(name=f"bench-{sdk}", data=data, task=task, evaluators=[exact])
    returned = time.perf_counter()
    stats = _wait_counts(url, items, items)
    arrived = time.perf_counter()
    assert len(result.item_results) == items
    # CPU of every thread of the SDK's process until arrival (the polling adds a little to both)
    cpu_s = time.process_time() - cpu
    # garbage collections per generation in the timed region: a fresh process's first full collection
    # (tens of ms, proportional to everything imported) lands in whichever run reaches it
    gc_runs = [g["collections"] - before for g, before in zip(gc.get_stats(), collections, strict=True)]
    return {
        "returned_s": returned - started,
        "arrived_s": arrived - started,
        "cpu_s": cpu_s,
        "gc_collections": gc_runs,
        **stats,
    }


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


def bench_experiment(items: int, rounds: int = 5, target: str = "sink") -> dict[str, Any]:
    """Interleaved rounds, each SDK in a fresh process against a fresh sink per run.

    The order alternates (ref, ours / ours, ref) so drift in the machine's load hits both alike; each
    round gives one paired ratio (ours items/s over the reference's), and the median of those is the
    figure. ``target="server"``: every run sends to a fresh embedded langfuse_nb server (SQLite) and
    arrival is counted in its tables (root spans and scores).
    """
    samples: list[dict[str, Any]] = []
    for number in range(rounds):
        order = (("ref", reference_python()), ("ours", sys.executable))
        pair: dict[str, Any] = {"round": number, "load_before": os.getloadavg()[0]}
        for sdk, python in order if number % 2 == 0 else order[::-1]:
            with _target(target) as url:
                row = run_worker(python, "experiment", sdk=sdk, url=url, items=items)
            row["items_per_s"] = items / row["arrived_s"]
            row["items_per_cpu_s"] = items / max(row["cpu_s"], 1e-9)
            row["lost"] = max(0, items - row["spans"]) + max(0, items - row["ingestion_events"])
            pair[sdk] = row
        pair["ratio"] = pair["ours"]["items_per_s"] / pair["ref"]["items_per_s"]
        pair["cpu_ratio"] = pair["ours"]["items_per_cpu_s"] / pair["ref"]["items_per_cpu_s"]
        samples.append(pair)
    summary = {
        sdk: {
            "items_per_s": statistics.median(p[sdk]["items_per_s"] for p in samples),
            "items_per_cpu_s": statistics.median(p[sdk]["items_per_cpu_s"] for p in samples),
            "lost": sum(p[sdk]["lost"] for p in samples),
        }
        for sdk in ("ref", "ours")
    }
    ratios = sorted(p["ratio"] for p in samples)
    return {
        "items": items,
        "rounds": samples,
        "summary": summary,
        "ratio_median": statistics.median(ratios),
        "cpu_ratio_median": statistics.median(p["cpu_ratio"] for p in samples),
        "ratio_range": [ratios[0], ratios[-1]],
        "ok": statistics.median(ratios) >= TARGET_RATIO and summary["ours"]["lost"] == 0,
    }


def bench_against_tree(tree: str, items: int, rounds: int) -> dict[str, Any]:
    """Paired rounds of this checkout's ``run_experiment`` against another checkout's (e.g. ``git archive
    <commit> | tar -x -C DIR``), each run in a fresh process against a fresh sink, order alternating;
    the figure is the median of the per-round ratios of the other tree's time over this one's."""
    trees = (str(ROOT), str(Path(tree).resolve()))
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in trees}
    ratios = []
    for number in range(rounds):
        pair = {}
        for path in trees if number % 2 == 0 else trees[::-1]:
            code = (
                f"import json, sys; sys.path.insert(0, {path + '/benchmarks'!r}); "
                "import bench_experiments as b; "
                "print(json.dumps(b.WORKERS['experiment'](**json.loads(sys.argv[1]))))"
            )
            with _target("sink") as url:
                arguments = json.dumps({"sdk": "ours", "url": url, "items": items})
                done = subprocess.run(
                    [sys.executable, "-c", code, arguments],
                    capture_output=True,
                    text=True,
                    env={**os.environ, "PYTHONPATH": path},
                    cwd=path,
                    timeout=600,
                )
            if done.returncode != 0:
                raise RuntimeError(f"worker in {path} failed:\n{done.stderr[-3000:]}")
            pair[path] = json.loads(done.stdout.strip().splitlines()[-1])
            rows[path].append(pair[path])
        ratios.append(pair[trees[1]]["arrived_s"] / pair[trees[0]]["arrived_s"])
    return {"trees": trees, "rows": rows, "ratios": ratios}


def print_against_tree(result: dict[str, Any]) -> None:
    here, other = result["trees"]
    for path in (other, here):
        rows = result["rows"][path]
        print(
            f"  {path}: {statistics.median(r['arrived_s'] for r in rows) * 1000:.0f} ms to arrival, "
            f"{statistics.median(r['cpu_s'] for r in rows) * 1000:.0f} ms CPU (medians)"
        )
    ratios = sorted(result["ratios"])
    print(
        f"  paired: the other tree takes {statistics.median(ratios):.2f}x this one's time "
        f"(range {ratios[0]:.2f}-{ratios[-1]:.2f}, {len(ratios)} rounds; load {os.getloadavg()[0]:.1f})"
    )


def save_samples(payload: dict[str, Any], out: str | None) -> Path:
    """Raw samples and the machine, as ``benchmarks/results/bench_experiments-<UTC stamp>.json``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = Path(out) if out else HERE / "results" / f"bench_experiments-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    machine = {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
    }
    path.write_text(json.dumps({"machine": machine, **payload}, indent=1))
    return path


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


def print_experiment(experiment: dict[str, Any], target: str) -> None:
    items, rounds = experiment["items"], experiment["rounds"]
    print(
        f"run_experiment, {items} local items: items/s until every span and score arrived at the {target} "
        f"({len(rounds)} interleaved rounds, a fresh process per run; load {os.getloadavg()[0]:.1f})"
    )
    for pair in rounds:
        cells = "  ".join(
            f"{sdk} {pair[sdk]['items_per_s']:7.0f}/s (spans {pair[sdk]['spans']}, scores "
            f"{pair[sdk]['ingestion_events']})"
            for sdk in ("ref", "ours")
        )
        print(
            f"  round {pair['round']}: {cells}  ratio {pair['ratio']:.1f}x "
            f"(per CPU-s {pair['cpu_ratio']:.1f}x)  load {pair['load_before']:.1f}  "
            f"full GCs ref/ours {pair['ref']['gc_collections'][2]}/{pair['ours']['gc_collections'][2]}"
        )
    summary, (low, high) = experiment["summary"], experiment["ratio_range"]
    print(
        f"  median: ref {summary['ref']['items_per_s']:.0f}/s, ours {summary['ours']['items_per_s']:.0f}/s; "
        f"paired ratio {experiment['ratio_median']:.1f}x (range {low:.1f}-{high:.1f}; per CPU-second "
        f"{experiment['cpu_ratio_median']:.1f}x), lost: ours "
        f"{summary['ours']['lost']}, ref {summary['ref']['lost']}  (target >= {TARGET_RATIO:.0f}x, 0 lost)  "
        f"{'OK' if experiment['ok'] else 'FAIL'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (one run per SDK each)")
    parser.add_argument(
        "--target",
        choices=("sink", "server"),
        default="sink",
        help="count arrivals at the counting sink or at the embedded server",
    )
    parser.add_argument("--traces", type=int, default=10_000)
    parser.add_argument("--skip-batch-reference", action="store_true")
    parser.add_argument("--experiments-only", action="store_true", help="skip batch evaluation and dataframe")
    parser.add_argument("--out", help="raw samples file (default: benchmarks/results/)")
    parser.add_argument("--against-tree", help="compare this checkout's run with another checkout's instead")
    args = parser.parse_args()

    if args.against_tree:
        paired = bench_against_tree(args.against_tree, args.items, args.rounds)
        print(f"run_experiment, {args.items} local items, this checkout against {args.against_tree}:")
        print_against_tree(paired)
        print(f"raw samples: {save_samples({'against_tree': paired}, args.out)}")
        return 0
    experiment = bench_experiment(args.items, args.rounds, args.target)
    print_experiment(experiment, args.target)
    payload: dict[str, Any] = {"experiment": experiment}
    if args.experiments_only:
        print(f"raw samples: {save_samples(payload, args.out)}")
        return 0 if experiment["ok"] else 1

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
    payload.update(batch=batch, dataframe=frame)
    print(f"raw samples: {save_samples(payload, args.out)}")
    return 0 if experiment["ok"] and batch["ok"] and frame_ok else 1


if __name__ == "__main__":
    sys.exit(main())
