"""Tracing benchmarks: langfuse_nb vs the reference SDK (langfuse 3.11.2) vs bare OpenTelemetry.

Run:  python benchmarks/bench_tracing.py [--rounds 3] [--spans 50000] [--outage-spans 50000] [--save FILE]

Creates benchmarks/.venv-ref with langfuse==3.11.2 on first use (reused afterwards), starts the
counting sink (benchmarks/_sink.py) as its own process and measures every implementation in fresh
subprocesses, interleaved round by round. Per-call numbers are caller-thread CPU (time.thread_time),
so background export work is excluded; the burst test reports wall time, lost spans and peak RSS.
The server-down test makes a burst against a port nothing listens on, then starts a sink there and
flushes: spans lost, peak RSS, and the time from the sink's start to the end of the flush.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REF_VENV = HERE / ".venv-ref"
IMPLS = ("nb", "ref", "otel")
PK, SK = "pk-lf-bench", "sk-lf-bench"


# ---------------------------------------------------------------------------------------------
# worker side: one implementation, one scenario group, results as JSON on stdout
# ---------------------------------------------------------------------------------------------
def _setup(impl: str, url: str, **kwargs: Any) -> tuple[Any, Any, Any]:
    """(client, observe, flush) for an implementation; otel gets an @observe look-alike."""
    if impl in ("nb", "ref"):
        mod = __import__("langfuse_nb" if impl == "nb" else "langfuse")
        client = mod.Langfuse(public_key=PK, secret_key=SK, base_url=url, **kwargs)
        return client, mod.observe, client.flush
    return _bare_otel(url)


def _bare_otel(url: str) -> tuple[Any, Any, Any]:
    """TracerProvider + BatchSpanProcessor + OTLP exporter setting the same attributes by hand."""
    import base64
    import functools

    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    auth = "Basic " + base64.b64encode(f"{PK}:{SK}".encode()).decode()
    exporter = OTLPSpanExporter(
        endpoint=f"{url}/api/public/otel/v1/traces",
        timeout=5,
        headers={"Authorization": auth, "x-langfuse-public-key": PK},
    )
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("langfuse-sdk", "3.11.2", attributes={"public_key": PK})

    def observe(fn: Any = None, **_: Any) -> Any:
        def deco(f: Any) -> Any:
            @functools.wraps(f)
            def wrapper(*args: Any, **kw: Any) -> Any:
                with tracer.start_as_current_span(f.__name__) as span:
                    payload = json.dumps({"args": args, "kwargs": kw})
                    span.set_attributes(
                        {"langfuse.observation.type": "span", "langfuse.observation.input": payload}
                    )
                    result = f(*args, **kw)
                    if result is not None:
                        span.set_attribute(
                            "langfuse.observation.output",
                            result if isinstance(result, str) else json.dumps(result),
                        )
                    return result

            return wrapper

        return deco(fn) if fn is not None else deco

    class Client:
        def __init__(self) -> None:
            self.tracer = tracer

    return Client(), observe, provider.force_flush


def _per_call(fn: Any, n: int, warmup: int = 200) -> float:
    for _ in range(warmup):
        fn()
    start = time.thread_time()
    for _ in range(n):
        fn()
    return (time.thread_time() - start) / n * 1e6


def work_import(impl: str, url: str) -> dict[str, float]:
    start = time.perf_counter()
    if impl == "nb":
        from langfuse_nb import Langfuse, observe  # noqa: F401
    elif impl == "ref":
        from langfuse import Langfuse, observe  # noqa: F401
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: F401
        from opentelemetry.sdk.trace import TracerProvider  # noqa: F401
    return {"import_ms": (time.perf_counter() - start) * 1e3}


def work_micro(impl: str, url: str) -> dict[str, float]:
    work_import(impl, url)  # construction is timed on its own, after the import
    start = time.perf_counter()
    client, observe, flush = _setup(impl, url)
    out = {"construct_ms": (time.perf_counter() - start) * 1e3}
    if impl != "otel":
        get_client = __import__("langfuse_nb" if impl == "nb" else "langfuse").get_client
        out["get_client_us"] = _per_call(get_client, 20_000)

    @observe
    def noop() -> None:
        return None

    out["observe_noop_us"] = _per_call(noop, 3000)
    flush()

    @observe
    def leaf(x: int) -> int:
        return x

    @observe
    def outer() -> int:
        return leaf(1) + leaf(2) + leaf(3)

    out["observe_nested4_us"] = _per_call(outer, 1000)
    flush()
    out["span_generation_us"] = _per_call(lambda: _span_and_generation(impl, client), 1000)
    flush()
    doc = {"docs": [{"id": i, "text": "lorem ipsum " * 80} for i in range(100)]}  # ~100 KB

    @observe
    def big(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    out["payload_100kb_us"] = _per_call(lambda: big(doc), 200, warmup=20)
    flush()
    return out


def _span_and_generation(impl: str, client: Any) -> None:
    if impl == "otel":
        with client.tracer.start_as_current_span("span") as span:
            span.set_attributes({"langfuse.observation.type": "span", "langfuse.observation.input": "q"})
            with client.tracer.start_as_current_span("gen") as gen:
                gen.set_attributes(
                    {
                        "langfuse.observation.type": "generation",
                        "langfuse.observation.model.name": "gpt-4o",
                        "langfuse.observation.usage_details": json.dumps({"input": 10}),
                        "langfuse.observation.output": "answer",
                    }
                )
        return
    with (
        client.start_as_current_observation(name="span", input="q"),
        client.start_as_current_observation(name="gen", as_type="generation", model="gpt-4o") as gen,
    ):
        gen.update(output="answer", usage_details={"input": 10})


def work_disabled(impl: str, url: str) -> dict[str, float]:
    if impl == "otel":
        from opentelemetry.trace import NoOpTracer

        tracer = NoOpTracer()

        def noop() -> None:
            with tracer.start_as_current_span("x"):
                return None

        return {"disabled_us": _per_call(noop, 20_000)}
    _, observe, _ = _setup(impl, url, tracing_enabled=False)

    @observe
    def f() -> None:
        return None

    return {"disabled_us": _per_call(f, 20_000)}


def work_burst(impl: str, url: str, n: int) -> dict[str, float]:
    import resource

    client, _, flush = _setup(impl, url)
    # one span and a flush first, for every implementation: the burst measures delivery, not the one-time
    # set-up of the export path (HTTP client, encoder imports), which bench_cold.py measures
    _one_span(impl, client)
    flush()
    _get(f"{url}/_reset")
    start = time.perf_counter()
    _burst(impl, client, n)
    created = time.perf_counter() - start
    flush()
    total = time.perf_counter() - start
    received = _get(f"{url}/_stats")["spans"]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "burst_create_us": created / n * 1e6,
        "burst_total_s": total,
        "burst_lost": n - received,
        "burst_delivered_per_s": received / total,
        "burst_peak_rss_mb": rss_mb,
    }


def work_outage(impl: str, n: int) -> dict[str, float]:
    """A burst of ``n`` spans while the server is down, then the server starts: what arrives, peak RSS."""
    import resource
    import socket

    with socket.socket() as s:  # a port nothing listens on: every export attempt is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client, _, flush = _setup(impl, f"http://127.0.0.1:{port}")
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    _burst(impl, client, n)
    created = time.perf_counter() - start
    time.sleep(1.0)  # the server stays down a little after the burst
    sink, url = start_sink(port)
    try:
        up = time.perf_counter()
        flush()
        recovered = time.perf_counter() - up
        received = _get(f"{url}/_stats")["spans"]
    finally:
        sink.terminate()
        sink.wait()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "outage_create_us": created / n * 1e6,
        "outage_recover_s": recovered,
        "outage_lost": n - received,
        "outage_peak_rss_mb": peak_mb,
        "outage_rss_growth_mb": peak_mb - before_mb,
    }


def _burst(impl: str, client: Any, n: int) -> None:
    if impl == "otel":
        for _ in range(n):
            client.tracer.start_span("burst").end()
    else:
        for _ in range(n):
            client.start_span(name="burst").end()


def _one_span(impl: str, client: Any) -> None:
    if impl == "otel":
        client.tracer.start_span("warm-up").end()
    else:
        client.start_span(name="warm-up").end()


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def worker_main(argv: list[str]) -> None:
    impl, group, url = argv[:3]
    if group == "burst":
        result = work_burst(impl, url, int(argv[3]))
    elif group == "outage":
        result = work_outage(impl, int(argv[3]))
    else:
        result = {"import": work_import, "micro": work_micro, "disabled": work_disabled}[group](impl, url)
    print("RESULT " + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------------------------
def ensure_ref_python() -> str:
    python = REF_VENV / "bin" / "python"
    if python.exists():
        return str(python)
    print(f"creating {REF_VENV} with langfuse==3.11.2 ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(REF_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "langfuse==3.11.2"], check=True)
        return str(python)
    except subprocess.CalledProcessError:
        print("could not build the reference venv; using this interpreter's langfuse", flush=True)
        return sys.executable


def run_worker(python: str, impl: str, group: str, url: str, *extra: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in [k for k in env if k.startswith(("LANGFUSE_", "OTEL_"))]:
        env.pop(name)
    done = subprocess.run(
        [python, str(Path(__file__)), "--worker", impl, group, url, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=str(ROOT),
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"{impl}/{group} failed:\n{done.stderr[-3000:]}")
    return json.loads(line[len("RESULT ") :])


def start_sink(port: int = 0) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, str(HERE / "_sink.py"), "--port", str(port)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--spans", type=int, default=50_000)
    parser.add_argument("--burst-rounds", type=int, default=1)
    parser.add_argument("--outage-spans", type=int, default=50_000, help="burst while the server is down")
    parser.add_argument("--outage-rounds", type=int, default=1)
    parser.add_argument("--save", help="write every sample and the machine's load as JSON to this file")
    args = parser.parse_args()
    pythons = {"nb": sys.executable, "ref": ensure_ref_python(), "otel": sys.executable}
    sink, url = start_sink()
    results: dict[str, list[dict[str, float]]] = {impl: [] for impl in IMPLS}
    try:
        for r in range(args.rounds):
            for impl in IMPLS:  # interleaved: every round measures all three back to back
                row: dict[str, float] = {}
                for group in ("import", "micro", "disabled"):
                    row.update(run_worker(pythons[impl], impl, group, url))
                if r < args.burst_rounds:
                    row.update(run_worker(pythons[impl], impl, "burst", url, str(args.spans)))
                if r < args.outage_rounds:
                    row.update(run_worker(pythons[impl], impl, "outage", url, str(args.outage_spans)))
                results[impl].append(row)
            print(f"round {r + 1}/{args.rounds} done", flush=True)
    finally:
        sink.terminate()
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (1 min)")
    print_table(results, args.spans, args.outage_spans)
    if args.save:
        _save(args, results)


def _save(args: argparse.Namespace, results: dict[str, list[dict[str, float]]]) -> None:
    out = Path(args.save)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "args": vars(args),
        "loadavg": os.getloadavg(),
        "cpus": os.cpu_count(),
        "python": sys.version,
        "samples": results,
    }
    out.write_text(json.dumps(payload, indent=1))
    print(f"raw samples: {out}")


METRICS = [
    ("import_ms", "import (ms)"),
    ("construct_ms", "client construction (ms)"),
    ("get_client_us", "get_client() (us)"),
    ("observe_noop_us", "no-op @observe call, caller CPU (us)"),
    ("observe_nested4_us", "@observe + 3 nested (us)"),
    ("span_generation_us", "span + generation w/ usage (us)"),
    ("payload_100kb_us", "100KB in + 100KB out call (us)"),
    ("disabled_us", "tracing disabled, per call (us)"),
    ("burst_create_us", "burst: create+end per span, wall (us)"),
    ("burst_total_s", "burst: total until flushed (s)"),
    ("burst_delivered_per_s", "burst: delivered spans/s"),
    ("burst_lost", "burst: spans lost"),
    ("burst_peak_rss_mb", "burst: peak RSS (MB)"),
    ("outage_create_us", "server down: create+end per span, wall (us)"),
    ("outage_recover_s", "server down: server start until flushed (s)"),
    ("outage_lost", "server down: spans lost"),
    ("outage_peak_rss_mb", "server down: peak RSS (MB)"),
    ("outage_rss_growth_mb", "server down: peak RSS growth over the burst (MB)"),
]


def _median(rows: list[dict[str, float]], key: str) -> float | None:
    values = [row[key] for row in rows if key in row]
    return statistics.median(values) if values else None


def _paired(a: list[dict[str, float]], b: list[dict[str, float]], key: str) -> float | None:
    ratios = [x[key] / y[key] for x, y in zip(a, b, strict=False) if key in x and key in y and y[key]]
    return statistics.median(ratios) if ratios else None


def print_table(results: dict[str, list[dict[str, float]]], spans: int, outage_spans: int) -> None:
    def fmt(v: float | None) -> str:
        if v is None:
            return "-"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"

    print(
        f"\n| metric (median of rounds; burst = {spans:,} spans, server down = {outage_spans:,}) "
        "| langfuse_nb | reference | bare OTel "
        "| nb/ref | nb/OTel |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for key, label in METRICS:
        nb, ref, otel = (_median(results[i], key) for i in IMPLS)
        r1 = _paired(results["nb"], results["ref"], key)
        r2 = _paired(results["nb"], results["otel"], key)
        print(f"| {label} | {fmt(nb)} | {fmt(ref)} | {fmt(otel)} | {fmt(r1)} | {fmt(r2)} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2:])
    else:
        main()
