"""Read paths chosen for speed answer exactly what the plain SQL answered (issue 15: reads at scale).

Metadata filters read the trace_metadata side table, tag filters and counts may be served by a side
table's entries, "has an error" filters read the error rows only, and list counts are remembered until
the database changes. Each test checks the fast path against the plain query (json_extract per row,
counting per trace) on the same private database, in both plan forms where there are two.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from langfuse_nb.server import query

Stocked = tuple[httpx.Client, Path]
STAMP = "2026-01-01T00:00:{:02d}.000000Z"
# typed values that json_extract distinguishes: text vs number, true vs 1, objects as their JSON text
METADATA: list[dict[str, Any]] = [
    {"team": "a", "n": 1, "flag": True, "nested": {"x": [1, 2]}, 'we"ird': "q"},
    {"team": "b", "n": "1", "flag": False, "nested": None},
    {"team": "a", "n": 1.5, "ratio": 0.25, "arr": [1, 2]},
    {"team": "c", "n": 2, "flag": 1},
    {},
    {"team": "b", "n": 1},
]


@pytest.fixture(scope="module")
def stocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Path]]:
    from langfuse_nb.server.runner import start_in_thread

    db_path = tmp_path_factory.mktemp("plans") / "lf.db"
    handle = start_in_thread(db_path=db_path)
    http = httpx.Client(base_url=handle.url, auth=(handle.public_key, handle.secret_key), timeout=10)
    events = []
    for i, metadata in enumerate(METADATA):
        body: dict[str, Any] = {"id": f"t{i}", "timestamp": STAMP.format(i), "tags": ["all", f"tag{i % 2}"]}
        if metadata:
            body["metadata"] = metadata
        events.append({"id": f"e{i}", "type": "trace-create", "timestamp": STAMP.format(i), "body": body})
        level = "ERROR" if i in (1, 4) else "WARNING" if i == 2 else "DEFAULT"
        events.append(
            {
                "id": f"o{i}",
                "type": "span-create",
                "timestamp": STAMP.format(i),
                "body": {"id": f"s{i}", "traceId": f"t{i}", "startTime": STAMP.format(i), "level": level},
            }
        )
    assert http.post("/api/public/ingestion", json={"batch": events}).json()["errors"] == []
    yield http, db_path
    http.close()
    handle.stop()


def _listed(http: httpx.Client, **params: Any) -> tuple[list[str], int]:
    response = http.get("/api/public/traces", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    return [t["id"] for t in body["data"]], body["meta"]["totalItems"]


def _plain(db_path: Path, where: str, params: tuple[Any, ...]) -> list[str]:
    """The ids the plain SQL finds, newest first (the order of the list API)."""
    with sqlite3.connect(db_path) as conn:
        sql = f"SELECT id FROM traces t WHERE {where} ORDER BY timestamp DESC, id"
        return [row[0] for row in conn.execute(sql, params)]


@pytest.fixture(params=["probe each row", "drive from the entries"])
def plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    # RARE decides between the two page plans; both must give the same answer
    monkeypatch.setattr(query, "RARE", 0 if request.param == "probe each row" else 10**9)
    return str(request.param)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("team", "a"),
        ("team", "b"),
        ("n", 1),
        ("n", "1"),
        ("n", 1.5),
        ("flag", True),
        ("flag", False),
        ("flag", 1),
        ("nested", '{"x":[1,2]}'),
        ("arr", "[1,2]"),
        ('we"ird', "q"),
        ("team", "zzz"),
        ("missing", "a"),
    ],
)
def test_metadata_equals_matches_json_extract(stocked: Stocked, plan: str, key: str, value: Any) -> None:
    http, db_path = stocked
    condition = {"type": "stringObject", "column": "metadata", "operator": "=", "key": key, "value": value}
    ids, total = _listed(http, filter=json.dumps([condition]))
    member = "(SELECT value FROM json_each(t.metadata) WHERE key = ?)"
    expected = _plain(db_path, f"{member} = ?", (key, value))
    assert (ids, total) == (expected, len(expected))


def test_metadata_any_of_and_combined_filters(stocked: Stocked, plan: str) -> None:
    http, db_path = stocked
    any_of = {
        "type": "stringOptions",
        "column": "metadata",
        "operator": "any of",
        "key": "n",
        "value": [1, "1"],
    }
    ids, total = _listed(http, filter=json.dumps([any_of]))
    expected = _plain(db_path, "json_extract(t.metadata, '$.n') IN (1, '1')", ())
    assert (ids, total) == (expected, len(expected)) and len(expected) == 3
    # with a second condition the count is no longer the side table's alone
    ids, total = _listed(http, filter=json.dumps([any_of]), tags=["tag1"])
    assert (ids, total) == (["t5", "t1"], 2)


def test_metadata_follows_updates_and_deletes(stocked: Stocked) -> None:
    http, _ = stocked
    team_b = json.dumps(
        [{"type": "stringObject", "column": "metadata", "operator": "=", "key": "team", "value": "b"}]
    )
    team_z = json.dumps(
        [{"type": "stringObject", "column": "metadata", "operator": "=", "key": "team", "value": "z"}]
    )
    assert _listed(http, filter=team_b) == (["t5", "t1"], 2)
    update = {"id": "t5", "metadata": {"team": "z"}}
    batch = [{"id": "u5", "type": "trace-create", "timestamp": STAMP.format(30), "body": update}]
    assert http.post("/api/public/ingestion", json={"batch": batch}).json()["errors"] == []
    assert _listed(http, filter=team_b) == (["t1"], 1)  # the old value no longer matches (count too)
    assert _listed(http, filter=team_z) == (["t5"], 1)
    assert http.delete("/api/public/traces/t5").status_code == 200
    assert _listed(http, filter=team_z) == ([], 0)


@pytest.mark.parametrize("tag", ["all", "tag0", "tag1", "none"])
def test_single_tag_pages_and_counts(stocked: Stocked, plan: str, tag: str) -> None:
    http, db_path = stocked
    expected = _plain(
        db_path, "EXISTS (SELECT 1 FROM trace_tags g WHERE g.tag = ? AND g.trace_id = t.id)", (tag,)
    )
    assert _listed(http, tags=[tag]) == (expected, len(expected))
    any_of = {"type": "arrayOptions", "column": "tags", "operator": "any of", "value": [tag]}
    assert _listed(http, filter=json.dumps([any_of])) == (expected, len(expected))


@pytest.mark.parametrize(
    ("operator", "value"),
    [
        (">", 0),
        (">", 0.5),
        (">=", 1),
        ("!=", 0),
        ("=", 0),
        ("<", 1),
        ("<=", 0),
        (">", 1),
        ("=", 1),
        (">=", 0.5),
    ],
)
@pytest.mark.parametrize("column", ["errorCount", "warningCount", "defaultCount"])
def test_level_count_filters_match_counting(
    stocked: Stocked, column: str, operator: str, value: float
) -> None:
    http, db_path = stocked
    level = {"errorCount": "ERROR", "warningCount": "WARNING", "defaultCount": "DEFAULT"}[column]
    condition = {"type": "number", "column": column, "operator": operator, "value": value}
    ids, total = _listed(http, filter=json.dumps([condition]), fields="core")
    counted = (
        "(SELECT count(*) FROM observations o WHERE o.trace_id = t.id AND coalesce(o.level, 'DEFAULT') = ?)"
    )
    op = "!=" if operator == "<>" else operator
    expected = _plain(db_path, f"{counted} {op} ?", (level, value))
    assert (ids, total) == (expected, len(expected))


def test_remembered_counts_follow_new_writes(stocked: Stocked) -> None:
    http, _ = stocked
    _, before = _listed(http)
    assert _listed(http)[1] == before  # served again (remembered) with the same answer
    batch = [
        {
            "id": "new",
            "type": "trace-create",
            "timestamp": STAMP.format(40),
            "body": {"id": "t-new", "timestamp": STAMP.format(40)},
        }
    ]
    assert http.post("/api/public/ingestion", json={"batch": batch}).json()["errors"] == []
    ids, after = _listed(http)
    assert after == before + 1 and ids[0] == "t-new"
    assert http.get("/api/public/sessions").status_code == 200


def test_unfiltered_count_follows_inserts_updates_and_deletes(stocked: Stocked) -> None:
    http, db_path = stocked

    def stored() -> int:
        with sqlite3.connect(db_path) as conn:
            return int(conn.execute("SELECT count(*) FROM traces").fetchone()[0])

    def post(*bodies: dict[str, Any]) -> None:
        batch = [
            {"id": f"c-{i}-{b['id']}", "type": "trace-create", "timestamp": STAMP.format(50), "body": b}
            for i, b in enumerate(bodies)
        ]
        assert http.post("/api/public/ingestion", json={"batch": batch}).json()["errors"] == []

    post({"id": "c1", "name": "one"}, {"id": "c2"}, {"id": "c3"})
    assert _listed(http)[1] == stored()
    post({"id": "c1", "name": "renamed"}, {"id": "c2", "metadata": {"k": 1}})  # updates add no trace
    assert _listed(http)[1] == stored()
    assert http.delete("/api/public/traces/c1").status_code == 200
    assert (
        http.request("DELETE", "/api/public/traces", json={"traceIds": ["c2", "c3", "nope"]}).status_code
        == 200
    )
    assert _listed(http)[1] == stored()


@pytest.mark.parametrize(
    "text",
    [
        "because",
        "nothing",
        "true story",
        "-dash",
        "[not json",
        '{"a": 1}',
        ' {"a": 1}',
        "\n[1, 2]",
        "12",
        "1e400",
        '"quoted"',
        "null",
        "false",
        "NaN",
        "Infinity",
        "ünïcode",
        "{",
        "tru",
    ],
)
def test_read_io_answers_as_the_lenient_parser(text: str) -> None:
    from langfuse_nb.server.store.observations import read_io
    from langfuse_nb.server.values import parse_lenient

    assert read_io(text) == parse_lenient(text)
