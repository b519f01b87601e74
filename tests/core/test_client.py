"""Client construction, get_client rules, lifecycle, sampling, masking, filtering, multi-project."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from langfuse_nb import Langfuse, get_client
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A


def test_missing_keys_warn_once_and_give_a_noop_client(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="langfuse_nb"):
        client = Langfuse()
        span = client.start_span(name="x")
        span.update(output="y").end()
        with client.start_as_current_span(name="z"):
            pass
        client.create_score(name="s", value=1)
        client.flush()
    assert not client._enabled
    assert sum("without public_key" in r.getMessage() for r in caplog.records) == 1


def test_get_client_default_single_and_cached(lf: Any) -> None:
    client = lf.client()
    assert get_client() is client
    assert get_client(public_key=client._settings.public_key) is client
    start = time.perf_counter()
    for _ in range(10_000):
        get_client()
    assert (time.perf_counter() - start) / 10_000 < 20e-6  # well under; the benchmark measures ~0.1 us


def test_get_client_without_any_client_builds_one_from_env(
    sink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-from-env")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk")
    monkeypatch.setenv("LANGFUSE_BASE_URL", sink.url)
    client = get_client()
    try:
        assert client._settings.public_key == "pk-lf-from-env" and client._enabled
        assert get_client() is client
    finally:
        client.shutdown(timeout=5)


def test_get_client_multi_project_rules(lf: Any) -> None:
    a, b = lf.client(), lf.client()
    assert get_client(public_key=a._settings.public_key) is a
    assert get_client(public_key=b._settings.public_key) is b
    assert not get_client()._enabled  # several clients, no key: disabled for safety
    assert not get_client(public_key="pk-nope")._enabled
    assert get_client(public_key=a._settings.public_key) is a  # F13: nothing else changed


def test_same_key_reuses_pipeline_and_recreate_after_shutdown_works_f15(lf: Any) -> None:
    first = lf.client()
    key = first._settings.public_key
    again = lf.client(public_key=key)
    assert again._resources is first._resources
    first.shutdown(timeout=5)
    start = time.monotonic()
    third = lf.client(public_key=key)
    third.start_span(name="after-restart").end()
    assert [s["name"] for s in lf.spans(third)] == ["after-restart"]
    assert time.monotonic() - start < 5
    assert third._resources is not first._resources


def test_flush_and_shutdown_are_bounded_when_server_unreachable(lf: Any) -> None:
    client = lf.client(base_url="http://127.0.0.1:9", timeout=1)
    for i in range(50):
        client.start_span(name=f"s{i}").end()
    start = time.monotonic()
    client.flush(timeout=0.5)
    client.shutdown(timeout=0.5)
    assert time.monotonic() - start < 3


def test_flush_and_shutdown_timeout_bounds_the_whole_call(lf: Any) -> None:
    """Spans and scores both pending on a server that accepts and never answers: one budget for all."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(100)
    try:
        client = lf.client(base_url=f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=5)
        client.start_span(name="s").end()
        client.create_score(name="x", value=1, trace_id=client.create_trace_id())
        start = time.monotonic()
        client.flush(timeout=0.5)
        assert time.monotonic() - start < 0.9
        start = time.monotonic()
        client.shutdown(timeout=0.5)
        assert time.monotonic() - start < 0.9
    finally:
        silent.close()


def test_calls_never_block_on_unreachable_server(lf: Any) -> None:
    client = lf.client(base_url="http://10.255.255.1:81", timeout=1, flush_at=1)
    start = time.monotonic()
    for i in range(200):
        with client.start_as_current_span(name=f"s{i}"):
            pass
    assert time.monotonic() - start < 1.0
    client.shutdown(timeout=0.2)


def test_sample_rate_zero_samples_nothing_f1(lf: Any) -> None:
    client = lf.client(sample_rate=0.0)
    with client.start_as_current_span(name="dropped") as span:
        span.score(name="s", value=1)
    assert lf.spans(client) == []
    assert lf.scores(client) == []


