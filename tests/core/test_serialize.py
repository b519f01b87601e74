"""Serializer: same JSON as the reference's EventSerializer, except DEVIATIONS F16."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

import pydantic
import pytest

from langfuse_nb.sdk.serialize import dumps, to_jsonable


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class DC:
    a: int
    b: list[str]


class Model(pydantic.BaseModel):
    x: int
    y: str = "y"


class Slotted:
    __slots__ = ("p", "q")

    def __init__(self) -> None:
        self.p = 1
        self.q = "two"


class Plain:
    def __init__(self) -> None:
        self.n = 1
        self.me = self  # cycle through __dict__


UTC = dt.timezone.utc
SAME_AS_REFERENCE: list[Any] = [
    "text",
    1,
    1.5,
    True,
    None,
    [1, "a", None],
    {"a": {"b": [1, 2]}},
    (1, 2),
    {3, 4},
    float("nan"),
    float("inf"),
    2**60,
    -(2**60),
    2**53 - 1,
    dt.datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
    dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.date(2024, 1, 2),
    uuid.UUID(int=5),
    Path("/tmp/x"),
    b"bytes",
    b"\xff\xfe",
    Color.RED,
    DC(1, ["x"]),
    Model(x=3),
    Slotted(),
    ValueError("bad"),
    {"k": [DC(2, [])]},
    {1: "int key", None: "none key", 2.5: "float key"},
    {True: "bool key"},
    "ünïcode",
    {"nested": (1, (2, (3,)))},
    (i for i in range(2)),
    print,
    threading.Lock(),
    Plain(),
    {"big": [2**64, 1.0]},
]


@pytest.mark.parametrize("value", SAME_AS_REFERENCE, ids=lambda v: type(v).__name__)
def test_matches_reference_event_serializer(value: Any) -> None:
    serializer = pytest.importorskip("langfuse._utils.serializer")
    expected = json.dumps(value, cls=serializer.EventSerializer)
    assert dumps(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (decimal.Decimal("3.10"), '"3.10"'),
        (dt.time(12, 30, 5), '"12:30:05"'),
        (dt.timedelta(minutes=1, seconds=30), "90.0"),
        ({(1, 2): "tuple key"}, '{"(1, 2)": "tuple key"}'),
    ],
)
def test_f16_fixes(value: Any, expected: str) -> None:
    assert dumps(value) == expected


def test_circular_containers_become_short_placeholders() -> None:
    items: list[Any] = [1]
    items.append(items)
    mapping: dict[str, Any] = {"k": 1}
    mapping["self"] = mapping
    assert dumps(items) == '[1, "list"]'
    assert dumps(mapping) == '{"k": 1, "self": "dict"}'


def test_unserializable_objects_never_raise() -> None:
    sock = socket.socket()
    try:
        out = json.loads(dumps({"sock": sock, "lock": threading.Lock(), "gen": (x for x in [])}))
    finally:
        sock.close()
    assert out["lock"] == "<lock>" and out["gen"] == "<generator>"


def test_exploding_object_gives_placeholder() -> None:
    class Boom:
        @property
        def __dict__(self) -> Any:  # type: ignore[override]
            raise RuntimeError("no")

    assert "not serializable" in dumps({"x": Boom()})


def test_to_jsonable_returns_plain_types() -> None:
    assert to_jsonable({"d": DC(1, ["a"]), "t": (1, 2)}) == {"d": {"a": 1, "b": ["a"]}, "t": [1, 2]}


def test_large_payload_is_encoded_once_and_exactly() -> None:
    payload = {"docs": ["x" * 1000 for _ in range(100)], "n": list(range(1000))}
    assert json.loads(dumps(payload)) == payload
