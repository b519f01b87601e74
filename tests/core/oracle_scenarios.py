"""Scenarios run with either SDK (``langfuse`` reference or ``langfuse_nb``) in a subprocess.

Usage: python oracle_scenarios.py <module> <base_url> <public_key>
Both SDKs expose the same public API, so one script drives both; the test compares what the sink got.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib
import sys
from dataclasses import dataclass


class FakePrompt:
    name = "greeting"
    version = 3
    is_fallback = False


@dataclass
class Point:
    x: int
    y: float


class Thing:
    def __init__(self) -> None:
        self.a = 1
        self.b = [1, "two", None]


def _mask(*, data):
    return data.replace("secret", "***") if isinstance(data, str) else data


def run(sdk: str, base_url: str, public_key: str) -> None:
    mod = importlib.import_module(sdk)
    lf = mod.Langfuse(
        public_key=public_key,
        secret_key="sk-test",
        base_url=base_url,
        environment="oracle-env",
        release="rel-1",
        mask=_mask,
    )
    observe, propagate = mod.observe, mod.propagate_attributes

    with lf.start_as_current_span(
        name="s-span",
        input={"q": "hi", "n": [1, 2.5, None, True]},
        output="plain",
        metadata={"s": "x", "i": 7, "b": True, "f": 0.5, "l": [1, 2], "d": {"k": "v"}, "none": None},
        version="v1",
        level="WARNING",
        status_message="careful",
    ) as span:
        span.update(output={"done": True}, metadata={"later": "yes"})
        span.update_trace(
            name="trace-name",
            user_id="u-1",
            session_id="s-1",
            version="tv",
            input="ti",
            output={"to": 1},
            metadata={"tm": "x", "tn": 3},
            tags=["a", "b"],
            public=True,
        )
        with lf.start_as_current_observation(
            name="s-gen",
            as_type="generation",
            model="gpt-4o",
            model_parameters={"temperature": 0.2},
            usage_details={"input": 5, "output": 2},
            cost_details={"total": 0.0001},
            completion_start_time=dt.datetime(2025, 5, 1, 10, 0, 0, 250000, tzinfo=dt.timezone.utc),
            prompt=FakePrompt(),
            input=[{"role": "user", "content": "hi"}],
        ) as gen:
            gen.update(output="Hello!", usage_details={"input": 6})
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
            lf.start_observation(name=f"s-type-{as_type}", as_type=as_type, input=as_type).end()
        lf.create_event(name="s-event", input={"e": 1}, metadata="meta-string")

    lf.create_event(name="s-event-root", trace_context={"trace_id": lf.create_trace_id(seed="oracle")})
    with lf.start_as_current_span(
        name="s-remote",
        trace_context={"trace_id": lf.create_trace_id(seed="o2"), "parent_span_id": "0123456789abcdef"},
    ):
        pass
    try:
        with lf.start_as_current_span(name="s-error"):
            raise ValueError("bad thing")
    except ValueError:
        pass
    with lf.start_as_current_span(name="s-level-error", level="ERROR", status_message="explicit"):
        pass
    with lf.start_as_current_span(
        name="s-values", input=[Point(1, 2.0), Thing(), b"bytes", dt.date(2024, 1, 2), {1: "int-key"}]
    ):
        pass
    with lf.start_as_current_span(name="s-meta-list", metadata=[1, 2, 3], input="a secret value"):
        pass

    @observe
    def leaf(x, *, y=1):
        return x + y

    @observe(name="o-outer", as_type="chain")
    def outer(x):
        with propagate(user_id="pu", session_id="ps", metadata={"pm": "v"}, version="pv", tags=["pt"]):
            return leaf(x, y=2)

    @observe
    def streamer(n):
        yield from (f"c{i}" for i in range(n))

    @observe(name="o-async")
    async def a_func(v):
        return {"v": v}

    @observe
    def o_fail():
        raise RuntimeError("nope")

    class Service:
        @observe(name="o-method")
        def handle(self, item):
            return item

    outer(1)
    "".join(streamer(3))
    asyncio.run(a_func(5))
    with contextlib.suppress(RuntimeError):
        o_fail()
    Service().handle("it")
    observe(name="o-special")(lambda x: x)(
        2,
        langfuse_trace_id=lf.create_trace_id(seed="special"),
        langfuse_parent_observation_id="00000000000000aa",
    )

    @observe(as_type="generation")
    def llm(prompt):
        lf.update_current_generation(model="m-1", usage_details={"input": 3}, metadata={"g": 1})
        return {"text": prompt}

    @observe(name="o-leaf2")
    def leaf2(x):
        return x

    @observe
    def tokens():
        yield "a"
        yield leaf2(1)

    with lf.start_as_current_span(name="s-updates") as span:
        lf.update_current_span(output="current-out", level="DEBUG", version="cv")
        span.update(name="s-renamed", metadata={"late": [1, {"x": None}]})
        llm("hello")
        list(tokens())
        with propagate(user_id="bu", tags=["x"], as_baggage=True):
            lf.start_observation(name="s-baggage", as_type="tool").end()
    ev_parent = lf.start_span(name="s-ev-parent")
    ev_parent.create_event(name="s-child-event", output="e")
    ev_parent.end()

    lf.create_score(name="num", value=1, trace_id=lf.create_trace_id(seed="t"), comment="c")
    lf.create_score(name="cat", value="good", data_type="CATEGORICAL", trace_id=lf.create_trace_id(seed="t"))
    lf.create_score(name="bool", value=0, data_type="BOOLEAN", session_id="sess", metadata={"m": 1})
    lf.flush()


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], sys.argv[3])
