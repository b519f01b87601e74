"""Benchmarks for the embedded server (numbers for the README, not timed tests).

Runs the server as its own process (``python -m langfuse_nb serve``) on a temporary database and measures:
1. sustained OTLP ingest (pre-built protobuf batches from this client process, several connections),
   then checks that every span arrived;
2. trace list with a filter at >= 100,000 stored traces (median of repeated requests);
3. get one trace with 1,000 observations (median);
4. database size per 100,000 spans.

Usage: python benchmarks/bench_server.py [--traces 100000] [--spans-per-trace 3] [--senders 2]
"""

from __future__ import annotations

import argparse
import json
import os
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


def build_batch(first_trace: int, traces: int, spans_per_trace: int, start_ns: int) -> bytes:
    """SDK-shaped spans: a root with trace attributes, children as generations with usage and model."""
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
                "langfuse.observation.input": '{"question": "why?"}',
                "langfuse.observation.output": "because",
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
                    "langfuse.observation.input": '[{"role": "user", "content": "why?"}]',
                    "langfuse.observation.output": "because",
                    "user.id": f"user-{n % 1000}",
                },
            )
    return request.SerializeToString()


def start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "langfuse_nb", "serve", "--port", str(port), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/public/health", timeout=0.5).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def cpu_seconds(pid: int) -> float | None:
    """User+system CPU time of a process (Linux /proc), to report capacity independent of other load."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--spans-per-trace", type=int, default=3)
    parser.add_argument("--batch-traces", type=int, default=200, help="traces per OTLP request")
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--port", type=int, default=39391)
    parser.add_argument("--keep-db", action="store_true", help="leave the database for inspection")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lfnb-bench-"))
    db = workdir / "bench.db"
    url = f"http://127.0.0.1:{args.port}"
    start_ns = 1_700_000_000_000_000_000
    batches = [
        build_batch(first, min(args.batch_traces, args.traces - first), args.spans_per_trace, start_ns)
        for first in range(0, args.traces, args.batch_traces)
    ]
    total_spans = args.traces * args.spans_per_trace
    server = start_server(db, args.port)
    results: dict[str, object] = {
        "traces": args.traces,
        "spans": total_spans,
        "spans_per_request": args.batch_traces * args.spans_per_trace,
    }
    try:
        cpu_before = cpu_seconds(server.pid)
        load_before = os.getloadavg()[0]
        elapsed = ingest(url, batches, args.senders)
        cpu_after = cpu_seconds(server.pid)
        results["ingest_seconds"] = round(elapsed, 2)
        results["ingest_spans_per_second"] = round(total_spans / elapsed)
        results["load_average_at_start"] = round(load_before, 2)
        if cpu_before is not None and cpu_after is not None:
            results["server_cpu_seconds"] = round(cpu_after - cpu_before, 2)
            results["spans_per_server_cpu_second"] = round(total_spans / (cpu_after - cpu_before))
        with httpx.Client(base_url=url, auth=AUTH, timeout=60) as http:
            stored_traces = http.get("/api/public/traces", params={"limit": 1}).json()["meta"]["totalItems"]
            stored_obs = http.get("/api/public/observations", params={"limit": 1}).json()["meta"][
                "totalItems"
            ]
            results["lost_spans"] = total_spans - stored_obs
            results["lost_traces"] = args.traces - stored_traces
            results["trace_list_userId_filter_median_ms"] = round(
                median_ms(http, "/api/public/traces", {"userId": "user-17", "limit": 50}, 50), 2
            )
            results["trace_list_tags_filter_median_ms"] = round(
                median_ms(http, "/api/public/traces", {"tags": "t3", "limit": 50}, 50), 2
            )
            results["trace_list_filter_json_median_ms"] = round(
                median_ms(
                    http,
                    "/api/public/traces",
                    {
                        "filter": json.dumps(
                            [{"type": "string", "column": "sessionId", "operator": "=", "value": "s-42"}]
                        ),
                        "limit": 50,
                    },
                    50,
                ),
                2,
            )
            results["trace_list_unfiltered_median_ms"] = round(
                median_ms(http, "/api/public/traces", {"limit": 50}, 50), 2
            )
            big = build_batch(10**9, 1, 1000, start_ns)
            http.post("/api/public/otel/v1/traces", content=big, headers=PROTOBUF).raise_for_status()
            big_id = (10**9).to_bytes(16, "big").hex()
            observations = len(http.get(f"/api/public/traces/{big_id}").json()["observations"])
            results["big_trace_observations"] = observations
            results["get_trace_1000_observations_median_ms"] = round(
                median_ms(http, f"/api/public/traces/{big_id}", {}, 20), 2
            )
    finally:
        server.send_signal(2)
        server.wait(timeout=30)
    size = sum(p.stat().st_size for p in workdir.glob("bench.db*"))
    results["db_bytes"] = size
    results["db_mb_per_100k_spans"] = round(size / (total_spans + 1000) * 100_000 / 1e6, 1)
    print(json.dumps(results, indent=2))
    if args.keep_db:
        print(f"database kept at {db}")
        return
    for path in workdir.glob("*"):
        path.unlink()
    os.rmdir(workdir)


if __name__ == "__main__":
    main()
