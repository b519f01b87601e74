"""Soak: steady SDK traffic through server restarts and outages; nothing acknowledged may be lost.

Run:  python benchmarks/bench_soak.py [--minutes 10] [--rate 100] [--outage 8]

The embedded server runs as its own process (restarted every ``--restart-every`` seconds on the same port);
the SDK sends through the in-process fault proxy (tests/reliability/fault_proxy.py), which injects an
``--outage``-second fault half-way between restarts, cycling 500, 503, 429 (Retry-After) and a hang.
Reports spans and scores sent (created by this process), acknowledged (2xx answers seen by the proxy,
distinct ids), stored (in the server's database) and dropped (the SDK's counter), plus peak RSS.
Sent, acknowledged and stored must be equal when the outages fit in the retry budget (60 s by default).
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "reliability"))
sys.path.insert(0, str(ROOT))

from fault_proxy import FaultProxy  # type: ignore[import-not-found]  # noqa: E402

from langfuse_nb.server import runner  # noqa: E402

OTLP_PATH = "/api/public/otel/v1/traces"
INGESTION_PATH = "/api/public/ingestion"
FAULTS: tuple[dict[str, Any], ...] = (
    {"status": 500},
    {"status": 503},
    {"status": 429, "retry_after": 2},
    {"hang": True},
)


class Acks:
    """Distinct span and score ids the server answered 2xx for (a retried batch counts once)."""

    def __init__(self) -> None:
        self.spans: set[bytes] = set()
        self.scores: set[str] = set()
        self._lock = threading.Lock()

    def observe(self, path: str, body: bytes, status: int, answer: bytes) -> None:
        if not 200 <= status < 300:
            return
        if path.startswith(OTLP_PATH):
            span_ids = _span_ids(body)
            with self._lock:
                self.spans.update(span_ids)
        elif path.startswith(INGESTION_PATH):
            score_ids = _score_ids(body, answer)
            with self._lock:
                self.scores.update(score_ids)


def _span_ids(body: bytes) -> list[bytes]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    return [span.span_id for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]


def _score_ids(body: bytes, answer: bytes) -> list[str]:
    events = json.loads(body).get("batch", [])
    failed = {e.get("id") for e in (json.loads(answer or b"{}").get("errors") or [])}
    return [e["body"]["id"] for e in events if e.get("type") == "score-create" and e.get("id") not in failed]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Chaos(threading.Thread):
    """Restarts the server every ``restart_every`` s and injects one fault half-way between restarts."""

    def __init__(self, args: argparse.Namespace, start_server: Any, proxy: FaultProxy) -> None:
        super().__init__(daemon=True, name="soak-chaos")
        self.args, self.start_server, self.proxy = args, start_server, proxy
        self.handle = start_server()
        self.stop_event = threading.Event()
        self.events: list[str] = []

    def run(self) -> None:
        begin, period, n = time.monotonic(), self.args.restart_every, 0
        while not self.stop_event.is_set():
            self._sleep_until(begin + n * period + period / 2)
            if self.stop_event.is_set():
                return
            fault = FAULTS[n % len(FAULTS)]
            if fault.get("hang"):
                self.proxy.hang(seconds=self.args.outage)
            else:
                hint = fault.get("retry_after")
                self.proxy.fail(fault["status"], seconds=self.args.outage, retry_after=hint)
            self.events.append(f"{time.monotonic() - begin:6.1f}s fault {fault}")
            n += 1
            self._sleep_until(begin + n * period)
            if self.stop_event.is_set():
                return
            self.handle.stop()
            self.handle = self.start_server()
            self.events.append(f"{time.monotonic() - begin:6.1f}s server restarted")

    def _sleep_until(self, when: float) -> None:
        self.stop_event.wait(max(0.0, when - time.monotonic()))


def _traffic(client: Any, prefix: str, seconds: float, rate: float, score_every: int) -> tuple[int, int]:
    """Spans at ``rate`` per second (a score on every ``score_every``-th), like a busy notebook."""
    spans = scores = 0
    begin = time.monotonic()
    while time.monotonic() - begin < seconds:
        with client.start_as_current_span(name=f"{prefix}-{spans}", input={"i": spans}) as span:
            if spans % score_every == 0:
                span.score_trace(name=f"{prefix}-score", value=spans)
                scores += 1
        spans += 1
        lag = begin + spans / rate - time.monotonic()
        if lag > 0:
            time.sleep(lag)
    return spans, scores


def _stored(db: Path, prefix: str) -> tuple[int, int]:
    with sqlite3.connect(str(db)) as conn:
        spans = conn.execute("SELECT count(*) FROM observations WHERE name LIKE ?", (f"{prefix}-%",))
        scores = conn.execute("SELECT count(*) FROM scores WHERE name = ?", (f"{prefix}-score",))
        return int(spans.fetchone()[0]), int(scores.fetchone()[0])


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0, help="spans per second")
    parser.add_argument("--score-every", type=int, default=10)
    parser.add_argument("--restart-every", type=float, default=60.0)
    parser.add_argument("--outage", type=float, default=8.0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="langfuse-nb-soak-"))
    db, port, key = workdir / "soak.db", _free_port(), uuid.uuid4().hex[:12]
    pk, sk = f"pk-lf-{key}", f"sk-lf-{key}"

    def start_server() -> Any:
        return runner.start_detached(port=port, db_path=db, public_key=pk, secret_key=sk, timeout=30)

    acks = Acks()
    proxy = FaultProxy(runner.url_for("127.0.0.1", port), observer=acks.observe).start()
    chaos = Chaos(args, start_server, proxy)
    from langfuse_nb.sdk.client import Langfuse

    client = Langfuse(public_key=pk, secret_key=sk, base_url=proxy.url, flush_interval=1.0)
    prefix = f"soak-{key}"
    chaos.start()
    begin = time.monotonic()
    try:
        sent_spans, sent_scores = _traffic(client, prefix, args.minutes * 60, args.rate, args.score_every)
        chaos.stop_event.set()
        chaos.join()
        proxy.clear()
        client.flush(timeout=120)
        stored_spans, stored_scores = _stored(db, prefix)
        assert client._resources is not None  # tracing is on: keys given
        dropped = client._resources.dropped
        result = {
            "minutes": args.minutes,
            "restarts": sum("restarted" in e for e in chaos.events),
            "outages": sum("fault" in e for e in chaos.events),
            "outage_seconds": args.outage,
            "spans": {
                "sent": sent_spans,
                "acknowledged": len(acks.spans),
                "stored": stored_spans,
                "dropped": dropped["spans"],
            },
            "scores": {
                "sent": sent_scores,
                "acknowledged": len(acks.scores),
                "stored": stored_scores,
                "dropped": dropped["scores"],
            },
            "peak_rss_mb": round(_rss_mb(), 1),
            "wall_seconds": round(time.monotonic() - begin, 1),
        }
    finally:
        client.shutdown(timeout=5)
        chaos.stop_event.set()
        proxy.stop()
        chaos.handle.stop()
    ok = all(r["sent"] == r["acknowledged"] == r["stored"] for r in (result["spans"], result["scores"]))
    result["ok"] = ok
    if args.json:
        print(json.dumps(result))
    else:
        print("\n".join(chaos.events))
        for kind in ("spans", "scores"):
            r = result[kind]
            print(
                f"{kind:7s} sent {r['sent']:>7,}  acknowledged {r['acknowledged']:>7,}  "
                f"stored {r['stored']:>7,}  dropped {r['dropped']:>5,}"
            )
        print(
            f"peak RSS {result['peak_rss_mb']} MB (SDK + proxy process); {result['restarts']} restarts, "
            f"{result['outages']} outages of {args.outage:g} s in {result['wall_seconds']} s"
        )
        print("OK: nothing lost" if ok else "MISMATCH: see the counts above")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
