"""Benchmarks for the embedded server (numbers for the README, not timed tests).

Runs the server as its own process (``python -m langfuse_nb serve``) on a temporary database and measures:
1. sustained OTLP ingest (pre-built protobuf batches from this client process, several connections),
   then checks that every span arrived;
2. trace list with a filter at >= 100,000 stored traces (median of repeated requests);
3. get one trace with 1,000 observations (median);
4. database size per 100,000 spans.

With ``--stages``: no server; the ingest code itself, run in one process per package on the same batches,
reports CPU microseconds per span of each stage (decode, map, store), the store's SQLite statements apart
(paired with ``--compare-root`` like the server runs).

5. with ``--io-bytes N``: the storage ratio for SDK-shaped spans carrying about N bytes of JSON input and N of
   output each (database bytes / raw input+output bytes; issue 15 asks for at most 2x at ~1 KB).

Usage: python benchmarks/bench_server.py [--traces 100000] [--spans-per-trace 3] [--io-bytes 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

AUTH = ("pk-lf-local", "sk-lf-local")
PROTOBUF = {"content-type": "application/x-protobuf"}


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, list):
        any_value = AnyValue()
        any_value.array_value.values.extend(AnyValue(string_value=v) for v in value)
        return KeyValue(key=key, value=any_value)
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def _add_span(
    scope_spans,
    trace_id: bytes,
    span_id: bytes,
    parent: bytes | None,
    name: str,
    start: int,
    attributes: dict[str, object],
) -> None:
    span = scope_spans.spans.add()
    span.trace_id, span.span_id, span.name = trace_id, span_id, name
    if parent:
        span.parent_span_id = parent
    span.start_time_unix_nano, span.end_time_unix_nano = start, start + 1_500_000
    span.attributes.extend(_kv(k, v) for k, v in attributes.items())


# English prose for the storage-ratio run: this repository's manual, cut at seeded offsets. Chat messages
# compress about like prose; a small repeated vocabulary would flatter compression.
_PROSE = " ".join(
    " ".join(p.read_text(encoding="utf-8").split())
    for p in sorted((Path(__file__).parent.parent / "docs").glob("*.md"))
)


def io_text(size: int, seed: int, shape: str) -> str:
    """About ``size`` bytes of JSON text (a chat message list or an assistant message) holding prose."""
    rng = random.Random(seed)
    start = rng.randrange(0, max(1, len(_PROSE) - size))
    if shape == "input":
        system = {"role": "system", "content": "You answer briefly."}
        text = _PROSE[start : start + max(0, size - 90)]
        return json.dumps([system, {"role": "user", "content": text}])
    return json.dumps({"role": "assistant", "content": _PROSE[start : start + max(0, size - 40)]})


def build_batch(
    first_trace: int, traces: int, spans_per_trace: int, start_ns: int, io_bytes: int = 0
) -> bytes:
    """SDK-shaped spans: a root with trace attributes, children as generations with usage and model.

    With ``io_bytes``, every span's input and output are JSON of about that size (else short literals)."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(
        [_kv("service.name", "bench"), _kv("telemetry.sdk.language", "python")]
    )
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name, scope_spans.scope.version = "langfuse-sdk", "3.11.2"
    scope_spans.scope.attributes.append(_kv("public_key", AUTH[0]))
    for n in range(first_trace, first_trace + traces):
        trace_id = n.to_bytes(16, "big")
        root = (n << 8).to_bytes(8, "big")
        at = start_ns + n * 1_000_000
        big_in = io_text(io_bytes, n, "input") if io_bytes else '{"question": "why?"}'
        big_out = io_text(io_bytes, -n - 1, "output") if io_bytes else "because"
        _add_span(
            scope_spans,
            trace_id,
            root,
            None,
            "handle-request",
            at,
            {
                "langfuse.observation.type": "span",
                "user.id": f"user-{n % 1000}",
                "session.id": f"s-{n % 5000}",
                "langfuse.trace.tags": ["bench", f"t{n % 10}"],
                "langfuse.observation.input": big_in,
                "langfuse.observation.output": big_out,
                "langfuse.observation.metadata.step": n % 7,
            },
        )
        for child in range(1, spans_per_trace):
            _add_span(
                scope_spans,
                trace_id,
                ((n << 8) + child).to_bytes(8, "big"),
                root,
                "llm",
                at + child,
                {
                    "langfuse.observation.type": "generation",
                    "langfuse.observation.model.name": "gpt-4o",
                    "langfuse.observation.usage_details": '{"input": 12, "output": 30}',
                    "langfuse.observation.cost_details": '{"total": 0.0004}',
                    "langfuse.observation.input": (
                        io_text(io_bytes, n * 31 + child, "input")
                        if io_bytes
                        else '[{"role": "user", "content": "why?"}]'
                    ),
                    "langfuse.observation.output": (
                        io_text(io_bytes, -n * 31 - child, "output") if io_bytes else "because"
                    ),
                    "user.id": f"user-{n % 1000}",
                },
            )
    return request.SerializeToString()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


