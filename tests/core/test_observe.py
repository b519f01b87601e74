"""@observe on sync, async, generator and async-generator functions and methods."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from langfuse_nb import observe
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A


def test_nested_calls_build_a_tree_with_io(lf: Any) -> None:
    client = lf.client()

    @observe
    def child(x: int, *, k: str = "d") -> int:
        return x * 2

    @observe(name="parent", as_type="agent")
    def parent(x: int) -> int:
        return child(x, k="v") + child(1)

    assert parent(3) == 8
    spans = lf.spans(client)
    root = next(s for s in spans if s["name"] == "parent")
    kids = [s for s in spans if s["name"] == "child"]
    assert len(kids) == 2 and all(k["parent_span_id"] == root["span_id"] for k in kids)
    assert root["attributes"][A.OBSERVATION_TYPE] == "agent"
    assert root["attributes"][A.OBSERVATION_INPUT] == '{"args": [3], "kwargs": {}}'
    assert root["attributes"][A.OBSERVATION_OUTPUT] == "8"
    inputs = sorted(k["attributes"][A.OBSERVATION_INPUT] for k in kids)
    assert inputs == ['{"args": [1], "kwargs": {}}', '{"args": [3], "kwargs": {"k": "v"}}']


def test_async_function(lf: Any) -> None:
    client = lf.client()

    @observe
    async def inner(v: int) -> dict[str, int]:
        await asyncio.sleep(0)
        return {"v": v}

    @observe(name="aouter")
    async def outer() -> list[Any]:
        return await asyncio.gather(inner(1), inner(2))

    assert asyncio.run(outer()) == [{"v": 1}, {"v": 2}]
    spans = lf.spans(client)
    root = next(s for s in spans if s["name"] == "aouter")
    assert [s["parent_span_id"] for s in spans if s["name"] == "inner"] == [root["span_id"]] * 2


def test_generator_output_joined_and_span_ends_on_exhaustion(lf: Any) -> None:
    client = lf.client()

    @observe
    def tokens(n: int) -> Any:
        for i in range(n):
            yield f"t{i}"

    @observe
    def numbers() -> Any:
        yield 1
        yield 2

    @observe(transform_to_string=lambda items: "|".join(items))
    def piped() -> Any:
        yield from ["a", "b"]

    gen = tokens(3)
    assert not [s for s in lf.spans(client) if s["name"] == "tokens"]  # still open
    assert list(gen) == ["t0", "t1", "t2"]
    assert list(numbers()) == [1, 2]
    assert list(piped()) == ["a", "b"]
    assert lf.span(client, "tokens")["attributes"][A.OBSERVATION_OUTPUT] == "t0t1t2"
    assert lf.span(client, "numbers")["attributes"][A.OBSERVATION_OUTPUT] == "[1, 2]"
    assert lf.span(client, "piped")["attributes"][A.OBSERVATION_OUTPUT] == "a|b"


def test_uncaptured_stream_items_are_not_held(lf: Any) -> None:
    import gc
    import weakref

    client = lf.client()

    class Token:
        pass

    refs: list[Any] = []

    @observe(capture_output=False)
    def stream() -> Any:
        for _ in range(3):
            token = Token()
            refs.append(weakref.ref(token))
            yield token

    gen = stream()
    next(gen)
    next(gen)
    gc.collect()
    assert refs[0]() is None  # the wrapper kept no list of what was yielded
    assert len(list(gen)) == 1
    assert A.OBSERVATION_OUTPUT not in lf.span(client, "stream")["attributes"]


def test_json_schema_like_values_are_traced(lf: Any) -> None:
    """A "type" key holding a list or dict (JSON schemas, tool definitions) is ordinary data."""
    client = lf.client()
    schema = {"type": ["string", "null"], "items": {"type": {"nested": 1}}}

    @observe
    def tool_call(parameters: dict[str, Any]) -> dict[str, Any]:
        return {"type": {"kind": "result"}}

    tool_call(schema)
    with client.start_as_current_span(name="cm", input=schema) as span:
        span.update(output={"type": ["y"]})
    spans = {s["name"]: s["attributes"] for s in lf.spans(client)}
    assert json.loads(spans["tool_call"][A.OBSERVATION_INPUT]) == {"args": [schema], "kwargs": {}}
    assert json.loads(spans["tool_call"][A.OBSERVATION_OUTPUT]) == {"type": {"kind": "result"}}
    assert json.loads(spans["cm"][A.OBSERVATION_INPUT]) == schema
    assert json.loads(spans["cm"][A.OBSERVATION_OUTPUT]) == {"type": ["y"]}


def test_span_ends_even_when_recording_the_output_fails(lf: Any) -> None:
    client = lf.client()

    def broken_transform(items: Any) -> str:
        raise RuntimeError("user transform bug")

    @observe(transform_to_string=broken_transform)
    def stream() -> Any:
        yield "a"

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str")

    @observe
    def fails() -> None:
        raise Unprintable()

    assert list(stream()) == ["a"]
    with pytest.raises(Unprintable):
        fails()
    assert sorted(s["name"] for s in lf.spans(client)) == ["fails", "stream"]


def test_generator_steps_run_inside_the_observation(lf: Any) -> None:
    client = lf.client()

    @observe
    def leaf() -> int:
        return 1

    @observe
    def stream() -> Any:
        yield leaf()
        yield leaf()

    list(stream())
    spans = lf.spans(client)
    root = next(s for s in spans if s["name"] == "stream")
    assert [s["parent_span_id"] for s in spans if s["name"] == "leaf"] == [root["span_id"]] * 2


def test_async_generator(lf: Any) -> None:
    client = lf.client()

    @observe
    async def agen() -> Any:
        for c in "xyz":
            yield c

    async def consume() -> list[str]:
        return [c async for c in agen()]

    assert asyncio.run(consume()) == ["x", "y", "z"]
    assert lf.span(client, "agen")["attributes"][A.OBSERVATION_OUTPUT] == "xyz"


def test_generator_error_marks_error(lf: Any) -> None:
    client = lf.client()

    @observe
    def broken() -> Any:
        yield 1
        raise ValueError("mid-stream")

    with pytest.raises(ValueError):
        list(broken())
    attrs = lf.span(client, "broken")["attributes"]
    assert attrs[A.OBSERVATION_LEVEL] == "ERROR" and attrs[A.OBSERVATION_STATUS_MESSAGE] == "mid-stream"


def test_exception_is_reraised_unchanged_k7(lf: Any) -> None:
    client = lf.client()
    err = RuntimeError("boom")

    @observe
    def fails() -> None:
        raise err

    with pytest.raises(RuntimeError) as info:
        fails()
    assert info.value is err
    span = lf.span(client, "fails")
    assert span["attributes"][A.OBSERVATION_LEVEL] == "ERROR"
    assert span["attributes"][A.OBSERVATION_STATUS_MESSAGE] == "boom"
    assert span["status"] == {"code": 2, "message": "boom"}


def test_methods_drop_self_and_cls(lf: Any) -> None:
    client = lf.client()

    class Svc:
        @observe
        def run(self, x: int) -> int:
            return x

        @classmethod
        @observe
        def build(cls, y: int) -> int:
            return y

    Svc().run(5)
    Svc.build(6)
    assert lf.span(client, "run")["attributes"][A.OBSERVATION_INPUT] == '{"args": [5], "kwargs": {}}'
    assert lf.span(client, "build")["attributes"][A.OBSERVATION_INPUT] == '{"args": [6], "kwargs": {}}'


def test_observe_above_classmethod_and_staticmethod(lf: Any) -> None:
    client = lf.client()

    class Svc:
        @observe
        @classmethod
        def make(cls, y: int) -> int:
            return y * 2

        @observe(name="util")
        @staticmethod
        def helper(z: int) -> int:
            return z * 3

        @observe
        @classmethod
        async def amake(cls, y: int) -> int:
            return y

    assert Svc.make(1) == 2 and Svc().make(2) == 4
    assert Svc.helper(1) == 3 and Svc().helper(2) == 6
    assert asyncio.run(Svc.amake(7)) == 7
    spans = lf.spans(client)
    inputs = sorted(s["attributes"][A.OBSERVATION_INPUT] for s in spans if s["name"] in ("make", "util"))
    assert inputs == [
        '{"args": [1], "kwargs": {}}',
        '{"args": [1], "kwargs": {}}',
        '{"args": [2], "kwargs": {}}',
        '{"args": [2], "kwargs": {}}',
    ]
    assert [s["attributes"][A.OBSERVATION_OUTPUT] for s in spans if s["name"] == "amake"] == ["7"]


def test_capture_switches_and_env(lf: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = lf.client()

    @observe(capture_input=False, capture_output=False)
    def quiet(x: int) -> int:
        return x

    monkeypatch.setenv("LANGFUSE_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED", "false")

    @observe
    def env_quiet(x: int) -> int:
        return x

    @observe(capture_input=True)
    def env_override(x: int) -> int:
        return x

    quiet(1), env_quiet(2), env_override(3)
    assert lf.span(client, "quiet")["attributes"] == {A.OBSERVATION_TYPE: "span"}
    assert lf.span(client, "env_quiet")["attributes"] == {A.OBSERVATION_TYPE: "span"}
    assert A.OBSERVATION_INPUT in lf.span(client, "env_override")["attributes"]


def test_special_kwargs_trace_id_parent_and_removal(lf: Any) -> None:
    client = lf.client()
    seen: dict[str, Any] = {}

    @observe
    def target(**kwargs: Any) -> None:
        seen.update(kwargs)

    tid = client.create_trace_id(seed="t")
    target(a=1, langfuse_trace_id=tid, langfuse_parent_observation_id="00000000000000cd")
    assert seen == {"a": 1}
    span = lf.span(client, "target")
    assert span["trace_id"] == tid and span["parent_span_id"] == "00000000000000cd"
    assert span["attributes"][A.AS_ROOT] is True
    assert json.loads(span["attributes"][A.OBSERVATION_INPUT]) == {"args": [], "kwargs": {"a": 1}}


def test_public_key_selects_client_and_unknown_key_is_local_f13(lf: Any) -> None:
    first, second = lf.client(), lf.client()

    @observe
    def leaf() -> str:
        return "leaf"

    @observe
    def work() -> str:
        return leaf()

    work(langfuse_public_key=second._settings.public_key)
    assert [s["name"] for s in lf.spans(second)] == ["leaf", "work"] or sorted(
        s["name"] for s in lf.spans(second)
    ) == ["leaf", "work"]
    assert lf.spans(first) == []
    assert work(langfuse_public_key="pk-unknown") == "leaf"  # not traced, still runs
    work(langfuse_public_key=first._settings.public_key)  # other calls keep tracing
    assert sorted(s["name"] for s in lf.spans(first)) == ["leaf", "work"]


def test_several_clients_without_key_skip_tracing(lf: Any) -> None:
    a, b = lf.client(), lf.client()

    @observe
    def f() -> int:
        return 1

    assert f() == 1
    assert lf.spans(a) == [] and lf.spans(b) == []


def test_invalid_as_type_falls_back_to_span(lf: Any) -> None:
    client = lf.client()

    @observe(as_type="bogus")  # type: ignore[arg-type]
    def f() -> None:
        return None

    f()
    assert lf.span(client, "f")["attributes"][A.OBSERVATION_TYPE] == "span"


def test_unserializable_inputs_never_break_the_call(lf: Any) -> None:
    import socket
    import threading

    client = lf.client()

    @observe
    def takes(*args: Any) -> str:
        return "ok"

    loop: list[Any] = []
    loop.append(loop)
    sock = socket.socket()
    try:
        assert takes(sock, threading.Lock(), (i for i in range(3)), loop, b"\xff" * 10) == "ok"
    finally:
        sock.close()
    assert json.loads(lf.span(client, "takes")["attributes"][A.OBSERVATION_INPUT])["args"][1] == "<lock>"


def test_tracing_errors_never_escape(lf: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = lf.client()
    from langfuse_nb.sdk import observations

    def explode(*a: Any, **k: Any) -> Any:
        raise RuntimeError("tracing bug")

    monkeypatch.setattr(observations, "start_observation", explode)
    import langfuse_nb.sdk.observe as observe_module

    monkeypatch.setattr(observe_module, "start_observation", explode)

    @observe
    def safe() -> int:
        return 42

    assert safe() == 42
    assert client is not None


def test_default_client_that_cannot_be_built_never_breaks_decorated_calls(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-bad-env")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-bad-env")
    monkeypatch.setenv("LANGFUSE_SAMPLE_RATE", "2")

    @observe
    def plain(x: int) -> int:
        return x + 1

    assert plain(1) == 2 and plain(2) == 3
    assert sum("could not create the default" in r.getMessage() for r in caplog.records) == 1


def test_disabled_tracing_calls_through(lf: Any) -> None:
    client = lf.client(tracing_enabled=False)

    @observe
    def f(x: int) -> int:
        return x + 1

    assert f(1) == 2
    assert lf.spans(client) == []


def test_wraps_preserves_metadata() -> None:
    @observe
    def documented(a: int) -> int:
        """Doc."""
        return a

    assert documented.__name__ == "documented" and documented.__doc__ == "Doc."
    assert asyncio.iscoroutinefunction(observe(_async_example))


async def _async_example() -> None:
    return None


def test_mask_and_media_apply_to_decorated_io(lf: Any) -> None:
    calls: list[Any] = []

    def mask(*, data: Any) -> Any:
        calls.append(data)
        return "MASKED"

    client = lf.client(mask=mask)
    media_fields: list[str] = []

    class FakeMedia:
        def process(self, value: Any, *, field: str, trace_id: str, observation_id: str) -> Any:
            media_fields.append(field)
            return {"replaced": True}

        def flush(self, timeout: float | None = None) -> None: ...
        def shutdown(self, timeout: float | None = None) -> None: ...

    client.__dict__["_media"] = FakeMedia()

    @observe
    def plain(x: int) -> str:
        return "secret"

    @observe
    def with_media(uri: str) -> str:
        return "data:image/png;base64,AAAA"

    plain(1)
    with_media("data:image/png;base64,AAAA")
    assert calls[:2] == [{"args": (1,), "kwargs": {}}, "secret"]
    assert lf.span(client, "plain")["attributes"][A.OBSERVATION_INPUT] == "MASKED"
    assert lf.span(client, "plain")["attributes"][A.OBSERVATION_OUTPUT] == "MASKED"
    assert media_fields == ["input", "output"]  # only values that can hold media take the media walk
    assert lf.span(client, "with_media")["attributes"][A.OBSERVATION_OUTPUT] == "MASKED"


# -- reference compatibility (issue 11) ---------------------------------------------------------------------
class _Bare(Exception):
    """Raised without a message: str(exc) is empty."""


@pytest.mark.parametrize("exc", [KeyError(), _Bare()], ids=["KeyError", "custom"])
def test_exception_without_message_is_described_by_its_type(lf: Any, exc: Exception) -> None:
    client = lf.client()

    @observe(name="bare-failure")
    def fail() -> None:
        raise exc

    with pytest.raises(type(exc)):
        fail()
    span = lf.span(client, "bare-failure")
    assert span["attributes"][A.OBSERVATION_STATUS_MESSAGE] == type(exc).__name__
    assert span["attributes"][A.OBSERVATION_LEVEL] == "ERROR"
    assert span["status"] == {"code": 2, "message": type(exc).__name__}


def test_generator_consumed_after_the_caller_returned_is_the_current_span(lf: Any) -> None:
    from opentelemetry import trace

    client = lf.client()
    seen: list[tuple[str, str | None]] = []

    @observe(name="late-inner")
    def inner() -> str:
        return "x"

    @observe(name="late-stream")
    def stream():  # type: ignore[no-untyped-def]
        seen.append(("body", format(trace.get_current_span().get_span_context().span_id, "016x")))
        yield inner()
        yield "y"

    def handler():  # type: ignore[no-untyped-def]
        return stream()  # the streaming-response pattern: consumed after this returns

    gen = handler()
    for _ in gen:
        seen.append(("between", client.get_current_observation_id()))
    spans = lf.spans(client)
    outer = next(s for s in spans if s["name"] == "late-stream")
    nested = next(s for s in spans if s["name"] == "late-inner")
    assert seen[0] == ("body", outer["span_id"])
    assert nested["parent_span_id"] == outer["span_id"]
    assert [s for s in seen if s[0] == "between"] == [("between", None), ("between", None)]
    assert outer["attributes"][A.OBSERVATION_OUTPUT] == "xy"


def test_async_generator_consumed_late_is_the_current_span(lf: Any) -> None:
    from opentelemetry import trace

    client = lf.client()
    inside: list[str] = []

    @observe(name="late-astream")
    async def astream():  # type: ignore[no-untyped-def]
        inside.append(format(trace.get_current_span().get_span_context().span_id, "016x"))
        yield 1

    async def consume() -> list[Any]:
        gen = astream()
        out = []
        async for item in gen:
            out.append((item, trace.get_current_span().get_span_context().is_valid))
        return out

    assert asyncio.run(consume()) == [(1, False)]
    assert inside == [lf.span(client, "late-astream")["span_id"]]


def test_generator_yielding_nothing_records_an_empty_string(lf: Any) -> None:
    client = lf.client()

    @observe(name="empty-stream")
    def nothing():  # type: ignore[no-untyped-def]
        yield from ()

    assert list(nothing()) == []
    assert lf.span(client, "empty-stream")["attributes"][A.OBSERVATION_OUTPUT] == ""


@pytest.mark.parametrize("given", ["ABCDEF0123456789ABCDEF0123456789", "AbCdEf0123456789abcdef0123456789"])
def test_upper_case_trace_id_is_accepted_lower_cased_and_linked(lf: Any, given: str) -> None:
    client = lf.client()
    context: Any = {"trace_id": given, "parent_span_id": "00000000000000AB"}
    with client.start_as_current_span(name="upper-ctx", trace_context=context):
        pass
    observe(name="upper-kw")(lambda: None)(langfuse_trace_id=given)
    for name in ("upper-ctx", "upper-kw"):
        span = lf.span(client, name)
        assert span["trace_id"] == given.lower()
        assert span["attributes"][A.AS_ROOT] is True
    assert lf.span(client, "upper-ctx")["parent_span_id"] == "00000000000000ab"
