"""Protobuf attribute decoding: the fast paths give what the plain one-value-at-a-time rule gives."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from langfuse_nb.server import otlp
from langfuse_nb.server.values import MAX_DEPTH, TRUNCATED, count_truncations


def _plain(value: AnyValue, depth: int) -> Any:
    """The rule spelled out: past half of MAX_DEPTH OTLP levels a value is cut, whatever its kind."""
    if depth >= MAX_DEPTH // 2:
        return TRUNCATED
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_plain(item, depth + 1) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _plain(kv.value, depth + 1) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def _nested(levels: int) -> AnyValue:
    """``levels`` arrays, each holding a string, an empty string, an int and the next array."""
    value = AnyValue(string_value="leaf")
    for level in range(levels):
        outer = AnyValue()
        outer.array_value.values.extend(
            [AnyValue(string_value=f"s{level}"), AnyValue(string_value=""), AnyValue(int_value=level), value]
        )
        value = outer
    return value


# protobuf itself refuses messages nested past 100 (an array level is two): 45 is about as deep as it goes
@pytest.mark.parametrize("levels", [1, 2, 10, 45])
def test_arrays_decode_as_the_plain_rule_at_every_depth(levels: int) -> None:
    value = _nested(levels)
    with count_truncations() as truncated:
        decoded = otlp._pb_attributes([KeyValue(key="k", value=value)])
    assert decoded == {"k": _plain(value, 0)}
    assert bool(truncated) == (levels >= MAX_DEPTH // 2)
