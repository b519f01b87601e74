"""Conformance scenarios, run with either SDK (``langfuse`` reference or ``langfuse_nb``) in a subprocess.

Usage: python conformance_scenarios.py <sdk module> <server url> <group> <output.json>

Both SDKs expose the same public API, so one scenario body drives both. Each scenario uses its own public
keys (``pk-<sdk>-<scenario><suffix>``) so the recording server can tell its requests apart; what the
scenario returns to the user (values, raised errors), the warnings it emits and the log records of the
"langfuse" logger hierarchy are written to the output file. The test compares both SDKs' files and records.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import datetime as dt
import decimal
import enum
import importlib
import json
import logging
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

GROUPS: dict[str, list[tuple[str, Callable[[Ctx], None]]]] = {}
SDK: list[Any] = []  # the SDK module under test, for module-level evaluators


# groups whose first client sets process-wide state (the tracer provider's sampler and resource), so their
# spans' resource attributes are compared too
RESOURCE_GROUPS = frozenset({"sampling", "environment_arguments", "environment_variables", "otel_interop"})


def scenario(group: str = "main") -> Callable[[Callable[[Ctx], None]], Callable[[Ctx], None]]:
    """Register a scenario; each group runs in a process of its own (all groups at the same time)."""

    def register(fn: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
        GROUPS.setdefault(group, []).append((fn.__name__, fn))
        return fn

    return register


class Ctx:
    """What a scenario gets: the SDK module, client factory, and a place to record user-visible results."""

    def __init__(self, sdk: str, mod: Any, url: str, name: str) -> None:
        self.sdk, self.mod, self.url, self.name = sdk, mod, url, name
        self.results: dict[str, Any] = {}
        self.clients: list[Any] = []

    def key(self, suffix: str = "") -> str:
        return f"pk-{self.sdk}-{self.name}{suffix}"

    def client(self, suffix: str = "", **kwargs: Any) -> Any:
        kwargs.setdefault("public_key", self.key(suffix))
        kwargs.setdefault("secret_key", "sk-conformance")
        kwargs.setdefault("base_url", self.url)
        client = self.mod.Langfuse(**kwargs)
        self.clients.append(client)
        return client

    def record(self, label: str, value: Any) -> None:
        self.results[label] = plain(value)

    def attempt(self, label: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn``; record its result, or the error a user would see."""
        try:
            value = fn()
        except Exception as exc:
            self.results[label] = {"raised": type(exc).__name__, "message": _error_text(exc)}
            return None
        self.record(label, value)
        return value


