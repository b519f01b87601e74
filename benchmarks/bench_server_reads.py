"""The embedded server's reads at scale, and while it ingests (issue 15, item 3).

1. Builds (once, then reuses) a database of ``--traces`` traces through the server's own store layer: rows
   are mapped from real OTLP spans by the server's mapper once, then copied per trace with new ids and
   values and written by ``store.ingest.write`` in large transactions (the time is reported apart).
2. Starts the server on it (a separate process, free port) and measures the list and get endpoints the
   API and the notebook use, interleaved round by round; the floor is ``GET /api/public/health`` on
   the same connection (HTTP, auth and routing with no query). Next to wall times it reports the CPU
   the server process spent on each call (its threads' scheduler time), which the other load on a shared
   machine moves far less.
3. Measures the notebook's reads (trace list page, its errors-only probe, one trace, the inline view's
   fetch, a ``traces_df`` page) in alternating quiet and ingesting phases, while a second process posts
   OTLP batches at full speed; reports p50/p99 of each phase and the ingest rate.

Usage: python benchmarks/bench_server_reads.py [--traces 1000000] [--rounds 30] [--ingest-seconds 20]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent)]
from bench_server import AUTH, PROTOBUF, build_batch, start_server  # noqa: E402

from langfuse_nb.server.otlp import decode_request  # noqa: E402
from langfuse_nb.server.spans import map_groups  # noqa: E402
from langfuse_nb.server.store import ingest, scores  # noqa: E402
from langfuse_nb.server.store import traces as trace_store  # noqa: E402
from langfuse_nb.server.store.db import Database  # noqa: E402
from langfuse_nb.server.store.resources import BlobCache  # noqa: E402

RESULTS = Path(__file__).parent / "results"
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
BIG_N = 999_999_999  # beyond the built traces and the ingesting phase's ids
BIG_TRACE = f"{BIG_N:032x}"
BIG_TRACE_START_NS = 1_700_000_000_000_000_000


# ---- building the database ----------------------------------------------------------------------------


def _templates() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One trace's observation rows and trace updates, mapped by the server from SDK-shaped spans."""
    body = build_batch(0, 1, 2, BIG_TRACE_START_NS)
    return map_groups(decode_request(body, PROTOBUF["content-type"], []))