REPO = Path(__file__).resolve().parent.parent


def start_server(db: Path, port: int, root: Path = REPO) -> subprocess.Popen[bytes]:
    """``langfuse_nb serve`` of the package under ``root`` (this checkout, or an older one to compare)."""
    log = (db.parent / "server.log").open("wb")  # kept next to the database: why a start failed
    env = {**os.environ, "PYTHONPATH": str(root)}
    if INGEST_WORKERS is not None:  # this checkout's ingest worker processes (older ones ignore it)
        env["LANGFUSE_NB_INGEST_WORKERS"] = str(INGEST_WORKERS)
    process = subprocess.Popen(
        [sys.executable, "-m", "langfuse_nb", "serve", "--port", str(port), "--db", str(db)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/public/health", timeout=0.5).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start; see {db.parent / 'server.log'}")


def cpu_seconds(pid: int) -> float | None:
    """User+system CPU time (Linux /proc) of a server process and its children (the ingest workers), to
    report capacity independent of other load. Children that ended and were waited for count through the
    server's cutime/cstime; running ones through their own /proc entries."""
    fields = _stat(pid)
    if fields is None:
        return None
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    for child in _children(pid):
        found = _stat(child)
        ticks += sum(int(f) for f in found[11:13]) if found else 0
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def ingest(url: str, batches: list[bytes], senders: int) -> float:
    """Send all batches over ``senders`` keep-alive connections; returns elapsed seconds."""
    queue = list(reversed(batches))
    lock = threading.Lock()
    failures: list[str] = []

    def worker() -> None:
        with httpx.Client(base_url=url, auth=AUTH, timeout=60) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                response = http.post("/api/public/otel/v1/traces", content=body, headers=PROTOBUF)
                if response.status_code != 200:
                    failures.append(response.text)

    threads = [threading.Thread(target=worker) for _ in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} batches failed: {failures[0][:200]}")
    return time.perf_counter() - started


def median_ms(http: httpx.Client, path: str, params: dict[str, object], repeat: int) -> float:
    http.get(path, params=params).raise_for_status()  # warm caches
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        http.get(path, params=params).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def io_bytes_of(batches: list[bytes]) -> int:
    """Raw bytes of every span's input and output attribute values, as the client sent them."""
    total = 0
    for body in batches:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    for kv in span.attributes:
                        if kv.key in ("langfuse.observation.input", "langfuse.observation.output"):
                            total += len(kv.value.string_value.encode())
    return total


def ingest_via_reference_sdk(url: str, args: argparse.Namespace) -> tuple[float, int]:
    """Traces made by the reference SDK in a fresh process (it keeps one client per key for the life of a
    process, so a second run in this one would reuse a shut-down exporter); returns (seconds, raw bytes)."""
    command = [sys.executable, __file__, "--sdk-worker", url, str(args.traces), str(args.spans_per_trace)]
    done = subprocess.run([*command, str(args.io_bytes)], capture_output=True, text=True, check=True)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return float(answer["seconds"]), int(answer["raw"])


def sdk_worker(url: str, traces: int, spans_per_trace: int, io_bytes: int) -> None:
    """Send ``traces`` traces with the reference SDK (``langfuse`` 3.11.2, the test-only oracle)."""
    from langfuse import Langfuse

    client = Langfuse(public_key=AUTH[0], secret_key=AUTH[1], host=url, flush_at=500)
    raw = 0
    started = time.perf_counter()
    for n in range(traces):
        question, answer = io_text(io_bytes, n, "input"), io_text(io_bytes, -n - 1, "output")
        raw += len(question.encode()) + len(answer.encode())
        with client.start_as_current_span(name="handle-request", input=question, output=answer):
            for child in range(1, spans_per_trace):
                given = io_text(io_bytes, n * 31 + child, "input")
                said = io_text(io_bytes, -n * 31 - child, "output")
                raw += len(given.encode()) + len(said.encode())
                with client.start_as_current_generation(
                    name="llm", model="gpt-4o", input=given, output=said, usage_details={"input": 12}
                ):
                    pass
    client.flush()
    client.shutdown()
    print(json.dumps({"seconds": time.perf_counter() - started, "raw": raw}))


def measure_reads(http: httpx.Client, start_ns: int, results: dict[str, object]) -> None:
    results["trace_list_userId_filter_median_ms"] = round(
        median_ms(http, "/api/public/traces", {"userId": "user-17", "limit": 50}, 50), 2
    )
    results["trace_list_tags_filter_median_ms"] = round(
        median_ms(http, "/api/public/traces", {"tags": "t3", "limit": 50}, 50), 2
    )
    session_filter = [{"type": "string", "column": "sessionId", "operator": "=", "value": "s-42"}]
    results["trace_list_filter_json_median_ms"] = round(
        median_ms(http, "/api/public/traces", {"filter": json.dumps(session_filter), "limit": 50}, 50), 2
    )
    results["trace_list_unfiltered_median_ms"] = round(
        median_ms(http, "/api/public/traces", {"limit": 50}, 50), 2
    )
    big = build_batch(10**9, 1, 1000, start_ns)
    http.post("/api/public/otel/v1/traces", content=big, headers=PROTOBUF).raise_for_status()
    big_id = (10**9).to_bytes(16, "big").hex()
    results["big_trace_observations"] = len(http.get(f"/api/public/traces/{big_id}").json()["observations"])
    results["get_trace_1000_observations_median_ms"] = round(
        median_ms(http, f"/api/public/traces/{big_id}", {}, 20), 2
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--spans-per-trace", type=int, default=3)
    parser.add_argument("--batch-traces", type=int, default=200, help="traces per OTLP request")
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument(
        "--ingest-workers", type=int, default=None, help="server ingest processes (default: the server's)"
    )
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--io-bytes", type=int, default=0, help="JSON input and output bytes per span")
    parser.add_argument("--keep-db", action="store_true", help="leave the database for inspection")
    parser.add_argument(
        "--compare-root",
        type=Path,
        help="a directory holding another langfuse_nb package (e.g. `git archive` of an older commit): "
        "ingest and size are measured for both, alternating, and reported as paired ratios",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds per package with --compare-root")
    parser.add_argument(
        "--stages", action="store_true", help="CPU per span of decode / map / store, in process (no server)"
    )
    parser.add_argument(
        "--via-reference-sdk",
        action="store_true",
        help="with --io-bytes: send through the real langfuse SDK (a span and generations per trace)",
    )
    return parser.parse_args()


def run_once(args: argparse.Namespace, batches: list[bytes], root: Path = REPO) -> dict[str, object]:
    """One server on a fresh database: ingest every batch, count what arrived, read, measure the file."""
    workdir = Path(tempfile.mkdtemp(prefix="lfnb-bench-"))
    db = workdir / "bench.db"
    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}"
    total_spans = args.traces * args.spans_per_trace
    server = start_server(db, port, root)
    results: dict[str, object] = {
        "package": str(root),
        "traces": args.traces,
        "spans": total_spans,
        "spans_per_request": args.batch_traces * args.spans_per_trace,
        "io_bytes_per_span_field": args.io_bytes,
    }
    try:
        cpu_before = cpu_seconds(server.pid)
        results["load_average_at_start"] = round(os.getloadavg()[0], 2)
        if args.via_reference_sdk:
            elapsed, raw_io = ingest_via_reference_sdk(url, args)
        else:
            elapsed, raw_io = ingest(url, batches, args.senders), 0
        cpu_after = cpu_seconds(server.pid)
        results["ingest_seconds"] = round(elapsed, 2)
        results["ingest_spans_per_second"] = round(total_spans / elapsed)
        if cpu_before is not None and cpu_after is not None:
            results["server_cpu_seconds"] = round(cpu_after - cpu_before, 2)
            results["spans_per_server_cpu_second"] = round(total_spans / max(cpu_after - cpu_before, 1e-9))
        with httpx.Client(base_url=url, auth=AUTH, timeout=60) as http:
            stored_traces = http.get("/api/public/traces", params={"limit": 1}).json()["meta"]["totalItems"]
            stored_obs = http.get("/api/public/observations", params={"limit": 1}).json()["meta"][
                "totalItems"
            ]
            results["lost_spans"] = total_spans - stored_obs
            results["lost_traces"] = args.traces - stored_traces
            if not args.io_bytes and not args.compare_root:  # size and ingest only in those runs
                measure_reads(http, START_NS, results)
    finally:
        server.send_signal(2)
        server.wait(timeout=30)
    size = sum(p.stat().st_size for p in workdir.glob("bench.db*"))
    results["db_bytes"] = size
    stored_spans = total_spans + (1000 if "big_trace_observations" in results else 0)
    results["db_mb_per_100k_spans"] = round(size / stored_spans * 100_000 / 1e6, 1)
    if args.io_bytes:
        raw = raw_io or io_bytes_of(batches)
        results["raw_io_bytes"] = raw
        results["db_bytes_per_raw_io_byte"] = round(size / raw, 2)
    results["load_average_at_end"] = round(os.getloadavg()[0], 2)
    if args.keep_db:
        results["kept_database"] = str(db)
    else:
        shutil.rmtree(workdir)  # the server also made a media directory there
    return results


START_NS = 1_700_000_000_000_000_000


def compare(args: argparse.Namespace, batches: list[bytes]) -> dict[str, object]:
    """Interleaved rounds (order alternating) of this checkout and --compare-root; paired ratios."""
    runs: dict[str, list[dict[str, object]]] = {"this": [], "other": []}
    for number in range(args.rounds):
        order = [("this", REPO), ("other", args.compare_root)]
        for name, root in order if number % 2 == 0 else reversed(order):
            runs[name].append(run_once(args, batches, root))
            print(name, json.dumps(runs[name][-1]), flush=True)
    summary: dict[str, object] = {"rounds": args.rounds}
    for key in ("spans_per_server_cpu_second", "ingest_spans_per_second", "db_bytes", "lost_spans"):
        mine = [float(str(r.get(key, "nan"))) for r in runs["this"]]
        other = [float(str(r.get(key, "nan"))) for r in runs["other"]]
        ratios = [a / b for a, b in zip(mine, other, strict=True) if b]
        summary[key] = {
            "this_median": statistics.median(mine),
            "other_median": statistics.median(other),
            "paired_ratio_median": round(statistics.median(ratios), 3) if ratios else None,
        }
    return {"summary": summary, "runs": runs}


# The stage run: one process per package (its own langfuse_nb on sys.path), batches read from a file.
_STAGE_SCRIPT = r"""
import json, pickle, sys, tempfile, time
from pathlib import Path
from langfuse_nb.server.otlp import decode_request
from langfuse_nb.server.spans import map_groups
from langfuse_nb.server.store import ingest
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache

batches = pickle.loads(Path(sys.argv[1]).read_bytes())
sql = [0.0]

class Timed:  # the writer connection, with the time spent inside SQLite statements added up
    def __init__(self, conn): self._conn = conn
    def __getattr__(self, name): return getattr(self._conn, name)
    def execute(self, *args):
        start = time.process_time()
        try: return self._conn.execute(*args)
        finally: sql[0] += time.process_time() - start
    def executemany(self, *args):
        start = time.process_time()
        try: return self._conn.executemany(*args)
        finally: sql[0] += time.process_time() - start

with tempfile.TemporaryDirectory() as tmp:
    db, blobs = Database(Path(tmp) / "stages.db"), BlobCache()
    db._writer = Timed(db._writer)
    spans = decode = mapping = store = 0.0
    for body in batches:
        t0 = time.process_time()
        groups = decode_request(body, "application/x-protobuf", [])
        t1 = time.process_time()
        observations, traces = map_groups(groups)
        t2 = time.process_time()
        ingest.write(db, blobs, trace_updates=traces, observation_rows=observations)
        t3 = time.process_time()
        decode, mapping, store = decode + t1 - t0, mapping + t2 - t1, store + t3 - t2
        spans += len(observations)
    db.close()
us = lambda seconds: round(seconds / spans * 1e6, 2)
print(json.dumps({"decode_us": us(decode), "map_us": us(mapping), "store_us": us(store),
                  "store_sqlite_us": us(sql[0]), "store_python_us": us(store - sql[0]),
                  "total_us": us(decode + mapping + store)}))
"""


def stages(args: argparse.Namespace, batches: list[bytes]) -> dict[str, object]:
    """CPU per span of each ingest stage, in one process per package, rounds interleaved."""
    roots = [("this", REPO)] + ([("other", args.compare_root)] if args.compare_root else [])
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in roots}
    with tempfile.NamedTemporaryFile(suffix=".pickle") as data:
        data.write(pickle.dumps(batches))
        data.flush()
        for number in range(args.rounds):
            for name, root in roots if number % 2 == 0 else list(reversed(roots)):
                env = {**os.environ, "PYTHONPATH": str(root)}
                out = subprocess.run(
                    [sys.executable, "-c", _STAGE_SCRIPT, data.name],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=tempfile.gettempdir(),  # not this checkout: PYTHONPATH decides the package
                )
                runs[name].append({**json.loads(out.stdout), "load_average": os.getloadavg()[0]})
                print(name, json.dumps(runs[name][-1]), flush=True)
    summary: dict[str, object] = {"rounds": args.rounds}
    for key in runs["this"][0]:
        mine = [r[key] for r in runs["this"]]
        entry: dict[str, object] = {"this_median": statistics.median(mine)}
        if "other" in runs and key != "load_average":
            other = [r[key] for r in runs["other"]]
            entry["other_median"] = statistics.median(other)
            entry["paired_ratio_median"] = round(
                statistics.median(a / b for a, b in zip(mine, other, strict=True) if b), 3
            )
        summary[key] = entry
    return {"summary": summary, "runs": runs}


INGEST_WORKERS: int | None = None


def main() -> None:
    global INGEST_WORKERS
    args = parse_args()
    INGEST_WORKERS = args.ingest_workers
    batches = [
        build_batch(
            first, min(args.batch_traces, args.traces - first), args.spans_per_trace, START_NS, args.io_bytes
        )
        for first in range(0, args.traces, args.batch_traces)
    ]
    if args.stages:
        results = stages(args, batches)
    else:
        results = compare(args, batches) if args.compare_root else run_once(args, batches)
    print(json.dumps(results.get("summary", results), indent=2))
    save(results)


def save(results: dict[str, object]) -> None:
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (out / f"bench_server-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--sdk-worker"]:
        sdk_worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
