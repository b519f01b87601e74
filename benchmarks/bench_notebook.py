"""Notebook-layer benchmarks: traced-cell overhead, %load_ext with a running server, inline view render,
and the notebook's reads of a 1,000-observation trace.

    python benchmarks/bench_notebook.py [--rounds 300] [--trace-rounds 10] [--only cells|big-trace]

Targets (issue #6): %%langfuse_trace adds <= 1 ms median to a trivial cell (flush excluded, reported
separately); %load_ext with the local server already running < 300 ms; the inline view of a
100-observation trace renders in < 50 ms. Exits 1 when a target is missed.

Big trace (issue 15, a notebook's reads): one trace of 1,000 observations is sent to a local server over
OTLP; then ``client.api.trace.get(id)`` of ours and of the reference SDK (langfuse 3.11.2, run by
``benchmarks/.venv-ref``) fetch it from that same server, each SDK in its own process, in interleaved
rounds (ours first on even rounds); the ratio is the median of the per-round ratios of medians. Ours also
reports what the views do with it: ``trace_records`` (fetch + records, what %langfuse_trace_view and the
trace browser call), the same through the models (``trace_records_from_api(api.trace.get(id))``), the
inline view's render of those records, and the records of a traced cell's 1,000 spans (``from_span``, what
the view after a traced cell draws). With ``--compare-root DIR`` (a checkout or ``git archive`` of an
older commit), that package runs the same cases as a third process in the same rounds ("before").
Raw samples go to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REFERENCE_PYTHON = HERE / ".venv-ref" / "bin" / "python"


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


# One SDK in its own process: reads a round size from stdin, answers with that many samples per case.
TRACE_PROBE = r"""
import json, sys, time
mod, url, pk, sk, trace_id = sys.argv[1:6]
if mod == "langfuse_nb":
    from langfuse_nb import Langfuse
    client = Langfuse(public_key=pk, secret_key=sk, base_url=url)
else:
    from langfuse import Langfuse
    client = Langfuse(public_key=pk, secret_key=sk, host=url, tracing_enabled=False)
cases = {"api.trace.get": lambda: client.api.trace.get(trace_id)}
if mod == "langfuse_nb":
    from langfuse_nb.notebook.commands import trace_records
    from langfuse_nb.views.records import trace_records_from_api
    from langfuse_nb.views.trace import render_trace, summary_text
    records = trace_records(client, trace_id)[0]
    assert len(records) == 1000, len(records)
    cases["trace_records (raw JSON)"] = lambda: trace_records(client, trace_id)
    cases["records via the models"] = lambda: trace_records_from_api(client.api.trace.get(trace_id))
    cases["inline view render"] = lambda: (render_trace(records), summary_text(records))
    from langfuse_nb.tracing.recorder import add_span_listener
    from langfuse_nb.views.records import from_span
    spans = []  # a traced cell of 1,000 observations, as this kernel's recorder keeps them
    add_span_listener(spans.append)
    with client.start_as_current_observation(name="cell"):
        for i in range(999):
            question = [{"role": "user", "content": f"q{i}"}]
            with client.start_as_current_observation(
                name="llm", as_type="generation", model="gpt-4o", input=question,
                usage_details={"input": 12, "output": 30}, cost_details={"total": 0.0004},
            ) as generation:
                generation.update(output="because", metadata={"step": i})
    client.flush()
    assert len(spans) == 1000, len(spans)
    cases["records from this kernel's spans"] = lambda: [from_span(span) for span in spans]
for line in sys.stdin:
    out = {}
    for name, fn in cases.items():
        samples = []
        for _ in range(int(line)):
            started = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - started)
        out[name] = samples
    print(json.dumps(out), flush=True)
