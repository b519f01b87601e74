"""The trace view's HTML is unchanged by the faster renderer (f-string rows, orjson for plain values).

``old_*`` is the row renderer as it was (built with `tag` and `pretty`); the new one must give the same
text for a 1,000-observation trace with every kind of value, and `_pretty` must equal `pretty` always.
"""

from __future__ import annotations

import collections
import datetime as dt
import enum
import math
import random
import uuid
from typing import Any

import orjson
import pytest

from langfuse_nb.views import trace as view
from langfuse_nb.views.html import MAX_VALUE_CHARS, cost_text, duration, esc, pretty, tag
from langfuse_nb.views.records import ObservationRecord, sort_tree

# ---- the row renderer before this change (verbatim) ----------------------------------------------------


def old_label(depth: int, rec: ObservationRecord) -> str:
    badge = tag("span", esc(rec.type.upper()), f"lfnb-badge lfnb-t-{rec.type.lower()}")
    name = tag("span", esc(rec.name), "lfnb-name")
    return tag(
        "span",
        badge + name + old_extra(rec),
        "lfnb-label",
        style=f"padding-left:{depth * view.INDENT_PX}px",
    )


def old_extra(rec: ObservationRecord) -> str:
    parts = [rec.model or "", view._usage_text(rec.usage), cost_text(old_total(rec.cost))]
    text = " · ".join(p for p in parts if p)
    return tag("span", esc(text), "lfnb-extra") if text else ""


def old_bar(rec: ObservationRecord, t0: int, total: int) -> str:
    end = rec.end_ns if rec.end_ns is not None else t0 + total
    left = (rec.start_ns - t0) / total * 100
    width = max(end - rec.start_ns, 0) / total * 100
    return tag(
        "span", tag("span", "", "lfnb-bar", style=f"left:{left:.1f}%;width:{width:.1f}%"), "lfnb-track"
    )


def old_section(title: str, value: Any) -> str:
    if value is None or value == {}:
        return ""
    return f"<b>{esc(title)}</b><pre>{esc(pretty(value))}</pre>"


def old_body(rec: ObservationRecord) -> str:
    status = tag("div", esc(rec.status_message), "lfnb-status") if rec.status_message else ""
    ids = tag("div", f"id <code>{esc(rec.id)}</code>", "lfnb-dim")
    sections = [
        old_section("Input", rec.input),
        old_section("Output", rec.output),
        old_section("Metadata", rec.metadata),
    ]
    return tag("div", status + "".join(sections) + ids, "lfnb-body")


def old_row(depth: int, rec: ObservationRecord, t0: int, total: int, highlight: str | None) -> str:
    classes = ["lfnb-obs", f"lfnb-level-{rec.level.lower()}"]
    if rec.end_ns is None:
        classes.append("lfnb-running")
    if rec.id == highlight:
        classes.append("lfnb-hl")
    summary = (
        old_label(depth, rec) + old_bar(rec, t0, total) + tag("span", duration(rec.duration_ns), "lfnb-dur")
    )
    return tag("details", tag("summary", summary) + old_body(rec), " ".join(classes))


def old_total(details: Any) -> float:
    if not details:
        return 0
    numbers = {k: v for k, v in details.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return numbers["total"] if "total" in numbers else sum(numbers.values())


def test_totals_are_unchanged() -> None:
    rng = random.Random(3)
    pool: list[Any] = [1, 2.5, 0.1, True, False, None, "3", Level.HIGH, float("nan"), 10**30, -0.0, [1]]
    for _ in range(3000):
        details = {
            rng.choice(["total", "input", "output", "x"]): rng.choice(pool) for _ in range(rng.randrange(5))
        }
        expected, got = old_total(details), view._total(details)
        assert (type(got), repr(got)) == (type(expected), repr(expected)), details


# ---- values of every kind ---------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Text(str):
    pass


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = {"k": [value, i]}
    return value


ODD_VALUES: list[Any] = [
    None, {}, [], (), 0, -0.0, 0.0, 1.5, 1e-05, 1e-4, 1e16, 9999999999999998.0, 1e300, 5e-324,
    float("nan"), float("inf"), -float("inf"), 2**63, 2**64, -(2**63) - 1, 10**30, True, False, "", "x",
    "<b>&\"'</b>", "ünï ß 😀 \u2028 \x00 \x1f \x7f", "\ud800 lone", {"a": "\ud800"}, {1: "int key"},
    {True: 1, None: 2, 1.5: 3}, (1, 2, [3]), [1, (2.5, {"a": None})], collections.OrderedDict(a=1),
    {"s": Text("sub")}, {"e": Color.RED}, {"i": Level.HIGH}, {"u": uuid.UUID(int=5)},
    {"t": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)}, {"d": dt.date(2024, 1, 2)},
    {"set": {1, 2}}, {"bytes": b"xy"}, nested(60), nested(120), nested(300), "y" * (MAX_VALUE_CHARS + 7),
    {"long": "z" * (MAX_VALUE_CHARS * 2)}, [{"role": "user", "content": "why?"}] * 50,
    {"resourceAttributes": {"service.name": "bench"}, "scope": {"name": "sdk", "version": "3.11.2"}},
]  # fmt: skip


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(12 if depth < 4 else 7)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randrange(-(2**70), 2**70) if rng.random() < 0.1 else rng.randrange(-1000, 1000)
    if kind == 2:
        return rng.uniform(-1e6, 1e6) * 10 ** rng.randrange(-12, 14)
    if kind == 3:
        return rng.choice([0.5, 1e-4, 1e-5, 1e15, 1e16, float("nan"), 0.1 + 0.2, -0.0])
    if kind in (4, 5, 6):
        return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 0x3000)])) for _ in range(6))
    if kind in (7, 8):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 9:
        return tuple(random_value(rng, depth + 1) for _ in range(rng.randrange(3)))
    keys = [rng.choice(["a", "b", "ключ", "x y", 1, None]) for _ in range(rng.randrange(4))]
    return {key: random_value(rng, depth + 1) for key in keys}


