"""Pure encoding tables: params -> OTel attributes (otel-attributes.md §4-5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from langfuse_nb.sdk.encode import encode_observation, encode_trace, encode_value, may_hold_media
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

M = "langfuse.observation.metadata"


class Prompt:
    def __init__(self, fallback: bool = False) -> None:
        self.name, self.version, self.is_fallback = "p", 2, fallback


@pytest.mark.parametrize(
    ("params", "generation_like", "expected"),
    [
        ({}, False, {}),
        ({"input": None, "output": None}, False, {}),
        ({"input": "raw"}, False, {A.OBSERVATION_INPUT: "raw"}),
        ({"output": [1, "a"]}, False, {A.OBSERVATION_OUTPUT: '[1, "a"]'}),
        ({"output": 3}, False, {A.OBSERVATION_OUTPUT: "3"}),
        ({"output": True}, False, {A.OBSERVATION_OUTPUT: "true"}),
        (
            {"level": "WARNING", "status_message": "s", "version": "v"},
            False,
            {A.OBSERVATION_LEVEL: "WARNING", A.OBSERVATION_STATUS_MESSAGE: "s", A.VERSION: "v"},
        ),
        (
            {"metadata": {"a": 1, "b": True, "c": None, "d": 0.5, "e": 2**70}},
            False,
            {f"{M}.a": 1, f"{M}.b": True, f"{M}.d": "0.5", f"{M}.e": '"1180591620717411303424"'},
        ),
        ({"metadata": "text"}, False, {M: "text"}),
        ({"metadata": [1]}, False, {M: "[1]"}),
        ({"model": "m", "usage_details": {"input": 1}}, False, {}),
        (
            {"model": "m", "usage_details": {"input": 1}},
            True,
            {A.OBSERVATION_MODEL: "m", A.OBSERVATION_USAGE_DETAILS: '{"input": 1}'},
        ),
        (
            {"completion_start_time": dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)},
            True,
            {A.OBSERVATION_COMPLETION_START_TIME: '"2025-01-01T00:00:00Z"'},
        ),
        ({"prompt": Prompt()}, True, {A.OBSERVATION_PROMPT_NAME: "p", A.OBSERVATION_PROMPT_VERSION: 2}),
        ({"prompt": Prompt(fallback=True)}, True, {}),
        ({"unknown": 1}, True, {}),
    ],
)
def test_encode_observation(params: dict[str, Any], generation_like: bool, expected: dict[str, Any]) -> None:
    assert encode_observation(params, generation_like=generation_like) == expected


def test_encode_trace() -> None:
    params = {"name": "n", "tags": ("a", 1), "public": 0, "metadata": {"k": "v"}, "user_id": None}
    assert encode_trace(params) == {
        A.TRACE_NAME: "n",
        A.TRACE_TAGS: ["a", "1"],
        A.TRACE_PUBLIC: False,
        "langfuse.trace.metadata.k": "v",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("s", "s"),
        ({"a": None}, '{"a": null}'),
        (float("nan"), '"NaN"'),
        (2**60, '"1152921504606846976"'),
    ],
)
def test_encode_value(value: Any, expected: str | None) -> None:
    assert encode_value(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", False),
        ("data:image/png;base64,AA", True),
        (1, False),
        (None, False),
        ({"args": (1, "x"), "kwargs": {"k": [1.5]}}, False),
        ({"nested": ["data:x"]}, True),
        ({"obj": object()}, True),
        (list(range(100)), True),
    ],
)
def test_may_hold_media(value: Any, expected: bool) -> None:
    assert may_hold_media(value) is expected