def test_sample_rate_validation() -> None:
    with pytest.raises(ValueError):
        Langfuse(public_key="pk", secret_key="sk", sample_rate=2)


def test_flush_at_argument_takes_effect_f2(lf: Any) -> None:
    client = lf.client(flush_at=5, flush_interval=60)
    for i in range(5):
        client.start_span(name=f"b{i}").end()
    deadline = time.monotonic() + 5
    key = client._settings.public_key
    while time.monotonic() < deadline:  # the batch of 5 goes out without flush()
        if len([s for s in list(lf.sink.spans) if s["scope"]["attributes"].get("public_key") == key]) == 5:
            break
        time.sleep(0.01)
    else:
        pytest.fail("flush_at=5 did not trigger an export")


def test_mask_applies_only_to_present_values_f11(lf: Any, attrs_of: Any) -> None:
    calls: list[Any] = []

    def mask(*, data: Any) -> Any:
        calls.append(data)
        return "MASKED"

    client = lf.client(mask=mask)
    client.start_span(name="m", input={"secret": 1}).end()
    client.start_span(name="empty").end()
    assert attrs_of(client, "m")[A.OBSERVATION_INPUT] == "MASKED"
    assert attrs_of(client, "empty") == {A.OBSERVATION_TYPE: "span"}
    assert calls == [{"secret": 1}]


def test_failing_mask_fully_masks(lf: Any, attrs_of: Any) -> None:
    def mask(*, data: Any) -> Any:
        raise RuntimeError("mask bug")

    client = lf.client(mask=mask)
    client.start_span(name="m", output="secret").end()
    assert attrs_of(client, "m")[A.OBSERVATION_OUTPUT] == "<fully masked due to failed mask function>"


def test_media_manager_is_called_with_ids_and_failures_are_contained(lf: Any, attrs_of: Any) -> None:
    client = lf.client()
    seen: list[tuple[str, str, str]] = []

    class FakeMedia:
        def process(self, value: Any, *, field: str, trace_id: str, observation_id: str) -> Any:
            seen.append((field, trace_id, observation_id))
            if field == "metadata":
                raise RuntimeError("media bug")
            return "<replaced>"

        def flush(self, timeout: float | None = None) -> None: ...
        def shutdown(self, timeout: float | None = None) -> None: ...

    client.__dict__["_media"] = FakeMedia()
    span = client.start_span(
        name="media",
        input={"image": object()},
        output="data:image/png;base64,AAAA",
        metadata={"k": [object()]},
    )
    span.end()
    a = attrs_of(client, "media")
    assert a[A.OBSERVATION_INPUT] == "<replaced>" and a[A.OBSERVATION_OUTPUT] == "<replaced>"
    assert ("input", span.trace_id, span.id) in seen
    client.start_span(name="plain", input={"a": 1}, output="text").end()  # no media walk needed
    assert len(seen) == 3


def test_blocked_instrumentation_scopes_and_third_party_spans(lf: Any) -> None:
    provider = TracerProvider()
    client = lf.client(tracer_provider=provider, blocked_instrumentation_scopes=["noisy"])
    provider.get_tracer("noisy").start_span("blocked").end()
    provider.get_tracer("other-lib").start_span("third-party").end()
    client.start_span(name="ours").end()
    client.flush()
    names = {s["name"] for s in list(lf.sink.spans)}
    assert "third-party" in names and "ours" in names and "blocked" not in names


def test_multi_project_isolation_on_shared_provider(lf: Any) -> None:
    provider = TracerProvider()
    a = lf.client(tracer_provider=provider)
    b = lf.client(tracer_provider=provider)
    a.start_span(name="for-a").end()
    b.start_span(name="for-b").end()
    a.flush(), b.flush()
    reqs = [r for r in list(lf.sink.requests) if r["path"].endswith("/traces")]
    keys = {r["headers"]["x-langfuse-public-key"] for r in reqs}
    assert {a._settings.public_key, b._settings.public_key} <= keys
    assert [s["name"] for s in lf.spans(a)] == ["for-a"]
    assert [s["name"] for s in lf.spans(b)] == ["for-b"]
    # each project's processor exported exactly one span: no cross-project leakage
    assert lf.sink.spans_named("for-a").__len__() == 1 and len(lf.sink.spans_named("for-b")) == 1