def _stamp(n: int) -> str:
    return (EPOCH + timedelta(milliseconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _trace_rows(n: int, obs_t: list[dict[str, Any]], trace_t: list[dict[str, Any]]) -> tuple[list, list]:
    trace_id = f"{n:032x}"
    at = _stamp(n)
    observations = []
    for child, template in enumerate(obs_t):
        row = dict(template)
        row["id"] = f"{n:014x}{child:02x}"
        row["trace_id"] = trace_id
        row["parent_observation_id"] = f"{n:014x}00" if child else None
        row["start_time"], row["end_time"] = at, _stamp(n + 1)
        if child and n % 5000 == 0:
            row["level"], row["status_message"] = "ERROR", "boom"
        observations.append(row)
    updates = []
    for template in trace_t:
        update = dict(template)
        update["id"], update["timestamp"] = trace_id, at
        update["user_id"] = f"user-{n % 1000}"
        if update.get("is_root"):
            update["name"] = f"route-{n % 20}"
            update["session_id"] = f"s-{n % 50_000}"
            update["tags"] = ["bench", f"t{n % 10}"]
            update["metadata"] = {"customer": f"c-{n % 1000}", "experiment": f"exp-{n % 20}", "step": n % 7}
        updates.append(update)
    return observations, updates


def _score_row(n: int) -> dict[str, Any]:
    at = _stamp(n)
    row: dict[str, Any] = dict.fromkeys(scores.COLUMNS)
    row.update(
        id=f"score-{n}",
        trace_id=f"{n:032x}",
        name="quality",
        value=float(n % 5),
        data_type="NUMERIC",
        source="API",
        environment="default",
        timestamp=at,
        created_at=at,
        updated_at=at,
    )
    return row


def build_database(path: Path, traces: int, batch: int = 5000) -> dict[str, float]:
    """Write ``traces`` traces (2 observations each, a score on every 10th) through the store layer."""
    obs_t, trace_t = _templates()
    db = Database(path)
    blobs = BlobCache()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        for first in range(0, traces, batch):
            obs_rows: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            for n in range(first, min(first + batch, traces)):
                o, u = _trace_rows(n, obs_t, trace_t)
                obs_rows += o
                updates += u
            score_rows = [_score_row(n) for n in range(first, min(first + batch, traces), 10)]
            ingest.write(db, blobs, trace_updates=updates, observation_rows=obs_rows, score_rows=score_rows)
            if first and first % 100_000 == 0:
                print(f"  built {first:,} traces ({time.perf_counter() - started:.0f} s)", flush=True)
    finally:
        db.close()
    return {
        "build_seconds": round(time.perf_counter() - started, 1),
        "build_cpu_seconds": round(time.process_time() - cpu, 1),
    }


# ---- measuring ------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _filter(*conditions: dict[str, Any]) -> str:
    return json.dumps(list(conditions))


Params = Callable[[int], dict[str, Any]]  # round number -> query parameters


def read_calls(traces: int) -> dict[str, tuple[str, Params]]:
    """name -> (path, params of round r) of every read measured at scale.

    Filter values change from round to round (same selectivity), and the measuring loops write one tiny
    row before each round, so no answer is served from the server's remembered counts.
    """
    mid = traces // 2
    some_trace = f"{mid:032x}"

    def meta(key: str, value: str) -> str:
        return _filter(
            {"type": "stringObject", "column": "metadata", "operator": "=", "key": key, "value": value}
        )

    errors = _filter({"type": "number", "column": "errorCount", "operator": ">", "value": 0})
    return {
        "floor: health": ("/api/public/health", lambda r: {}),
        "traces: default order, page 1": ("/api/public/traces", lambda r: {"limit": 50}),
        "traces: metadata customer (0.1%)": (
            "/api/public/traces",
            lambda r: {"limit": 50, "filter": meta("customer", f"c-{r % 1000}")},
        ),
        "traces: metadata experiment (5%)": (
            "/api/public/traces",
            lambda r: {"limit": 50, "filter": meta("experiment", f"exp-{r % 20}")},
        ),
        "traces: userId (0.1%)": (
            "/api/public/traces",
            lambda r: {"limit": 50, "userId": f"user-{r % 1000}"},
        ),
        "traces: tags (10%)": ("/api/public/traces", lambda r: {"limit": 50, "tags": f"t{r % 10}"}),
        "traces: name (5%)": ("/api/public/traces", lambda r: {"limit": 50, "name": f"route-{r % 20}"}),
        "traces: 10,000-trace time window": (
            "/api/public/traces",
            lambda r: {
                "limit": 50,
                "fromTimestamp": _stamp(mid + r),
                "toTimestamp": _stamp(mid + r + 10_000),
            },
        ),
        "traces: errorCount > 0, core (notebook)": (
            "/api/public/traces",
            lambda r: {"limit": 20, "fields": "core", "filter": errors},
        ),
        "traces: traces_df page (1,000 rows, all fields)": (
            "/api/public/traces",
            lambda r: {
                "limit": 1000,
                "orderBy": "timestamp.desc",
                "fields": "core,io,scores,observations,metrics",
            },
        ),
        "trace: 1,000 observations": (f"/api/public/traces/{BIG_TRACE}", lambda r: {}),
        "trace: 2 observations": (f"/api/public/traces/{some_trace}", lambda r: {}),
        "observations: page 1": ("/api/public/observations", lambda r: {"limit": 50}),
        "observations: by traceId": ("/api/public/observations", lambda r: {"traceId": some_trace}),
        "observations v2: page 1": ("/api/public/v2/observations", lambda r: {"limit": 50}),
        "scores v2: page 1": ("/api/public/v2/scores", lambda r: {"limit": 50}),
        "sessions: page 1": ("/api/public/sessions", lambda r: {"limit": 50}),
        "session: 20 traces": ("/api/public/sessions/s-17", lambda r: {}),
    }


def notebook_calls(traces: int) -> dict[str, tuple[str, Params]]:
    calls = read_calls(traces)
    return {
        "trace list page (limit 20)": ("/api/public/traces", lambda r: {"limit": 20}),
        "errors-only probe": calls["traces: errorCount > 0, core (notebook)"],
        "single trace": calls["trace: 2 observations"],
        "inline view fetch (1,000 observations)": calls["trace: 1,000 observations"],
        "traces_df page (1,000 rows)": calls["traces: traces_df page (1,000 rows, all fields)"],
    }


def _timed(http: httpx.Client, path: str, params: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = http.get(path, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def server_cpu_ns(pid: int) -> int:
    """CPU time (ns) of every thread of a server process so far, from the scheduler's own accounting.

    On this shared 2-core VM wall times of the same call swing 2x with the other engineers' load; the CPU a
    call costs the server moves far less. Linux only (0 elsewhere, and the CPU columns are then left out).
    """
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as stats:
                total += int(stats.read().split()[0])
    except (OSError, ValueError, IndexError):  # no /proc, or a thread ended while being read
        return 0
    return total


def _timed_cpu(http: httpx.Client, pid: int, path: str, params: dict[str, Any]) -> tuple[float, float]:
    """Wall ms of one call and the server's CPU ms spent meanwhile."""
    before = server_cpu_ns(pid)
    wall = _timed(http, path, params)
    return wall, (server_cpu_ns(pid) - before) / 1e6


_BUMP = {
    "batch": [
        {
            "id": "bench-bump",
            "type": "trace-create",
            "timestamp": "2020-01-01T00:00:00.000Z",
            "body": {"id": "bench-bump", "timestamp": "2020-01-01T00:00:00.000Z"},
        }
    ]
}


def _bump(http: httpx.Client) -> None:
    """One tiny committed write (the same old trace again), so no round reuses a remembered count."""
    http.post("/api/public/ingestion", json=_BUMP).raise_for_status()


Samples = dict[str, list[tuple[float, float]]]  # call name -> (wall ms, server CPU ms) per round


def measure(http: httpx.Client, pid: int, calls: dict[str, tuple[str, Params]], rounds: int) -> Samples:
    """Interleaved rounds: each round calls every endpoint once, so load drifts hit all alike."""
    for path, params in calls.values():
        http.get(path, params=params(-1)).raise_for_status()  # warm the page cache and the plans
    samples: Samples = {name: [] for name in calls}
    for r in range(rounds):
        _bump(http)
        for name, (path, params) in calls.items():
            samples[name].append(_timed_cpu(http, pid, path, params(r)))
    return samples


Server = tuple[httpx.Client, int]  # a client of a server, and the server's process id


def measure_paired(
    ours: Server, base: Server, calls: dict[str, tuple[str, Params]], rounds: int
) -> dict[str, dict[str, float]]:
    """Each call on this checkout's server then on the baseline's, round after round: paired ratios."""
    for path, params in calls.values():
        for http, _ in (ours, base):
            http.get(path, params=params(-1)).raise_for_status()
    pairs: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {name: [] for name in calls}
    for r in range(rounds):
        _bump(ours[0])
        for name, (path, params) in calls.items():
            first, second = (ours, base) if r % 2 == 0 else (base, ours)  # alternate who goes first
            a = _timed_cpu(first[0], first[1], path, params(r))
            b = _timed_cpu(second[0], second[1], path, params(r))
            pairs[name].append((a, b) if first is ours else (b, a))
    return {name: _paired_summary(values) for name, values in pairs.items()}


def _paired_summary(values: list[tuple[tuple[float, float], tuple[float, float]]]) -> dict[str, float]:
    out = {
        "ours_p50_ms": round(statistics.median(a[0] for a, _ in values), 2),
        "baseline_p50_ms": round(statistics.median(b[0] for _, b in values), 2),
        "paired_ratio_median": round(statistics.median(a[0] / b[0] for a, b in values), 3),
    }
    if all(a[1] > 0 and b[1] > 0 for a, b in values):
        out["ours_server_cpu_p50_ms"] = round(statistics.median(a[1] for a, _ in values), 2)
        out["baseline_server_cpu_p50_ms"] = round(statistics.median(b[1] for _, b in values), 2)
        out["paired_cpu_ratio_median"] = round(statistics.median(a[1] / b[1] for a, b in values), 3)
    return out


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(samples: Samples, floor: str | None = None) -> dict[str, dict[str, float]]:
    base = statistics.median(wall for wall, _ in samples[floor]) if floor else None
    out = {}
    for name, values in samples.items():
        walls = [wall for wall, _ in values]
        entry = {"p50_ms": round(statistics.median(walls), 2), "p99_ms": round(_p(walls, 0.99), 2)}
        if base:
            entry["x_floor"] = round(entry["p50_ms"] / base, 1)
        if all(cpu > 0 for _, cpu in values):
            entry["server_cpu_p50_ms"] = round(statistics.median(cpu for _, cpu in values), 2)
        out[name] = entry
    return out


# ---- reads while ingesting -------------------------------------------------------------------------------


def _ingest_forever(url: str, stop: Any, sent: Any, senders: int = 2) -> None:
    """Child process: post OTLP batches of new traces over ``senders`` connections until told to stop.

    Each batch is built just before it is sent (200 new traces x 3 spans: every span is a new row, as
    when a notebook traces an evaluation); ``sent`` counts the spans of batches answered 200.
    """
    import threading

    first = 50_000_000 + os.getpid() * 1_000_000

    def worker(offset: int) -> None:
        with httpx.Client(base_url=url, auth=AUTH, timeout=60) as http:
            i = offset
            while not stop.is_set():
                body = build_batch(first + i * 200, 200, 3, BIG_TRACE_START_NS)
                response = http.post("/api/public/otel/v1/traces", content=body, headers=PROTOBUF)
                if response.status_code == 200:
                    with sent.get_lock():
                        sent.value += 600
                i += senders

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def during_ingest(
    url: str, calls: dict[str, tuple[str, Params]], seconds: float, phases: int
) -> dict[str, Any]:
    """Alternating quiet / ingesting phases of ``seconds`` each; samples of each kind pooled."""
    quiet: Samples = {name: [] for name in calls}
    busy: Samples = {name: [] for name in calls}
    rates = []
    ctx = multiprocessing.get_context("spawn")
    with httpx.Client(base_url=url, auth=AUTH, timeout=60) as http:
        for path, params in calls.values():
            http.get(path, params=params(-1)).raise_for_status()
        for _ in range(phases):
            _sample_for(http, calls, seconds, quiet)
            stop, sent = ctx.Event(), ctx.Value("q", 0)
            child = ctx.Process(target=_ingest_forever, args=(url, stop, sent), daemon=True)
            child.start()
            time.sleep(2.0)  # let the sender reach full speed
            before, started = sent.value, time.perf_counter()
            _sample_for(http, calls, seconds, busy)
            rates.append((sent.value - before) / (time.perf_counter() - started))
            stop.set()
            child.join(timeout=60)
    return {
        "quiet": summary(quiet),
        "ingesting": summary(busy),
        "p99_ratio_ingesting_to_quiet": {
            name: round(_p([w for w, _ in busy[name]], 0.99) / _p([w for w, _ in quiet[name]], 0.99), 2)
            for name in calls
        },
        "ingest_spans_per_second_while_reading": [round(r) for r in rates],
    }


def _sample_for(
    http: httpx.Client, calls: dict[str, tuple[str, Params]], seconds: float, into: Samples
) -> None:
    # wall time only: while ingesting, the server's CPU is mostly the ingest's
    deadline, r = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        for name, (path, params) in calls.items():
            into[name].append((_timed(http, path, params(r)), 0.0))
        r += 1


# ---- main ---------------------------------------------------------------------------------------------


def _database(traces: int, rebuild: bool) -> tuple[Path, dict[str, Any]]:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"reads-{traces}.db"
    if path.exists() and not rebuild:
        return path, {"build": "reused"}
    for stale in RESULTS.glob(f"reads-{traces}.db*"):
        stale.unlink()
    print(f"building {traces:,} traces at {path} ...", flush=True)
    return path, build_database(path, traces)


# the ingesting phase's trace numbers start here (_ingest_forever); every built trace is below it
_INGESTED_FROM = f"{50_000_000:032x}"


def drop_ingested(path: Path) -> int:
    """Delete the traces an ingesting phase added, so that the reused file keeps its ``--traces`` traces.

    Without this, every run grew the "1M" database (1.33M traces after a day of runs), and filters that
    match a share of the traces measured a bigger file than they claimed."""
    db = Database(path)
    try:
        with db.write() as conn:
            ids = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM traces WHERE id >= ? AND id != ?", (_INGESTED_FROM, BIG_TRACE)
                )
            ]
            return trace_store.delete(conn, ids)
    finally:
        db.close()


def _add_big_trace(url: str) -> None:
    with httpx.Client(base_url=url, auth=AUTH, timeout=60) as http:
        if http.get(f"/api/public/traces/{BIG_TRACE}").status_code == 200:
            return
        body = build_batch(BIG_N, 1, 1000, BIG_TRACE_START_NS)
        http.post("/api/public/otel/v1/traces", content=body, headers=PROTOBUF).raise_for_status()


def _paired(ours: Server, db: Path, calls: dict[str, tuple[str, Params]], args: Any) -> dict[str, Any]:
    port = _free_port()
    baseline = start_server(db, port, root=args.baseline_root)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=AUTH, timeout=120) as base:
            paired = measure_paired(ours, (base, baseline.pid), calls, args.rounds)
            return {"baseline_root": str(args.baseline_root), **paired}
    finally:
        baseline.send_signal(2)
        baseline.wait(timeout=60)


def _commit() -> str:
    command = ["git", "rev-parse", "--short", "HEAD"]
    found = subprocess.run(command, capture_output=True, text=True, check=False, cwd=Path(__file__).parent)
    return found.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--ingest-seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--phases", type=int, default=2, help="quiet/ingesting phase pairs")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--db", type=Path, help="measure this database file (e.g. a copy) instead of results/reads-N.db"
    )
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--only", default="", help="measure only calls whose name contains this")
    parser.add_argument(
        "--baseline-root", type=Path, help="also serve the database from this checkout and pair every call"
    )
    parser.add_argument(
        "--server-root",
        type=Path,
        help="serve from this checkout instead of this one (e.g. a worktree of an older commit, to run the "
        "during-ingest phases of both in turn)",
    )
    args = parser.parse_args()
    results: dict[str, Any] = {
        "traces": args.traces,
        "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": _commit(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "load_average_start": os.getloadavg(),
    }
    if args.db:  # an existing file, used as it is (the ingesting phase's traces are dropped after)
        path, results["build"] = args.db, {"build": f"given: {args.db}"}
    else:
        path, results["build"] = _database(args.traces, args.rebuild)
    port = _free_port()
    server = start_server(path, port, **({"root": args.server_root} if args.server_root else {}))
    results["server_root"] = str(args.server_root or "this checkout")
    url = f"http://127.0.0.1:{port}"
    try:
        _add_big_trace(url)
        calls = {k: v for k, v in read_calls(args.traces).items() if args.only in k or k.startswith("floor")}
        with httpx.Client(base_url=url, auth=AUTH, timeout=120) as http:
            results["reads"] = summary(measure(http, server.pid, calls, args.rounds), floor="floor: health")
            if args.baseline_root:
                results["paired_with_baseline"] = _paired((http, server.pid), path, calls, args)
        results["load_average_after_reads"] = os.getloadavg()
        if not args.skip_ingest:
            results["during_ingest"] = during_ingest(
                url, notebook_calls(args.traces), args.ingest_seconds, args.phases
            )
            results["load_average_after_ingest"] = os.getloadavg()
    finally:
        server.send_signal(2)
        server.wait(timeout=60)
    results["ingested_traces_dropped"] = drop_ingested(path)
    text = json.dumps(results, indent=2)
    print(text)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"bench_server_reads-{stamp}.json").write_text(text)


if __name__ == "__main__":
    main()