def test_pretty_is_unchanged_for_every_kind_of_value() -> None:
    for value in ODD_VALUES:
        try:
            expected: Any = pretty(value)
        except Exception as exc:  # noqa: BLE001 - the same failure is what is compared
            expected = type(exc)
        try:
            got: Any = view._pretty(value)
        except Exception as exc:  # noqa: BLE001
            got = type(exc)
        assert got == expected, repr(value)[:200]


def test_pretty_is_unchanged_for_random_values() -> None:
    rng = random.Random(15)
    for _ in range(3000):
        value = random_value(rng)
        assert view._pretty(value) == pretty(value), repr(value)[:200]


def test_orjson_writes_plain_floats_as_repr_does() -> None:
    """The fact `_plain_float` rests on: no exponent in repr() -> orjson writes the same digits."""
    rng = random.Random(7)
    for _ in range(30_000):
        value = 10 ** rng.uniform(-4, 16) * rng.choice([1, -1])
        for x in (value, math.nextafter(value, 0), round(value, rng.randrange(0, 8))):
            if view._plain_float(x):
                assert orjson.dumps(x).decode() == repr(x)
    for exponent in range(-4, 17):
        for x in (10.0**exponent, math.nextafter(10.0**exponent, 0), math.nextafter(10.0**exponent, 1e300)):
            assert not view._plain_float(x) or orjson.dumps(x).decode() == repr(x)


def test_orjson_escapes_strings_as_json_dumps_does() -> None:
    import json

    text = "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp < 0xE000)
    assert orjson.dumps(text).decode() == json.dumps(text, ensure_ascii=False)


# ---- whole views -------------------------------------------------------------------------------------------

T = "0af7651916cd43dd8448eb211c80319c"
KINDS = ["span", "generation", "event", "tool", "agent", "retriever", "chain", "embedding", "guardrail"]


def big_trace(count: int = 1000) -> list[ObservationRecord]:
    rng = random.Random(1)
    records = []
    for i in range(count):
        parent = None if i == 0 else f"{rng.randrange(max(i // 3, 1)):016x}"
        start = 1_700_000_000_000_000_000 + i * 1_000_000 + rng.randrange(1000)
        records.append(
            ObservationRecord(
                id=f"{i:016x}",
                trace_id=T,
                name=rng.choice(["llm", "tool <call>", "ünï", "a&b", f"step {i}"]),
                type=KINDS[i % len(KINDS)],
                parent_id=parent,
                start_ns=start,
                end_ns=None if i % 97 == 5 else start + rng.randrange(10**9),
                level=rng.choice(["DEFAULT", "DEFAULT", "DEBUG", "WARNING", "ERROR"]),
                status_message=rng.choice([None, None, "boom <x>"]),
                model=rng.choice([None, "gpt-4o"]),
                usage=rng.choice([None, {"input": i, "output": 3}, {"total": 5}]),
                cost=rng.choice([None, {"total": 0.0001 * i}, {"input": 1e-05, "output": 2}]),
                input=ODD_VALUES[i] if i < len(ODD_VALUES) else [{"role": "user", "content": f"q{i}"}],
                output=random_value(rng),
                metadata=rng.choice([{}, {"step": i}, {"resourceAttributes": {"service.name": "bench"}}]),
                trace_name="big <trace>" if i == 0 else None,
                as_root=i == 500,
            )
        )
    return records


def old_trace_body(records: list[ObservationRecord], **kwargs: Any) -> str:
    """`trace_body` with the old rows (its head is unchanged code)."""
    saved = view._row
    view._row = old_row  # type: ignore[assignment]
    try:
        return view.trace_body(records, **kwargs)
    finally:
        view._row = saved  # type: ignore[assignment]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {
            "url": "http://127.0.0.1:3939/project/p/traces/x",
            "note": "from <server>",
            "highlight": f"{7:016x}",
        },
    ],
)
def test_trace_view_html_is_unchanged(kwargs: dict[str, Any]) -> None:
    records = big_trace()
    new = view.trace_body(records, **kwargs)
    assert new == old_trace_body(records, **kwargs)
    assert view.render_trace(records, **kwargs) == view.page(new)
    assert new.count("<details") == 1000 and "lfnb-running" in new and "lfnb-level-error" in new


def test_rows_are_unchanged_one_by_one() -> None:
    records = big_trace(300)
    t0, total = view._axis(records)
    for depth, rec in sort_tree(records):
        assert view._row(depth, rec, t0, total, rec.id) == old_row(depth, rec, t0, total, rec.id)
        assert view._row(depth, rec, t0, total, None) == old_row(depth, rec, t0, total, None)