def test_release_on_spans_with_user_provider_f12(lf: Any, attrs_of: Any) -> None:
    client = lf.client(tracer_provider=TracerProvider(), release="rel-7", environment="e")
    client.start_span(name="r").end()
    assert attrs_of(client, "r")[A.RELEASE] == "rel-7"
    assert attrs_of(client, "r")[A.ENVIRONMENT] == "e"


def test_current_ids_and_trace_url(lf: Any) -> None:
    client = lf.client()
    assert client.get_current_trace_id() is None and client.get_current_observation_id() is None
    with client.start_as_current_span(name="x") as span:
        assert client.get_current_trace_id() == span.trace_id
        assert client.get_current_observation_id() == span.id
        assert client.get_trace_url() == f"{lf.sink.url}/project/sink-project/traces/{span.trace_id}"
    assert client.get_trace_url(trace_id="abc").endswith("/traces/abc")
    assert client.auth_check() is True


def test_unknown_kwargs_raise_type_error(lf: Any) -> None:
    client = lf.client()
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        client.start_span(name="x", colour="red")


def test_debug_sets_logger_level(lf: Any) -> None:
    lf.client(debug=True)
    assert logging.getLogger("langfuse_nb").level == logging.DEBUG
    logging.getLogger("langfuse_nb").setLevel(logging.NOTSET)


def test_repeated_construction_in_a_notebook_setup_cell(lf: Any) -> None:
    key = "pk-lf-rerun"
    for _ in range(5):
        client = lf.client(public_key=key)
        client.start_span(name="cell").end()
    assert len(lf.spans(client)) == 5


def test_changed_settings_for_same_key_warn(lf: Any, caplog: pytest.LogCaptureFixture) -> None:
    first = lf.client()
    with caplog.at_level(logging.WARNING, logger="langfuse_nb"):
        lf.client(public_key=first._settings.public_key, base_url="http://127.0.0.1:1")
    assert any("changed: base_url" in r.getMessage() for r in caplog.records)


def test_scores_follow_the_shared_pipeline_of_their_key(lf: Any) -> None:
    """A second client of the same key (other base_url: warned, kept) sends scores where spans go."""
    first = lf.client()
    second = lf.client(public_key=first._settings.public_key, base_url="http://127.0.0.1:1")
    trace_id = second.create_trace_id()
    second.create_score(name="shared", value=1, trace_id=trace_id)
    second.start_span(name="shared-span").end()
    assert [e["body"]["name"] for e in lf.scores(first)] == ["shared"]
    assert [s["name"] for s in lf.spans(first)] == ["shared-span"]


def test_interpreter_exit_waits_one_budget_for_spans_and_scores(tmp_path: Any) -> None:
    """Against a server that never answers, exit waits EXIT_TIMEOUT once (not once per hook)."""
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "exit.py"
    script.write_text(
        textwrap.dedent("""
        import socket
        from langfuse_nb.tracing import provider
        from langfuse_nb import Langfuse
        provider.EXIT_TIMEOUT = 1.0
        silent = socket.socket(); silent.bind(("127.0.0.1", 0)); silent.listen(10)
        lf = Langfuse(public_key="pk-lf-exit", secret_key="sk", timeout=5,
                      base_url=f"http://127.0.0.1:{silent.getsockname()[1]}")
        lf.start_span(name="x").end()
        lf.create_score(name="s", value=1, trace_id=lf.create_trace_id())
        print("ready", flush=True)
    """)
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    start = time.monotonic()
    proc.wait(timeout=30)
    # before: the provider's own exit hook waited 5 s for spans, then ours another budget for scores
    assert time.monotonic() - start < 3.0