def _error_text(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    return str(body) if body is not None else str(exc)


def plain(value: Any) -> Any:
    """A JSON-safe, SDK-neutral view of a returned value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "model_dump"):
        return plain(value.model_dump(mode="json"))
    if isinstance(value, enum.Enum):
        return plain(value.value)
    return f"<{type(value).__name__}>"


# ---------------------------------------------------------------------------------------------------- helpers
class FakePrompt:
    name = "linked-prompt"
    version = 4
    is_fallback = False


@dataclasses.dataclass
class Point:
    x: int
    y: float


class Color(enum.Enum):
    RED = "red"


class Slotted:
    def __init__(self) -> None:
        self.a = 1
        self.b = [1, "two", None]


class Bare(Exception):
    pass


def _raise(exc: BaseException) -> None:
    raise exc


# =========================================================================================== observations
@scenario()
def span_every_field(ctx: Ctx) -> None:
    lf = ctx.client()
    span = lf.start_span(
        name="root",
        input={"q": "hi", "n": [1, 2.5, None, True]},
        output="plain",
        metadata={"s": "x", "i": 7, "b": True, "f": 0.5, "l": [1, 2], "d": {"k": "v"}, "none": None},
        version="v1",
        level="WARNING",
        status_message="careful",
    )
    span.update(output={"done": True}, metadata={"later": "yes"}, version="v2")
    span.update(name="renamed")
    child = span.start_span(name="child", input="c")
    child.end()
    span.end()
    ctx.record("ids", [len(span.id), len(span.trace_id), child.trace_id == span.trace_id])


@scenario()
def every_observation_type(ctx: Ctx) -> None:
    lf = ctx.client()
    with lf.start_as_current_observation(name="parent", as_type="agent") as parent:
        for as_type in (
            "span",
            "generation",
            "agent",
            "tool",
            "chain",
            "retriever",
            "evaluator",
            "embedding",
            "guardrail",
        ):
            obs = lf.start_observation(name=f"type-{as_type}", as_type=as_type, input=as_type, output=1)
            ctx.record(f"class-{as_type}", type(obs).__name__)
            obs.end()
            child = parent.start_observation(name=f"child-{as_type}", as_type=as_type)
            ctx.record(f"child-class-{as_type}", type(child).__name__)
            child.end()
        ev = lf.create_event(name="an-event", input={"e": 1}, metadata="meta-string")
        ctx.record("event-class", type(ev).__name__)


@scenario()
def unknown_observation_type(ctx: Ctx) -> None:
    lf = ctx.client()
    obs = ctx.attempt("start", lambda: lf.start_observation(name="weird", as_type="nonsense"))
    if obs is not None:
        obs.end()
    with contextlib.suppress(Exception), lf.start_as_current_observation(name="weird-current", as_type="odd"):
        pass


@scenario()
def generation_fields(ctx: Ctx) -> None:
    lf = ctx.client()
    with lf.start_as_current_observation(
        name="gen",
        as_type="generation",
        model="gpt-4o",
        model_parameters={"temperature": 0.2, "stop": "x"},
        usage_details={"input": 5, "output": 2},
        cost_details={"total": 0.0001, "input": 0.00005},
        completion_start_time=dt.datetime(2025, 5, 1, 10, 0, 0, 250000, tzinfo=dt.timezone.utc),
        prompt=FakePrompt(),
        input=[{"role": "user", "content": "hi"}],
    ) as gen:
        gen.update(output="Hello!", usage_details={"input": 6})
    emb = lf.start_observation(name="emb", as_type="embedding", model="text-emb", usage_details={"input": 9})
    emb.update(cost_details={"input": 1e-7})
    emb.end()


@scenario()
def usage_openai_and_anthropic_shapes(ctx: Ctx) -> None:
    lf = ctx.client()
    shapes = {
        "openai-chat": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
        "openai-details": {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 3},
            "completion_tokens_details": {"reasoning_tokens": 2},
        },
        "openai-responses": {
            "input_tokens": 7,
            "output_tokens": 3,
            "total_tokens": 10,
            "input_tokens_details": {"cached_tokens": 1},
        },
        "anthropic": {
            "input_tokens": 12,
            "output_tokens": 4,
            "cache_read_input_tokens": 2,
            "cache_creation_input_tokens": 1,
        },
        "langfuse": {"input": 1, "output": 2, "total": 3, "cache_read": 4},
        "floats": {"input": 1.5, "output": 2},
    }
    for label, usage in shapes.items():
        lf.start_observation(name=f"usage-{label}", as_type="generation", usage_details=usage).end()
        gen = lf.start_observation(name=f"usage-update-{label}", as_type="generation")
        gen.update(usage_details=usage)
        gen.end()


@scenario()
def event_update_is_refused(ctx: Ctx) -> None:
    lf = ctx.client()
    event = lf.create_event(name="ev", input="x")
    ctx.record("update-returns-self", event.update(output="late") is event)
    with lf.start_as_current_span(name="holder") as span:
        child = span.create_event(name="child-ev", output="e", level="ERROR", status_message="bad")
        child.update(name="nope")


@scenario()
def current_updates(ctx: Ctx) -> None:
    lf = ctx.client()
    ctx.record("outside-trace-id", lf.get_current_trace_id())
    ctx.record("outside-observation-id", lf.get_current_observation_id())
    lf.update_current_span(output="ignored")  # no active span
    lf.update_current_trace(name="ignored")
    with lf.start_as_current_span(name="outer") as outer:
        ctx.record(
            "inside-ids",
            [lf.get_current_trace_id() == outer.trace_id, lf.get_current_observation_id() == outer.id],
        )
        lf.update_current_span(output="current-out", level="DEBUG", version="cv", metadata={"m": 1})
        lf.update_current_trace(
            name="tn",
            user_id="u",
            session_id="s",
            version="tv",
            input="ti",
            output={"to": 1},
            metadata={"tm": "x"},
            tags=["a", "b"],
            public=True,
        )
        with lf.start_as_current_observation(name="inner-gen", as_type="generation"):
            lf.update_current_generation(
                model="m-1", usage_details={"input": 3}, metadata={"g": 1}, name="renamed-gen"
            )
            lf.update_current_span(status_message="from span api")
        with lf.start_as_current_observation(name="inner-span"):
            lf.update_current_generation(model="m-2")


@scenario()
def update_trace_every_field(ctx: Ctx) -> None:
    lf = ctx.client()
    span = lf.start_span(name="t")
    span.update_trace(
        name="trace-name",
        user_id="u-1",
        session_id="s-1",
        version="tv",
        input="ti",
        output={"to": 1},
        metadata={"tm": "x", "tn": 3, "nested": {"a": [1]}},
        tags=["a", "b"],
        public=True,
    )
    span.update_trace(tags=["c"], metadata={"more": None})
    span.end()


@scenario()
def with_block_exceptions(ctx: Ctx) -> None:
    lf = ctx.client()
    for label, exc in (
        ("with-message", ValueError("bad thing")),
        ("keyerror-bare", KeyError()),
        ("custom-bare", Bare()),
        ("keyerror-msg", KeyError("k")),
    ):
        with contextlib.suppress(Exception), lf.start_as_current_span(name=f"span-{label}"):
            raise exc
        with (
            contextlib.suppress(Exception),
            lf.start_as_current_observation(name=f"gen-{label}", as_type="generation"),
        ):
            raise exc
    with lf.start_as_current_span(name="explicit-error", level="ERROR", status_message="explicit"):
        pass
    with lf.start_as_current_span(name="explicit-error-later") as span:
        span.update(level="ERROR", status_message="later")
    with lf.start_as_current_span(name="error-without-message", level="ERROR"):
        pass


@scenario()
def observe_exceptions(ctx: Ctx) -> None:
    ctx.client()
    observe = ctx.mod.observe
    for label, exc in (
        ("with-message", RuntimeError("nope")),
        ("keyerror-bare", KeyError()),
        ("custom-bare", Bare()),
        ("empty-string", ValueError("")),
    ):
        fn = observe(name=f"fail-{label}")(lambda e=exc: _raise(e))
        with contextlib.suppress(Exception):
            fn()

        async def afail(e: BaseException = exc) -> None:
            raise e

        with contextlib.suppress(Exception):
            asyncio.run(observe(name=f"afail-{label}")(afail)())


@scenario()
def trace_context_ids(ctx: Ctx) -> None:
    lf = ctx.client()
    lower = lf.create_trace_id(seed="conformance")
    ctx.record("seeded-trace-id", lower)
    ctx.record("random-trace-id-shape", [len(lf.create_trace_id()), lf.create_trace_id().islower()])
    ctx.record("seeded-observation-id", lf._create_observation_id(seed="conformance"))
    forms = {
        "lower": {"trace_id": lower},
        "upper": {"trace_id": lower.upper()},
        "mixed": {"trace_id": lower[:16].upper() + lower[16:]},
        "with-parent": {"trace_id": lower, "parent_span_id": "0123456789abcdef"},
        "upper-parent": {"trace_id": lower, "parent_span_id": "0123456789ABCDEF"},
    }
    for label, tc in forms.items():
        lf.start_span(name=f"span-{label}", trace_context=tc).end()
        with lf.start_as_current_observation(name=f"cur-{label}", trace_context=tc, as_type="tool"):
            pass
        lf.create_event(name=f"event-{label}", trace_context=tc)


@scenario()
def trace_context_invalid_ids(ctx: Ctx) -> None:
    lf = ctx.client()
    seeded = lf.create_trace_id(seed="invalid")
    for label, tc in {
        "short": {"trace_id": "abc"},
        "non-hex": {"trace_id": "z" * 32},
        "bad-parent": {"trace_id": seeded, "parent_span_id": "xyz"},
    }.items():
        ctx.attempt(
            f"start-{label}", lambda tc=tc, n=f"span-{label}": lf.start_span(name=n, trace_context=tc).end()
        )


@scenario()
def observe_special_kwargs(ctx: Ctx) -> None:
    lf = ctx.client()
    observe = ctx.mod.observe
    seeded = lf.create_trace_id(seed="special")
    fn = observe(name="special")(lambda x: x)
    ctx.record("plain", fn(1, langfuse_trace_id=seeded))
    fn(2, langfuse_trace_id=seeded, langfuse_parent_observation_id="00000000000000aa")
    fn(3, langfuse_trace_id=seeded.upper())
    fn(4, langfuse_public_key=ctx.key())
    observe(name="special-unknown-key")(lambda: 5)(langfuse_public_key="pk-nobody")


@scenario()
def trace_url_and_ids(ctx: Ctx) -> None:
    lf = ctx.client()
    seeded = lf.create_trace_id(seed="url")
    ctx.record("url-given", lf.get_trace_url(trace_id=seeded))
    ctx.record("url-none", lf.get_trace_url())
    with lf.start_as_current_span(name="with-url") as span:
        ctx.record("url-current", lf.get_trace_url() == lf.get_trace_url(trace_id=span.trace_id))
    ctx.record("auth-check", lf.auth_check())


# ============================================================================================== @observe
@scenario()
def observe_shapes(ctx: Ctx) -> None:
    lf = ctx.client()
    observe = ctx.mod.observe

    @observe
    def leaf(x: int, *, y: int = 1) -> int:
        return x + y

    @observe(name="outer", as_type="chain")
    def outer(x: int) -> int:
        return leaf(x, y=2) + leaf(1)

    @observe(capture_input=False)
    def no_input(secret: str) -> str:
        return "out"

    @observe(capture_output=False)
    def no_output(x: int) -> dict[str, int]:
        return {"x": x}

    @observe(as_type="generation")
    def llm(prompt: str) -> dict[str, str]:
        lf.update_current_generation(model="m", usage_details={"input": 3})
        return {"text": prompt}

    @observe
    def returns_none() -> None:
        return None

    class Service:
        @observe(name="method")
        def handle(self, item: str) -> str:
            return item

        @classmethod
        @observe(name="class-method")
        def build(cls, v: int) -> int:
            return v

        @staticmethod
        @observe(name="static-method")
        def helper(v: int) -> int:
            return v

    ctx.record("outer", outer(1))
    ctx.record("no_input", no_input("s3cret"))
    ctx.record("no_output", no_output(2))
    ctx.record("llm", llm("p"))
    ctx.record("none", returns_none())
    ctx.record("method", Service().handle("it"))
    ctx.record("classmethod", Service.build(3))
    ctx.record("staticmethod", Service.helper(4))
    ctx.record("names", [leaf.__name__, outer.__name__, Service.handle.__name__])


@scenario()
def observe_io_values(ctx: Ctx) -> None:
    ctx.client()
    observe = ctx.mod.observe

    @observe
    def echo(*args: Any, **kwargs: Any) -> Any:
        return args[0] if args else kwargs

    values = {
        "dataclass": Point(1, 2.0),
        "object": Slotted(),
        "bytes": b"bytes",
        "date": dt.date(2024, 1, 2),
        "datetime": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        "int-key": {1: "x"},
        "set": {3},
        "tuple": (1, "a"),
        "enum": Color.RED,
        "nested-none": {"a": None, "b": [None]},
        "unicode": "héllo ✓",
        "empty-dict": {},
        "empty-list": [],
        "bool": True,
        "float": 0.1,
        "exception": ValueError("as value"),
    }
    for label, value in values.items():
        echo(value, label=label)


@scenario()
def generators(ctx: Ctx) -> None:
    lf = ctx.client()
    observe = ctx.mod.observe
    from opentelemetry import trace

    seen: dict[str, Any] = {}

    @observe(name="inner")
    def inner() -> str:
        return "i"

    @observe(name="stream")
    def stream(n: int):  # type: ignore[no-untyped-def]
        seen["body-span-valid"] = trace.get_current_span().get_span_context().is_valid
        seen["body-observation"] = lf.get_current_observation_id() is not None
        yield inner()
        for i in range(n):
            yield f"c{i}"

    @observe(name="empty-stream")
    def empty():  # type: ignore[no-untyped-def]
        yield from ()

    @observe(name="numbers")
    def numbers():  # type: ignore[no-untyped-def]
        yield 1
        yield {"a": 2}

    @observe(name="transformed", transform_to_string=lambda items: "|".join(map(str, items)))
    def transformed():  # type: ignore[no-untyped-def]
        yield 1
        yield 2

    @observe(name="failing-stream")
    def failing():  # type: ignore[no-untyped-def]
        yield "a"
        raise ValueError("mid-stream")

    @observe(name="astream")
    async def astream():  # type: ignore[no-untyped-def]
        seen["async-body-span-valid"] = trace.get_current_span().get_span_context().is_valid
        yield "x"
        yield "y"

    @observe(name="aempty")
    async def aempty():  # type: ignore[no-untyped-def]
        return
        yield

    def handler():  # type: ignore[no-untyped-def]
        return stream(2)  # consumed after the caller returned (streaming responses)

    gen = handler()
    between = [trace.get_current_span().get_span_context().is_valid for _ in gen]
    ctx.record("between-yields-span-valid", between)

    @observe(name="traced-handler")
    def traced_handler():  # type: ignore[no-untyped-def]
        return stream(1)  # the handler's observation ends before the stream is read

    ctx.record("traced-handler", list(traced_handler()))
    ctx.record("empty", list(empty()))
    ctx.record("numbers", list(numbers()))
    ctx.record("transformed", list(transformed()))
    ctx.attempt("failing", lambda: list(failing()))

    async def consume() -> list[Any]:
        return [item async for item in astream()] + [item async for item in aempty()]

    ctx.record("async", asyncio.run(consume()))
    ctx.record("seen", seen)


@scenario()
def generator_abandoned_early(ctx: Ctx) -> None:
    ctx.client()

    @ctx.mod.observe(name="abandoned")
    def stream():  # type: ignore[no-untyped-def]
        yield "first"
        yield "second"

    for item in stream():
        ctx.record("first", item)
        break  # the consumer stops; the generator is closed when collected


@scenario()
def sdk_objects_as_values(ctx: Ctx) -> None:
    lf = ctx.client()

    @ctx.mod.observe(name="takes-the-client")
    def handler(langfuse: Any, question: str) -> Any:
        return {"answer": question, "client": langfuse}

    handler(lf, "q")


@scenario()
def io_capture_disabled_by_env(ctx: Ctx) -> None:
    os.environ["LANGFUSE_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED"] = "false"
    try:
        ctx.client()
        fn = ctx.mod.observe(name="quiet")(lambda x: {"x": x})
        loud = ctx.mod.observe(name="loud", capture_input=True, capture_output=True)(lambda x: x)
    finally:
        del os.environ["LANGFUSE_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED"]
    ctx.record("quiet", fn(1))
    ctx.record("loud", loud(2))


@scenario()
def media_in_observations(ctx: Ctx) -> None:
    lf = ctx.client()
    media = ctx.mod.media.LangfuseMedia
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    image = media(content_bytes=png, content_type="image/png")
    data_uri = "data:text/plain;base64," + base64.b64encode(b"hello media").decode()
    with lf.start_as_current_span(
        name="with-media",
        input={"image": image, "text": "t"},
        metadata={"doc": media(base64_data_uri=data_uri)},
    ) as span:
        span.update(output=[image, "after"])


@scenario()
def dataset_item_run(ctx: Ctx) -> None:
    lf = ctx.client()
    dataset = lf.get_dataset("run-set")
    for item in dataset.items[:2]:
        with item.run(run_name="manual-run", run_metadata={"m": 1}, run_description="d") as span:
            span.update(output=f"answer for {item.id}")
            ctx.record(f"span-class-{item.id}", type(span).__name__)


@scenario()
def client_options(ctx: Ctx) -> None:
    lf = ctx.client()
    with lf.start_as_current_observation(name="kept-open", end_on_exit=False) as kept:
        pass
    kept.update(output="ended later")
    kept.end()
    stamp = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    lf.create_score(name="stamped", value=1, trace_id=lf.create_trace_id(seed="o"), timestamp=stamp)
    span = lf.start_span(name="explicit-end")
    span.end(end_time=span._otel_span.start_time + 5_000_000)


@scenario()
def get_client_without_a_client(ctx: Ctx) -> None:
    client = ctx.mod.get_client()
    ctx.record("type", type(client).__name__)
    client.start_span(name="nowhere").end()
    ctx.record("observed", ctx.mod.observe(name="nothing")(lambda: 3)())


@scenario()
def environment_values(ctx: Ctx) -> None:
    for suffix, environment in (
        ("-upper", "Production"),
        ("-reserved", "langfuse-internal"),
        ("-ok", "staging_2"),
        ("-long", "e" * 50),
    ):
        lf = ctx.client(suffix, environment=environment)
        lf.start_span(name=f"env{suffix}").end()
        ctx.mod.observe(name=f"env-observe{suffix}")(lambda: 1)(langfuse_public_key=ctx.key(suffix))


@scenario()
def generation_fields_on_other_types(ctx: Ctx) -> None:
    lf = ctx.client()
    for as_type in ("span", "agent", "tool", "embedding"):
        obs = lf.start_observation(
            name=f"fields-{as_type}",
            as_type=as_type,
            model="m",
            usage_details={"input": 1},
            model_parameters={"t": 1},
        )
        obs.update(model="m2", cost_details={"total": 0.5})
        obs.end()
    ev = lf.create_event(
        name="ev-with-level",
        level="ERROR",
        status_message="bad",
        trace_context={"trace_id": lf.create_trace_id(seed="ev")},
    )
    ctx.record("event", type(ev).__name__)


@scenario()
def score_type_inference(ctx: Ctx) -> None:
    lf = ctx.client()
    seeded = lf.create_trace_id(seed="inference")
    lf.create_score(name="str-no-type", value="text", trace_id=seeded)
    lf.create_score(name="float-bool", value=1.0, data_type="BOOLEAN", trace_id=seeded)
    lf.create_score(name="int-categorical", value=2, data_type="CATEGORICAL", trace_id=seeded)  # type: ignore[arg-type]
    lf.create_score(name="no-comment", value=0.0, trace_id=seeded, comment=None, metadata=None)
    lf.create_score(name="metadata-shapes", value=1, trace_id=seeded, metadata={"n": [1, {"x": None}]})


@scenario()
def async_context_managers(ctx: Ctx) -> None:
    lf = ctx.client()

    async def body() -> list[Any]:
        seen = []
        async with lf.start_as_current_observation(name="async-with", as_type="agent") as outer:
            seen.append(lf.get_current_observation_id() == outer.id)
            await asyncio.sleep(0)
            async with lf.start_as_current_observation(name="async-inner", as_type="tool"):
                seen.append(lf.get_current_trace_id() == outer.trace_id)
        return seen

    ctx.attempt("async-with", lambda: asyncio.run(body()))


# ============================================================================================ deprecations
@scenario("rest")
def deprecated_methods(ctx: Ctx) -> None:
    lf = ctx.client()
    lf.start_generation(name="client-start-generation", model="m").end()
    with lf.start_as_current_generation(name="client-current-generation", model="m"):
        pass
    with lf.start_as_current_span(name="client-current-span") as span:
        span.start_generation(name="span-start-generation").end()
        with span.start_as_current_generation(name="span-current-generation"):
            pass
        with span.start_as_current_span(name="span-current-span"):
            pass


# ============================================================================================ propagation
@scenario("rest")
def propagate_attributes_fields(ctx: Ctx) -> None:
    lf = ctx.client()
    propagate = ctx.mod.propagate_attributes
    with lf.start_as_current_span(name="prop-root"):
        with propagate(
            user_id="pu",
            session_id="ps",
            metadata={"pm": "v", "n": "1"},
            version="pv",
            tags=["pt", "pt2"],
            trace_name="ptn",
        ):
            lf.start_observation(name="prop-child", as_type="tool").end()
            with propagate(user_id="inner-user", tags=["more"]):
                lf.start_observation(name="prop-nested").end()
        with propagate(user_id="bu", tags=["x"], metadata={"bm": "b"}, as_baggage=True):
            lf.start_observation(name="prop-baggage").end()


@scenario("rest")
def propagate_attributes_invalid(ctx: Ctx) -> None:
    lf = ctx.client()
    propagate = ctx.mod.propagate_attributes
    with lf.start_as_current_span(name="inv-root"):
        with propagate(user_id="u" * 201, session_id="ok", metadata={"long": "m" * 201, "fine": "f"}):
            lf.start_observation(name="inv-long").end()
        with propagate(user_id=123, metadata={"num": 5}):  # type: ignore[arg-type]
            lf.start_observation(name="inv-non-string").end()


# ================================================================================================ masking
@scenario("rest")
def masks(ctx: Ctx) -> None:
    def mask(*, data: Any, **_: Any) -> Any:
        return data.replace("secret", "***") if isinstance(data, str) else data

    lf = ctx.client(mask=mask)
    with lf.start_as_current_span(
        name="masked", input="a secret value", output={"k": "secret"}, metadata={"m": "secret"}
    ) as span:
        span.update(output="another secret")
        span.update_trace(input="trace secret")
    ctx.mod.observe(name="masked-observe")(lambda s: s)("observed secret")


@scenario("rest")
def failing_mask(ctx: Ctx) -> None:
    def mask(*, data: Any, **_: Any) -> Any:
        raise RuntimeError("mask broke")

    lf = ctx.client(mask=mask)
    lf.start_span(name="fully-masked", input="x", output={"y": 1}).end()
    lf.shutdown()  # flushes; the client is not used afterwards


# ================================================================================================= scores
@scenario("rest")
def scores(ctx: Ctx) -> None:
    lf = ctx.client()
    seeded = lf.create_trace_id(seed="scores")
    lf.create_score(name="num", value=1, trace_id=seeded, comment="c")
    lf.create_score(name="float", value=0.25, trace_id=seeded, observation_id="00000000000000ab")
    lf.create_score(name="cat", value="good", data_type="CATEGORICAL", trace_id=seeded)
    lf.create_score(name="bool", value=0, data_type="BOOLEAN", session_id="sess", metadata={"m": 1})
    lf.create_score(name="run", value=2, dataset_run_id="run-1")
    lf.create_score(name="cfg", value=1, trace_id=seeded, config_id="cfg-1", score_id="fixed-score-id")
    lf.create_score(name="upper-trace", value=1, trace_id=seeded.upper())
    with lf.start_as_current_span(name="scored") as span:
        span.score(name="span-score", value=3)
        span.score_trace(name="trace-score", value="x", data_type="CATEGORICAL")
        lf.score_current_span(name="current-span-score", value=4, comment="cs")
        lf.score_current_trace(name="current-trace-score", value=5)
    lf.score_current_span(name="no-span", value=1)


@scenario("rest")
def score_value_edge_cases(ctx: Ctx) -> None:
    lf = ctx.client()
    seeded = lf.create_trace_id(seed="score-edges")
    lf.create_score(name="empty-metadata", value=1, trace_id=seeded, metadata={})
    lf.create_score(name="nan", value=float("nan"), trace_id=seeded)
    lf.create_score(name="big-int", value=2**60, trace_id=seeded)
    lf.create_score(name="bool-true", value=True, data_type="BOOLEAN", trace_id=seeded)  # type: ignore[arg-type]


# ========================================================================================= serialization
@scenario("rest")
def value_serialization(ctx: Ctx) -> None:
    lf = ctx.client()
    values = {
        "dataclass": [Point(1, 2.0)],
        "object": Slotted(),
        "bytes": b"\x00\xffbytes",
        "date": dt.date(2024, 1, 2),
        "datetime-naive": dt.datetime(2024, 1, 2, 3, 4, 5),
        "int-key": {1: "x", 2: None},
        "set": {1},
        "tuple": (1, "a"),
        "enum": Color.RED,
        "unicode": "héllo ✓",
        "empty-dict": {},
        "empty-list": [],
        "empty-string": "",
        "nested": {"a": {"b": {"c": [1, {"d": None}]}}},
        "exception": ValueError("v"),
        "nan": float("nan"),
        "inf": float("inf"),
        "big-int": 2**60,
        "decimal": decimal.Decimal("3.10"),
        "time": dt.time(1, 2, 3),
        "timedelta": dt.timedelta(seconds=90),
        "tuple-key": {(1, 2): "t"},
        "zero": 0,
        "false": False,
    }
    for label, value in values.items():
        lf.start_span(name=f"value-{label}", input=value, output=[value], metadata={"v": value}).end()


@scenario("rest")
def metadata_shapes(ctx: Ctx) -> None:
    lf = ctx.client()
    shapes = {
        "list": [1, 2, 3],
        "string": "meta",
        "int": 5,
        "none-values": {"a": None, "b": "x"},
        "nested": {"n": {"deep": [1, {"x": 2}]}},
        "bool-float": {"b": False, "f": 1.5},
        "empty": {},
    }
    for label, metadata in shapes.items():
        lf.start_span(name=f"meta-{label}", metadata=metadata).end()


# ========================================================================== disabled and keyless clients
@scenario("rest")
def keyless_client(ctx: Ctx) -> None:
    lf = ctx.mod.Langfuse(base_url=f"{ctx.url}/nokey-{ctx.sdk}-{ctx.name}")
    ctx.clients.append(lf)
    span = lf.start_span(name="nothing", input="x")
    span.update(output="y")
    span.end()
    with lf.start_as_current_observation(name="nothing-current", as_type="generation") as gen:
        gen.update(model="m")
        lf.update_current_trace(name="t")
        ctx.record("current-trace-id", lf.get_current_trace_id())
    lf.create_score(name="s", value=1, trace_id=lf.create_trace_id(seed="k"))
    ctx.attempt("get_prompt", lambda: lf.get_prompt("any-prompt"))
    ctx.attempt("get_prompt_fallback", lambda: lf.get_prompt("any-prompt", fallback="fb {{x}}").compile(x=1))
    ctx.record("observed", ctx.mod.observe(name="keyless-observe")(lambda: 1)())
    ctx.attempt("auth_check", lf.auth_check)
    ctx.attempt("create_prompt", lambda: lf.create_prompt(name="p", prompt="x"))
    ctx.record("trace-url", lf.get_trace_url(trace_id=lf.create_trace_id(seed="k")))
    lf.flush()


@scenario("rest")
def tracing_disabled_client(ctx: Ctx) -> None:
    lf = ctx.client(tracing_enabled=False)
    lf.start_span(name="not-exported").end()
    with lf.start_as_current_span(name="not-exported-current"):
        ctx.record("current-trace-id", lf.get_current_trace_id())
    ctx.record("observed", ctx.mod.observe(name="disabled-observe")(lambda: 2)())
    prompt = ctx.attempt("get_prompt", lambda: lf.get_prompt("text-when-disabled").compile(name="n"))
    del prompt
    lf.create_score(name="s", value=1, trace_id=lf.create_trace_id(seed="d"))


@scenario("rest")
def multi_project_clients(ctx: Ctx) -> None:
    first = ctx.client("-a")
    second = ctx.client("-b")
    observe = ctx.mod.observe
    fn = observe(name="which-project")(lambda: "r")
    ctx.record("no-key", fn())
    ctx.record("key-a", fn(langfuse_public_key=ctx.key("-a")))
    ctx.record("key-b", fn(langfuse_public_key=ctx.key("-b")))
    first.start_span(name="direct-a").end()
    second.start_span(name="direct-b").end()
    ctx.record("get_client-a", type(ctx.mod.get_client(public_key=ctx.key("-a"))).__name__)
    ctx.record("get_client-none-enabled", type(ctx.mod.get_client()).__name__)


# ================================================================================================ prompts
@scenario("rest")
def prompt_text(ctx: Ctx) -> None:
    lf = ctx.client()
    prompt = lf.get_prompt("text-greeting")
    ctx.record(
        "fields",
        [
            prompt.name,
            prompt.version,
            prompt.prompt,
            prompt.config,
            prompt.labels,
            prompt.tags,
            prompt.is_fallback,
            type(prompt).__name__,
        ],
    )
    ctx.record("compile", prompt.compile(name="Ada", mood=None))
    ctx.record("compile-partial", prompt.compile(name="Ada"))
    ctx.record("variables", prompt.variables)
    ctx.record("langchain", prompt.get_langchain_prompt())
    ctx.record("cached", lf.get_prompt("text-greeting").version)
    ctx.record("by-version", lf.get_prompt("text-greeting", version=7).version)
    ctx.record("by-label", lf.get_prompt("text-greeting", label="staging").version)
    ctx.attempt("version-and-label", lambda: lf.get_prompt("text-greeting", version=1, label="x"))
    ctx.record("no-cache", lf.get_prompt("text-greeting", cache_ttl_seconds=0).version)
    lf.clear_prompt_cache()
    ctx.record("after-clear", lf.get_prompt("text-greeting").version)


@scenario("rest")
def prompt_chat(ctx: Ctx) -> None:
    lf = ctx.client()
    prompt = lf.get_prompt("chat-assistant", type="chat")
    ctx.record("type", type(prompt).__name__)
    ctx.record("prompt", prompt.prompt)
    ctx.record("variables", prompt.variables)
    ctx.record(
        "compile",
        prompt.compile(role="helper", question="why?", history=[{"role": "user", "content": "earlier"}]),
    )
    ctx.record("compile-unfilled-placeholder", prompt.compile(role="r", question="q"))
    ctx.record("langchain", prompt.get_langchain_prompt())
    with lf.start_as_current_observation(name="with-prompt", as_type="generation", prompt=prompt):
        pass


@scenario("rest")
def prompt_fetch_failures(ctx: Ctx) -> None:
    lf = ctx.client()
    ctx.attempt("missing", lambda: lf.get_prompt("missing-one", max_retries=0))
    fb = ctx.attempt(
        "missing-fallback",
        lambda: lf.get_prompt("missing-two", fallback="Hi {{x}}", max_retries=0).compile(x="there"),
    )
    del fb
    chat = ctx.attempt(
        "missing-chat-fallback",
        lambda: lf.get_prompt(
            "missing-three", type="chat", fallback=[{"role": "system", "content": "s {{v}}"}], max_retries=0
        ).compile(v=1),
    )
    del chat
    ctx.attempt(
        "broken-fallback",
        lambda: [
            (p.is_fallback, p.prompt) for p in [lf.get_prompt("broken-one", fallback="f", max_retries=0)]
        ],
    )


@scenario("rest")
def prompt_create_and_update(ctx: Ctx) -> None:
    lf = ctx.client()
    text = lf.create_prompt(
        name="new-text",
        prompt="T {{a}}",
        labels=["production"],
        tags=["x"],
        config={"model": "m"},
        commit_message="first",
    )
    ctx.record("text", [type(text).__name__, text.name, text.version, text.prompt, text.labels])
    chat = lf.create_prompt(
        name="new-chat",
        type="chat",
        prompt=[{"role": "system", "content": "S"}, {"type": "placeholder", "name": "h"}],
    )
    ctx.record("chat", [type(chat).__name__, chat.prompt])
    ctx.attempt("bad-chat", lambda: lf.create_prompt(name="bad", type="chat", prompt="not a list"))
    ctx.attempt("update", lambda: lf.update_prompt(name="new-text", version=1, new_labels=["prod"]).labels)


# ============================================================================================ REST client
def _api_calls(api: Any) -> dict[str, Callable[[], Any]]:
    """One call per REST method with its optional arguments; the recorded requests are compared."""
    t0 = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    t1 = dt.datetime(2025, 2, 3, 4, 5, 6, 789000, tzinfo=dt.timezone.utc)
    return {
        "health": lambda: api.health.health(),
        "projects": lambda: api.projects.get(),
        "trace.get": lambda: api.trace.get("trace-1"),
        "trace.list": lambda: api.trace.list(
            page=2,
            limit=5,
            user_id="u",
            name="n",
            session_id="s",
            from_timestamp=t0,
            to_timestamp=t1,
            order_by="timestamp.asc",
            tags=["a", "b"],
            version="v",
            release="r",
            environment=["e1", "e2"],
            fields="core,io",
        ),
        "trace.delete": lambda: api.trace.delete("trace-1"),
        "trace.delete_multiple": lambda: api.trace.delete_multiple(trace_ids=["t1", "t2"]),
        "observations.get": lambda: api.observations.get("obs-1"),
        "observations.get_many": lambda: api.observations.get_many(
            page=1,
            limit=10,
            name="x",
            user_id="u",
            type="GENERATION",
            trace_id="t",
            level="ERROR",
            parent_observation_id="p",
            environment=["e"],
            from_start_time=t0,
            to_start_time=t1,
            version="v",
        ),
        "sessions.list": lambda: api.sessions.list(
            page=1, limit=2, from_timestamp=t0, to_timestamp=t1, environment=["e"]
        ),
        "sessions.get": lambda: api.sessions.get("sess-1"),
        "score_v_2.get": lambda: api.score_v_2.get(
            page=1,
            limit=3,
            user_id="u",
            name="n",
            from_timestamp=t0,
            to_timestamp=t1,
            source="API",
            operator=">=",
            value=0.5,
            score_ids="a,b",
            config_id="c",
            data_type="NUMERIC",
            environment=["e"],
            trace_tags=["x"],
        ),
        "score_v_2.get_by_id": lambda: api.score_v_2.get_by_id("score-1"),
        "score.create": lambda: api.score.create(request={"name": "s", "value": 1, "traceId": "t"}),
        "score.delete": lambda: api.score.delete("score-1"),
        "score_configs.get": lambda: api.score_configs.get(page=1, limit=2),
        "score_configs.get_by_id": lambda: api.score_configs.get_by_id("cfg-1"),
        "prompts.list": lambda: api.prompts.list(
            name="p", label="l", tag="t", page=1, limit=2, from_updated_at=t0, to_updated_at=t1
        ),
        "prompts.get-version": lambda: api.prompts.get("text-api", version=3),
        "prompts.get-label": lambda: api.prompts.get("text-api", label="staging"),
        "prompts.get-missing": lambda: api.prompts.get("missing-api"),
        "prompt_version.update": lambda: api.prompt_version.update(
            name="text-api", version=1, new_labels=["a"]
        ),
        "datasets.list": lambda: api.datasets.list(page=1, limit=5),
        "datasets.get": lambda: api.datasets.get("api-set"),
        "datasets.get_run": lambda: api.datasets.get_run("api-set", "run-1"),
        "datasets.get_runs": lambda: api.datasets.get_runs("api-set", page=1, limit=2),
        "datasets.delete_run": lambda: api.datasets.delete_run("api-set", "run-1"),
        "dataset_items.get": lambda: api.dataset_items.get("item-1"),
        "dataset_items.list": lambda: api.dataset_items.list(
            dataset_name="api-set", source_trace_id="t", source_observation_id="o", page=1, limit=2
        ),
        "dataset_items.delete": lambda: api.dataset_items.delete("item-1"),
        "dataset_run_items.list": lambda: api.dataset_run_items.list(
            dataset_id="ds", run_name="r", page=1, limit=2
        ),
        "media.get": lambda: api.media.get("media-1"),
        "ingestion.batch": lambda: api.ingestion.batch(
            batch=[
                {
                    "id": "e1",
                    "type": "score-create",
                    "timestamp": "2025-01-02T03:04:05.000Z",
                    "body": {"id": "s1", "name": "n", "value": 1, "traceId": "t"},
                }
            ],
            metadata={"m": 1},
        ),
    }


@scenario("rest")
def rest_client_requests(ctx: Ctx) -> None:
    lf = ctx.client()
    for label, call in _api_calls(lf.api).items():
        try:
            result = call()
        except Exception as exc:
            ctx.results[label] = {"raised": type(exc).__name__, "status": getattr(exc, "status_code", None)}
        else:
            ctx.results[label] = type(result).__name__


@scenario("rest")
def rest_client_async(ctx: Ctx) -> None:
    lf = ctx.client()

    async def calls() -> list[Any]:
        out = []
        for call in (
            lambda: lf.async_api.prompts.get("text-async", label="x"),
            lambda: lf.async_api.trace.list(page=1, limit=1, tags=["t"]),
            lambda: lf.async_api.datasets.get("async-set"),
        ):
            try:
                out.append(type(await call()).__name__)
            except Exception as exc:
                out.append(type(exc).__name__)
        return out

    ctx.record("async", asyncio.run(calls()))


# ============================================================================================== datasets
@scenario("rest")
def datasets(ctx: Ctx) -> None:
    lf = ctx.client()
    dataset = lf.get_dataset("qa-set")
    ctx.record(
        "dataset",
        [
            dataset.name,
            dataset.id,
            len(dataset.items),
            [item.input for item in dataset.items],
            [item.id for item in dataset.items],
        ],
    )
    ctx.attempt("missing", lambda: lf.get_dataset("missing"))
    ctx.attempt("create", lambda: lf.create_dataset(name="made", description="d", metadata={"k": 1}).name)
    ctx.attempt(
        "create-item",
        lambda: (
            lf.create_dataset_item(
                dataset_name="made", input={"q": 1}, expected_output="a", metadata={"m": 1}
            ).input
        ),
    )
    ctx.attempt(
        "create-item-odd-numbers",
        lambda: (
            lf.create_dataset_item(
                dataset_name="made", input={"nan": float("nan"), "big": 2**60, "ok": 1.5}
            ).id
        ),
    )


# =========================================================================================== experiments
def _task(*, item: Any, **_: Any) -> str:
    value = item["input"] if isinstance(item, dict) else item.input
    if value == "boom":
        raise ValueError("task failed")
    return f"out:{value}"


def _length(*, input: Any, output: Any, **_: Any) -> Any:
    return SDK[0].Evaluation(name="length", value=len(str(output)))  # not a dict: that is F3


def _failing_evaluator(*, output: Any, **_: Any) -> Any:
    raise RuntimeError("evaluator failed")


@scenario("rest")
def experiment_local(ctx: Ctx) -> None:
    lf = ctx.client()
    Evaluation = ctx.mod.Evaluation

    def exact(*, output: Any, expected_output: Any, **_: Any) -> Any:
        return Evaluation(name="exact", value=output == expected_output, comment="cmp")

    result = lf.run_experiment(
        name="local-exp",
        data=[{"input": "a", "expected_output": "out:a"}, {"input": "boom"}, {"expected_output": "no input"}],
        task=_task,
        evaluators=[exact, _failing_evaluator],
        run_evaluators=[lambda *, item_results, **_: Evaluation(name="count", value=len(item_results))],
    )
    ctx.record("items", [[r.output, [(e.name, e.value) for e in r.evaluations]] for r in result.item_results])
    ctx.record("run-evaluations", [(e.name, e.value) for e in result.run_evaluations])
    ctx.record("names", [result.name, result.run_name == result.name or "derived"])


@scenario("rest")
def experiment_dataset(ctx: Ctx) -> None:
    lf = ctx.client()
    dataset = lf.get_dataset("exp-set")
    result = dataset.run_experiment(name="ds-exp", task=_task, evaluators=[_length], run_name="fixed-run")
    ctx.record("outputs", [r.output for r in result.item_results])
    ctx.record("url", result.dataset_run_url)
    ctx.record("run-name", result.run_name)


@scenario("rest")
def batch_evaluation(ctx: Ctx) -> None:
    lf = ctx.client()
    EvaluatorInputs = ctx.mod.EvaluatorInputs

    def mapper(*, item: Any, **_: Any) -> Any:
        return EvaluatorInputs(input=item.input, output=item.output, expected_output=None, metadata={})

    result = lf.run_batched_evaluation(
        scope="traces", mapper=mapper, evaluators=[_length], max_items=3, fetch_batch_size=2
    )
    ctx.record(
        "counts",
        [
            result.total_items_fetched,
            result.total_items_processed,
            result.total_scores_created,
            result.completed,
            result.has_more_items,
        ],
    )


# ========================================================================================= configuration
@scenario("sampling")
def sampling(ctx: Ctx) -> None:
    lf = ctx.client(sample_rate=0.5)
    for i in range(40):
        lf.start_span(name=f"sampled-{i}", trace_context={"trace_id": lf.create_trace_id(seed=f"s{i}")}).end()
        lf.create_score(name=f"score-{i}", value=i, trace_id=lf.create_trace_id(seed=f"s{i}"))
    lf.create_score(name="session-score", value=1, session_id="always")


@scenario("environment_arguments")
def environment_and_release_arguments(ctx: Ctx) -> None:
    os.environ["LANGFUSE_TRACING_ENVIRONMENT"] = "from-env"
    os.environ["LANGFUSE_RELEASE"] = "env-release"
    try:
        lf = ctx.client(environment="from-arg", release="arg-release")
    finally:
        del os.environ["LANGFUSE_TRACING_ENVIRONMENT"], os.environ["LANGFUSE_RELEASE"]
    lf.start_span(name="env-span").end()
    ctx.mod.observe(name="env-observe")(lambda: 1)()


@scenario("environment_variables")
def environment_and_release_from_env(ctx: Ctx) -> None:
    os.environ["LANGFUSE_TRACING_ENVIRONMENT"] = "from-env"
    os.environ["GITHUB_SHA"] = "sha-release"
    try:
        lf = ctx.client()
    finally:
        del os.environ["LANGFUSE_TRACING_ENVIRONMENT"], os.environ["GITHUB_SHA"]
    lf.start_span(name="env-span").end()
    lf.create_score(name="env-score", value=1, trace_id=lf.create_trace_id(seed="e"))


@scenario("otel_interop")
def other_instrumentations(ctx: Ctx) -> None:
    from opentelemetry import trace

    lf = ctx.client(blocked_instrumentation_scopes=["blocked-lib"])
    other, blocked = trace.get_tracer("other-lib"), trace.get_tracer("blocked-lib")
    with lf.start_as_current_span(name="langfuse-root"):
        with other.start_as_current_span("third-party-child") as child:
            child.set_attribute("lib.attr", 1)
        with blocked.start_as_current_span("blocked-child"):
            pass
    with other.start_as_current_span("third-party-root"):
        lf.start_observation(name="langfuse-under-third-party").end()


# ================================================================================================ runner
class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[dict[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append({"level": record.levelname, "message": record.getMessage()})


def _reset(sdk: str) -> None:
    """Forget every client, so the next scenario's ``get_client()`` sees only its own."""
    if sdk == "langfuse":
        from langfuse._client.resource_manager import LangfuseResourceManager

        # not reset(): its shutdown waits ~1 s per client for an idle media thread; flushed already
        with LangfuseResourceManager._lock:
            LangfuseResourceManager._instances.clear()
    else:
        from langfuse_nb.sdk import registry

        registry._reset_for_tests()


def run_one(sdk: str, mod: Any, url: str, name: str, fn: Callable[[Ctx], None]) -> dict[str, Any]:
    ctx = Ctx(sdk, mod, url, name)
    capture = _Capture()
    langfuse_logger = logging.getLogger("langfuse")  # ours answers to it too (langfuse_nb.logger)
    langfuse_logger.addHandler(capture)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn(ctx)
        except Exception as exc:  # a scenario that raises is itself a result
            ctx.results["<scenario raised>"] = f"{type(exc).__name__}: {_error_text(exc)}"
        for client in ctx.clients:
            with contextlib.suppress(Exception):
                client.flush()
    langfuse_logger.removeHandler(capture)
    with contextlib.suppress(Exception):
        _reset(sdk)
    return {
        "results": ctx.results,
        "warnings": [
            {"category": w.category.__name__, "message": str(w.message)}
            for w in caught
            if w.category.__module__ == "builtins"
        ],
        "logs": capture.records,
        "seconds": round(time.perf_counter() - started, 3),
    }


def main(sdk: str, url: str, group: str, out: str) -> None:
    mod = importlib.import_module(sdk)
    SDK.append(mod)
    logging.getLogger("langfuse").setLevel(logging.WARNING)  # the reference's default, set for both
    results = {name: run_one(sdk, mod, url, name, fn) for name, fn in GROUPS[group]}
    with open(out, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    # everything was flushed per scenario; skip the atexit shutdowns (the reference's wait ~1 s per client)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:5])
