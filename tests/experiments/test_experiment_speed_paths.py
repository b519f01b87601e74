"""The fast paths of a local run: no REST client for links, no CA bundle for plain http, every item sent."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from langfuse_nb.api._tls import LazyTrustContext, verify_for
from langfuse_nb.sdk.scores import _random_ids

pytestmark = pytest.mark.timeout(60)


def test_trace_links_are_looked_up_when_first_read(lf: Any) -> None:
    data = [{"input": f"q{i}"} for i in range(3)]
    result = lf.run_experiment(name=f"links-{uuid.uuid4().hex[:8]}", data=data, task=lambda *, item, **_: 1)
    first = result.item_results[0]
    assert first._trace_url is None  # nothing asked the server while the run was going
    assert first.trace_url == lf.get_trace_url(trace_id=first.trace_id)
    assert f"href='{first.trace_url}'" in result._repr_html_()


def test_a_run_does_not_build_the_rest_client(server: Any) -> None:
    """A local run on a fresh client sends spans and scores without importing the REST API models."""
    code = textwrap.dedent(
        f"""
        import sys
        from langfuse_nb import Langfuse
        lf = Langfuse(base_url={server.url!r}, public_key={server.public_key!r},
                      secret_key={server.secret_key!r})
        result = lf.run_experiment(name="no-rest", data=[{{"input": "a"}}], task=lambda *, item, **_: 1,
                                   evaluators=[lambda **_: {{"name": "one", "value": 1}}], progress=False)
        lf.flush()
        assert len(result.item_results) == 1, result
        print("langfuse_nb.api.client" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_score_channel_of_a_plain_http_endpoint_reads_no_certificates(monkeypatch: Any) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    context = verify_for("http://127.0.0.1:3939")  # what the score channel's httpx client gets
    assert isinstance(context, LazyTrustContext)
    assert context.cert_store_stats()["x509_ca"] == 0  # nothing read until a TLS connection is made
    assert context.verify_mode.name == "CERT_REQUIRED" and context.check_hostname
    assert verify_for("https://cloud.langfuse.com") is True
    monkeypatch.setenv("HTTP_PROXY", "https://proxy.example:8443")
    context._load_trust()  # what a TLS connection to the proxy does first
    assert context.cert_store_stats()["x509_ca"] > 0  # a TLS proxy is checked against the real trust store


def test_score_ids_are_well_formed_and_distinct() -> None:
    ids = [_random_ids() for _ in range(2000)]
    assert all(len(event) == 32 and len(score) == 16 for event, score in ids)
    assert all(int(event, 16) >= 0 and int(score, 16) > 0 for event, score in ids)
    assert len({event for event, _ in ids}) == len({score for _, score in ids}) == 2000


def _sink() -> Any:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from _sink import Sink

    return Sink().start()


def _score_requests(sink: Any) -> list[int]:
    return [len(batch.get("batch", [])) for batch in list(sink.ingestion)]


def test_a_fast_run_sends_its_scores_in_a_few_large_requests() -> None:
    """Queued one at a time as items finished, 600 scores went out in 10-40 requests of 15-100."""
    from langfuse_nb import Langfuse

    sink = _sink()
    try:
        lf = Langfuse(base_url=sink.url, public_key=f"pk-{uuid.uuid4().hex[:8]}", secret_key="sk")
        data = [{"input": f"q{i}"} for i in range(600)]
        result = lf.run_experiment(
            name="burst",
            data=data,
            task=lambda *, item, **_: 1,
            evaluators=[lambda **_: {"name": "a", "value": 1}],
        )
        lf.flush()
        assert len(result.item_results) == 600
        sizes = _score_requests(sink)
        assert sum(sizes) == 600
        assert len(sizes) <= 4, sizes  # one burst, sent as requests of up to 500
        lf.shutdown()
    finally:
        sink.stop()


def test_scores_of_finished_items_are_sent_when_a_run_is_interrupted() -> None:
    from langfuse_nb import Langfuse

    sink = _sink()
    try:
        lf = Langfuse(base_url=sink.url, public_key=f"pk-{uuid.uuid4().hex[:8]}", secret_key="sk")

        def task(*, item, **_):
            if item["input"] == "q5":
                raise KeyboardInterrupt
            return 1

        data = [{"input": f"q{i}"} for i in range(10)]
        with pytest.raises(KeyboardInterrupt):
            lf.run_experiment(
                name="stop",
                data=data,
                task=task,
                max_concurrency=1,
                evaluators=[lambda **_: {"name": "a", "value": 1}],
            )
        lf.flush()
        assert sum(_score_requests(sink)) == 5
        lf.shutdown()
    finally:
        sink.stop()


def test_the_item_span_is_current_propagates_and_records_a_failure() -> None:
    """The item's root span (started with its attributes, made current in one step) behaves as a
    ``with`` observation: children nest under it and carry the experiment attributes; a failing task
    leaves the error output, an ERROR status naming the exception and the exception event."""
    from langfuse_nb import Langfuse

    sink = _sink()
    try:
        lf = Langfuse(base_url=sink.url, public_key=f"pk-{uuid.uuid4().hex[:8]}", secret_key="sk")

        def task(*, item, **_):
            with lf.start_as_current_observation(name="inner"):
                pass
            if item["input"] == "bad":
                raise ValueError("broken item")
            return "ok"

        data = [{"input": "good", "expected_output": "ok"}, {"input": "bad"}]
        lf.run_experiment(name="shape", data=data, task=task, max_concurrency=1, progress=False)
        lf.flush()
        roots = {
            s["attributes"]["langfuse.experiment.item.root_observation_id"]: s
            for s in sink.spans_named("experiment-item-run")
        }
        assert len(roots) == 2 and all(root_id == s["span_id"] for root_id, s in roots.items())
        for inner in sink.spans_named("inner"):
            root = roots[inner["parent_span_id"]]
            for key in ("langfuse.experiment.id", "langfuse.experiment.item.id", "langfuse.environment"):
                assert inner["attributes"][key] == root["attributes"][key], key
        good, bad = sorted(roots.values(), key=lambda s: s["status"]["code"] == 2)
        assert good["attributes"]["langfuse.experiment.item.expected_output"] == "ok"
        assert good["attributes"]["langfuse.observation.output"] == "ok" and good["status"]["code"] != 2
        assert bad["attributes"]["langfuse.observation.output"] == "Error: broken item"
        assert "langfuse.observation.input" not in bad["attributes"]  # as the reference: no input on failure
        assert bad["status"] == {"code": 2, "message": "ValueError: broken item"}
        assert [event["name"] for event in bad["events"]] == ["exception"]
        lf.shutdown()
    finally:
        sink.stop()


def test_scores_to_a_plain_http_endpoint_need_no_httpx(server: Any) -> None:
    """As the span exporter's: the first score of a process imports neither httpx nor httpcore."""
    code = textwrap.dedent(
        f"""
        import sys
        from langfuse_nb import Langfuse
        lf = Langfuse(base_url={server.url!r}, public_key={server.public_key!r},
                      secret_key={server.secret_key!r})
        with lf.start_as_current_observation(name="scored") as span:
            trace_id = span.trace_id
        lf.create_score(name="plain", value=1.0, trace_id=trace_id)
        lf.flush()
        print(trace_id, "httpx" in sys.modules, "httpcore" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    trace_id, httpx_loaded, httpcore_loaded = done.stdout.split()
    assert (httpx_loaded, httpcore_loaded) == ("False", "False")
    import httpx

    auth = (server.public_key, server.secret_key)
    scores = httpx.get(f"{server.url}/api/public/v2/scores", params={"traceId": trace_id}, auth=auth).json()
    assert [s["name"] for s in scores["data"]] == ["plain"]