"""


def send_big_trace(url: str, auth: tuple[str, str], observations: int = 1000) -> str:
    """One SDK-shaped trace (a root span, generations under it) sent over OTLP; waits until it is stored."""
    import httpx

    sys.path.insert(0, str(HERE))
    from bench_server import PROTOBUF, build_batch

    number = 4242
    body = build_batch(number, 1, observations, 1_700_000_000_000_000_000)
    httpx.post(
        f"{url}/api/public/otel/v1/traces", content=body, headers=PROTOBUF, auth=auth
    ).raise_for_status()
    trace_id = f"{number:032x}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = httpx.get(f"{url}/api/public/traces/{trace_id}", auth=auth)
        if answer.status_code == 200 and len(answer.json()["observations"]) == observations:
            return trace_id
        time.sleep(0.2)
    raise RuntimeError("the big trace was not stored within 30 s")


def bench_big_trace(
    server: Any, rounds: int, per_round: int = 5, compare_root: Path | None = None
) -> dict[str, Any]:
    """Samples (seconds) per SDK and case, rounds interleaved; see the module docstring."""
    trace_id = send_big_trace(server.url, (server.public_key, server.secret_key))
    # label -> (python, module, package root on PYTHONPATH)
    runs = {"langfuse_nb": (sys.executable, "langfuse_nb", HERE.parent)}
    if compare_root is not None:
        runs["before"] = (sys.executable, "langfuse_nb", compare_root.resolve())
    if REFERENCE_PYTHON.exists():
        runs["langfuse"] = (str(REFERENCE_PYTHON), "langfuse", HERE.parent)
    args = [server.url, server.public_key, server.secret_key, trace_id]
    probes = {
        label: subprocess.Popen(
            [python, "-c", TRACE_PROBE, mod, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)} if mod == "langfuse_nb" else None,
        )
        for label, (python, mod, root) in runs.items()
    }
    samples: dict[str, dict[str, list[list[float]]]] = {label: {} for label in probes}
    try:
        for mod in probes:
            _ask(probes[mod], 2)  # warm: connections, imports, first validations
        for round_ in range(rounds):
            order = list(probes) if round_ % 2 == 0 else list(reversed(probes))
            for mod in order:
                for case, values in _ask(probes[mod], per_round).items():
                    samples[mod].setdefault(case, []).append(values)
    finally:
        for probe in probes.values():
            if probe.stdin is not None:
                probe.stdin.close()
            probe.wait(timeout=30)
    return {"trace_id": trace_id, "per_round": per_round, "samples": samples}


def _ask(probe: subprocess.Popen[str], count: int) -> dict[str, list[float]]:
    assert probe.stdin is not None and probe.stdout is not None
    probe.stdin.write(f"{count}\n")
    probe.stdin.flush()
    line = probe.stdout.readline()
    if not line:
        raise RuntimeError(f"a trace probe stopped (exit {probe.wait(timeout=30)})")
    result: dict[str, list[float]] = json.loads(line)
    return result


def report_big_trace(result: dict[str, Any]) -> None:
    samples = result["samples"]
    ours = samples["langfuse_nb"]
    print(
        f"\nbig trace: 1,000 observations, {len(ours['api.trace.get'])} rounds x {result['per_round']} calls"
    )
    others = [label for label in ("langfuse", "before") if label in samples]
    head = "".join(f" {label + ' p50':>12} {'ratio':>7}" for label in others)
    print(f"{'case':<34} {'ours p50 ms':>12}{head}")
    for case, rounds in ours.items():
        line = f"{case:<34} {_p50_ms(rounds):12.1f}"
        for label in others:
            theirs = samples[label].get(case)
            if not theirs:
                line += " " * 21
                continue
            ratios = [
                statistics.median(o) / statistics.median(t) for o, t in zip(rounds, theirs, strict=True)
            ]
            line += f" {_p50_ms(theirs):12.1f} {statistics.median(ratios):6.2f}x"
        print(line)
    if "langfuse" not in samples:
        print(f"(no reference: {REFERENCE_PYTHON} is missing)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _p50_ms(rounds: list[list[float]]) -> float:
    return statistics.median(v * 1000 for values in rounds for v in values)


def save(name: str, data: dict[str, Any]) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = HERE / "results" / f"bench_notebook-{name}-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"loadavg": os.getloadavg(), **data}))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--trace-rounds", type=int, default=10, help="rounds of the big-trace section")
    parser.add_argument("--only", choices=["cells", "big-trace"], default=None)
    parser.add_argument("--compare-root", type=Path, default=None, help="an older package root (big trace)")
    args = parser.parse_args()
    from langfuse_nb.server.runner import start_detached

    port = free_port()  # a detached server, as in a real notebook (an in-thread one shares our GIL)
    server = start_detached(port=port, db_path=Path(tempfile.mkdtemp()) / "lf.db")
    try:
        # the cells first, as when --only cells: the big trace's section leaves this process with many
        # more objects for the collector to walk during the cells' timing
        results = run_cells(server, port, args.rounds) if args.only != "big-trace" else {}
        big = (
            bench_big_trace(server, args.trace_rounds, compare_root=args.compare_root)
            if args.only != "cells"
            else None
        )
    finally:
        server.stop()
    if big is not None:
        report_big_trace(big)
        print(f"raw samples: {save('big-trace', big)}")
    return report_cells(results) if results else 0


def run_cells(server: Any, port: int, rounds: int) -> dict[str, float]:
    os.environ.update(
        LANGFUSE_PUBLIC_KEY=server.public_key,
        LANGFUSE_SECRET_KEY=server.secret_key,
        LANGFUSE_BASE_URL=server.url,
    )
    ip = shell()
    ip.run_line_magic("load_ext", "langfuse_nb")
    try:
        return {
            **bench_cell_overhead(ip, rounds),
            **bench_load_ext(ip, max(rounds // 10, 20), port),
            **bench_view(max(rounds // 10, 20)),
        }
    finally:
        get_client_flush()


def report_cells(results: dict[str, float]) -> int:
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
