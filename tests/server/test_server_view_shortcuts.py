"""The shortcuts of the fast view builders answer what the plain builders of commit 300f72b answered.

``ViewBuilder`` copies a template per shared part of a row (trace, model, usage, cost, prices) and
reuses the previous row's decoded input/output; ``TraceViews`` and the trace list do the same for
traces. Rows are drawn at random from pools of awkward values (NaN costs, plain text and broken JSON,
over-deep nesting, non-ASCII, whitespace, packed inputs, odd timestamps, experiment fields that
overwrite view keys), in runs of equal rows and in shuffled order, and every answer is compared byte
for byte with the old builders (``views_before.py``) on the same database.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import views_before as before

from langfuse_nb.server import costs
from langfuse_nb.server.store import observations
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache
from langfuse_nb.server.values import pack_io

_DEEP = "[" * 300 + "]" * 300  # parsed, but deeper than orjson writes: the page falls back to json
_DEEPER = "[" * 1100 + "]" * 1100  # deeper than orjson parses: served back as text
_IO: tuple[Any, ...] = (
    None,
    "",
    "plain text",
    '{"question": "why?"}',
    ' {"a" : [1, 2.50, -0.0, 1e-9, 1E5] }\n',
    '{"é": "ü ☃ 😀", "esc": "\\u00e9\\n\\"\\/"}',
    "NaN",
    "Infinity",
    "-Infinity",
    "[1, NaN]",
    "{not json",
    "42",
    "null",
    "true",
    " leading space",
    "\t",
    _DEEP,
    _DEEPER,
    '{"n": 18446744073709551616}',
    pack_io('{"long": "' + "x" * 400 + '"}'),
    pack_io("plain " * 80),
)
_STAMPS = (
    "2024-02-01T10:00:00.000000Z",
    "2024-02-01T10:00:00.999999Z",
    "2024-02-01T09:59:59.000001Z",
    "2024-02-01T10:00:00Z",
    "2024-02-01T12:00:00.250000+02:00",
    "0999-01-01T00:00:00.000000Z",
)
_USAGE = (None, "", "{}", '{"input": 12, "output": 30}', '{"input": 5, "output": 7, "total": 12, "x": 1}')
_COST = (None, "", '{"total": 0.0004}', '{"input": 0.001, "output": 0.002}', '{"input": 1e-9, "total": 5}')
# text that JSON must escape, for the shared columns fetched as one JSON array
_ODD_TEXT = 'we"ird\\ \n\t\x01\x00 ü ☃ 😀 \u2028 </script>'
_EXPERIMENT = (None, "", '{"experimentId": "e1", "metadata": {"over": "written"}, "input": 1}')


def _row(rng: random.Random, blob_ids: list[int], model_ids: list[str | None]) -> dict[str, Any]:
    pick = rng.choice
    resource = pick([None, *blob_ids])
    return {
        "id": f"o{rng.randrange(10**9)}",
        "trace_id": pick(["t1", "t2"]),
        "parent_observation_id": pick([None, "p"]),
        "type": pick(["SPAN", "GENERATION", "EVENT"]),
        "name": pick([None, "n", "é"]),
        "start_time": pick([*_STAMPS, ""]),
        "end_time": pick([None, "", *_STAMPS]),
        "completion_start_time": pick([None, "", *_STAMPS]),
        "environment": pick([None, "", "default", "staging", "prod-é"]),
        "level": pick([None, "", "ERROR"]),
        "status_message": pick([None, "", "failed"]),
        "version": pick([None, "", "v1"]),
        "input": pick(_IO),
        "output": pick(_IO),
        "metadata": pick([None, "{}", '{"step": 1}', '{"resourceAttributes": "own"}']),
        "model": pick([None, "gpt-4o", _ODD_TEXT]),
        "model_parameters": pick([None, "{}", "null", '{"temperature": 0.2}', '{"s": "\\u00e9\\n"}']),
        "usage_details": pick(_USAGE),
        "cost_details": pick(_COST),
        "total_cost": pick([None, 0.0, 0.5, 1e308, float("nan"), float("inf"), 3]),
        "prompt_id": pick([None, "p1"]),
        "prompt_name": pick([None, "prompt"]),
        "prompt_version": pick([None, 1]),
        "resource_id": resource,
        "scope_id": None if resource is None else pick(blob_ids),
        "experiment": pick(_EXPERIMENT),
        "created_at": pick(_STAMPS),
        "updated_at": pick(_STAMPS),
        "model_id": pick(model_ids),
        "usage_pricing_tier_id": pick([None, "tier"]),
        "usage_pricing_tier_name": pick([None, "Standard", _ODD_TEXT]),
    }


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database(tmp_path_factory.mktemp("shortcuts") / "lf.db")
    yield db
    db.close()


@pytest.fixture(scope="module")
def stocked(database: Database) -> Iterator[tuple[sqlite3.Connection, list[int]]]:
    db = database
    blobs = BlobCache()
    with db.write() as conn:
        blob_ids = [
            blobs.intern(conn, text)
            for text in ('{"service.name": "a"}', '{"name": "scope", "version": "1"}', "{}")
        ]
    conn = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row  # as the server's readers (models.price_fields reads by name)
    yield conn, blob_ids
    conn.close()


def _rows(seed: int, blob_ids: list[int]) -> list[dict[str, Any]]:
    """Rows in runs of equal shared parts and equal inputs, then the same rows shuffled."""
    rng = random.Random(seed)
    model_ids = [None, next(iter(costs.builtin_by_id())), "no-such-model"]
    rows = []
    for _ in range(120):
        row = _row(rng, blob_ids, model_ids)
        for _ in range(rng.choice([1, 1, 2, 4])):  # a run: same text, fresh ids
            rows.append({**row, "id": f"o{rng.randrange(10**9)}"})
    shuffled = list(rows)
    rng.shuffle(shuffled)
    return rows + shuffled


def _dumps(views: Any) -> list[bytes]:
    """Each view as the server renders it; json (NaN allowed) where orjson refuses the nesting."""
    out = []
    for view in views if isinstance(views, list) else [views]:
        try:
            out.append(orjson.dumps(view, default=str))
        except orjson.JSONEncodeError:
            out.append(json.dumps(view, default=str).encode())
    return out


@pytest.mark.parametrize("seed", range(6))
def test_observation_views_are_what_the_old_builder_made(
    stocked: tuple[sqlite3.Connection, list[int]], seed: int
) -> None:
    conn, blob_ids = stocked
    rows = _rows(seed, blob_ids)
    old = [before.to_view(dict(row), conn, BlobCache()) for row in rows]
    builder = observations.ViewBuilder(conn, BlobCache())
    assert _dumps(builder.views([observations.view_row(row) for row in rows])) == _dumps(old)
    for row, view in zip(rows[:40], old[:40], strict=True):  # one row at a time, as GET /observations/{id}
        assert _dumps(observations.to_view(row, conn, BlobCache())) == _dumps(view)


@pytest.mark.parametrize("seed", range(3))
def test_observations_read_through_sql_are_what_the_old_builder_made(
    database: Database, stocked: tuple[sqlite3.Connection, list[int]], seed: int
) -> None:
    """The same rows stored and read back with VIEW_SELECT (shared columns as one JSON array)."""
    conn, blob_ids = stocked
    rows = [
        {**row, "id": f"sql-{seed}-{n}", "trace_id": f"sql-{seed}-{row['trace_id']}", "as_root": 0}
        for n, row in enumerate(_rows(100 + seed, blob_ids))
    ]
    with database.write() as writer:
        columns = list(rows[0])
        writer.executemany(
            f"INSERT INTO observations ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [tuple(row[c] for c in columns) for row in rows],
        )
    where = "WHERE o.id LIKE ? ORDER BY o.rowid"
    selected = observations.tuples(conn.execute(f"{observations.VIEW_SELECT} {where}", (f"sql-{seed}-%",)))
    stored = conn.execute(f"SELECT * FROM observations o {where}", (f"sql-{seed}-%",)).fetchall()
    old = [before.to_view(row, conn, BlobCache()) for row in stored]
    assert _dumps(observations.ViewBuilder(conn, BlobCache()).views(selected)) == _dumps(old)


def test_a_view_shares_no_per_row_field_with_its_template(
    stocked: tuple[sqlite3.Connection, list[int]],
) -> None:
    conn, blob_ids = stocked
    row = {**_rows(99, blob_ids)[0], "experiment": None}
    first = {**row, "version": "v9", "status_message": "boom", "prompt_id": "p9"}
    second = {**row, "id": "other", "version": None, "status_message": None, "prompt_id": None}
    views = observations.ViewBuilder(conn, BlobCache()).views(
        [observations.view_row(r) for r in (first, second)]
    )
    assert (views[0]["version"], views[0]["statusMessage"], views[0]["promptId"]) == ("v9", "boom", "p9")
    assert (views[1]["version"], views[1]["statusMessage"], views[1]["promptId"]) == (None, None, None)


def test_consecutive_equal_inputs_decode_to_what_each_would_alone(
    stocked: tuple[sqlite3.Connection, list[int]],
) -> None:
    conn, blob_ids = stocked
    base = {**_rows(7, blob_ids)[0], "experiment": None}  # experiment fields may overwrite "input"
    texts = ['{"a": 1}', '{"a": 1}', "NaN", "NaN", _DEEPER, _DEEPER, "", None, "", pack_io("y" * 300)]
    rows = [{**base, "id": f"o{i}", "input": t, "output": t} for i, t in enumerate(texts)]
    views = observations.ViewBuilder(conn, BlobCache()).views([observations.view_row(r) for r in rows])
    assert [v["input"] for v in views] == [observations.read_io(t) for t in texts]
    assert [v["output"] for v in views] == [observations.read_io(t) for t in texts]
    assert views[4]["input"] == _DEEPER and views[3]["input"] == "NaN"


def test_missing_start_time_gives_no_latency(stocked: tuple[sqlite3.Connection, list[int]]) -> None:
    conn, blob_ids = stocked
    row = {**_rows(3, blob_ids)[0], "start_time": None, "end_time": _STAMPS[0], "completion_start_time": None}
    assert observations.to_view(row, conn, BlobCache())["latency"] is None


# ---- traces: list pages with their summaries, session traces, single trace views -------------------------

_TRACE_COLUMNS = (
    "id", "timestamp", "name", "user_id", "session_id", "release", "version", "environment", "public",
    "bookmarked", "input", "output", "metadata", "tags", "resource_id", "scope_id", "created_at",
    "updated_at",
)  # fmt: skip


def _trace_row(rng: random.Random, n: int, blob_ids: list[int]) -> tuple[Any, ...]:
    pick = rng.choice
    resource = pick([None, *blob_ids])
    values = {
        "id": f"trace-{n:03d}",
        "timestamp": pick(_STAMPS[:3]),  # ties: the page order falls back to the id
        "name": pick([None, "route"]),
        "user_id": pick([None, "u"]),
        "session_id": pick([None, "s"]),
        "release": pick([None, "r1"]),
        "version": pick([None, "v1"]),
        "environment": pick(["default", "staging"]),
        "public": pick([None, 0, 1, 2]),
        "bookmarked": pick([0, 1]),
        "input": pick(_IO),
        "output": pick(_IO),
        "metadata": pick([None, "{}", '{"customer": "c"}']),
        "tags": pick([None, "[]", '["a", "b"]', "null"]),
        "resource_id": resource,
        "scope_id": None if resource is None else pick(blob_ids),
        "created_at": pick(_STAMPS[:3]),
        "updated_at": pick(_STAMPS[:3]),
    }
    return tuple(values[c] for c in _TRACE_COLUMNS)


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    """60 traces; observations with tied start times, open ends, NaN and huge costs; scores."""
    db = Database(tmp_path_factory.mktemp("trace-shortcuts") / "lf.db")
    rng = random.Random(5)
    with db.write() as conn:
        blob_ids = [BlobCache().intern(conn, text) for text in ('{"service.name": "a"}', '{"name": "s"}')]
        marks = ", ".join("?" * len(_TRACE_COLUMNS))
        conn.executemany(
            f"INSERT INTO traces ({', '.join(_TRACE_COLUMNS)}) VALUES ({marks})",
            [_trace_row(rng, n, blob_ids) for n in range(60)],
        )
        observations_rows = []
        for n in range(60):
            for _ in range(rng.choice([0, 1, 3, 7])):
                start = rng.choice(_STAMPS[:3])
                observations_rows.append(
                    (
                        f"obs-{rng.randrange(10**9)}",  # random ids: ties are not in id order
                        f"trace-{n:03d}",
                        "SPAN",
                        start,
                        rng.choice([None, "", *_STAMPS[:3]]),
                        rng.choice([None, 0.1, 0.2, 1e308, 1e308, float("nan"), 3]),
                        start,
                        start,
                    )
                )
        conn.executemany(
            "INSERT INTO observations (id, trace_id, type, start_time, end_time, total_cost, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            observations_rows,
        )
        for n in range(0, 60, 3):
            for k in range(rng.choice([1, 2])):
                conn.execute(
                    "INSERT INTO scores (id, trace_id, name, value, data_type, timestamp, created_at,"
                    " updated_at) VALUES (?, ?, 'q', 1, 'NUMERIC', ?, ?, ?)",
                    (f"score-{n}-{k}", f"trace-{n:03d}", _STAMPS[k], _STAMPS[0], _STAMPS[0]),
                )
    conn = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()
    db.close()


@pytest.mark.parametrize(
    "fields", [None, "core", "core,io", "core,scores,observations", "metrics", "io,metrics,observations"]
)
def test_trace_list_pages_are_what_the_old_code_made(traced: sqlite3.Connection, fields: str | None) -> None:
    from langfuse_nb.server.routes import traces

    for limit, page in ((60, 1), (7, 3)):
        answer = traces.query_traces(traced, BlobCache(), limit=limit, page=page, fields=fields)
        rows = before.records(
            traced.execute(
                "SELECT * FROM traces t ORDER BY t.timestamp DESC, t.id LIMIT ? OFFSET ?",
                (limit, (page - 1) * limit),
            )
        )
        old = before._with_summaries(traced, rows, before._field_groups(fields), BlobCache())
        assert _dumps(answer["data"]) == _dumps(old)


def test_trace_views_are_what_the_old_code_made(traced: sqlite3.Connection) -> None:
    from langfuse_nb.server.routes import traces

    rows = traced.execute(f"{traces.SELECT_TRACE_VIEW} ORDER BY t.id").fetchall()
    old = [
        before.trace_view(row, traced, BlobCache())
        for row in traced.execute("SELECT * FROM traces ORDER BY id")
    ]
    assert _dumps(traces.TraceViews(traced, BlobCache()).views(rows)) == _dumps(old)
    for row in traced.execute("SELECT * FROM traces ORDER BY id LIMIT 20"):
        for io in (True, False):
            new = traces.trace_view(row, traced, BlobCache(), io=io)
            assert _dumps(new) == _dumps(before.trace_view(row, traced, BlobCache(), io=io))
        detail = traces.trace_detail(traced, BlobCache(), row["id"])
        assert _dumps(detail) == _dumps(before.trace_detail(traced, BlobCache(), row["id"]))


def test_list_items_own_their_summary_lists(traced: sqlite3.Connection) -> None:
    from langfuse_nb.server.routes import traces

    first = traces.query_traces(traced, BlobCache(), limit=5, fields="core")["data"]
    first[0]["observations"].append("mutated by a caller")
    second = traces.query_traces(traced, BlobCache(), limit=5, fields="core")["data"]
    assert all(item["observations"] == [] for item in second)


def _plain_or_json_texts() -> list[str]:
    """Texts starting with every character a JSON text may start with, valid JSON or not."""
    heads = ["t", "f", "n", "-", "0", "1", "9", " ", "\n", " \r\n\t", "\x0c", "\u00a0", "{", "[", '"']
    tails = [
        "", "rue", "alse", "ull", "rue ", "rue\n", "rue\x0c", "rue!", "he answer", "o", "ull pointer",
        ". First step", "2", ".5", "e5", "1e400", "-", "+1", "1 2", "0x10", "Infinity", " apples",
        "\t\r\n", "true", "NaN", "5\u00a0", "٣", "ünï", ' "a"', "}", "]", '"', "\\", "\x00",
    ]  # fmt: skip
    texts = [head + tail for head in heads for tail in tails]
    long = ["the " * 5000, "1. " + "step " * 5000, "\n\n" + "Answer " * 5000, " " * 5000]
    return texts + [text + "\n" for text in texts] + long


def test_read_io_answers_as_the_lenient_parser_for_every_start() -> None:
    from langfuse_nb.server.values import parse_lenient

    for text in _plain_or_json_texts():
        answer, expected = observations.read_io(text), parse_lenient(text)
        assert type(answer) is type(expected) and answer == expected, repr(text)
