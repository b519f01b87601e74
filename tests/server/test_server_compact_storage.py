"""Compact storage (issue 15): long inputs/outputs are stored compressed and read back unchanged;
migration v5 carries an older database forward without losing a row."""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path

import server_testkit as kit

from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.migrations import MIGRATIONS, _statements, migrate
from langfuse_nb.server.values import PACKED_DEFLATE, pack_io, parse_lenient, unpack_io

A = "langfuse.observation"
LONG_INPUT = json.dumps([{"role": "user", "content": "why is the sky blue? " * 40}])
LONG_OUTPUT = "Because of Rayleigh scattering. " * 30  # plain text, not JSON
UNICODE_OUTPUT = json.dumps({"text": "naïve café — 東京 🚀 " * 30}, ensure_ascii=False)


def test_pack_io_round_trips_and_leaves_short_or_odd_values_alone() -> None:
    for text in (LONG_INPUT, LONG_OUTPUT, UNICODE_OUTPUT):
        packed = pack_io(text)
        assert isinstance(packed, bytes) and len(packed) < len(text.encode())
        assert unpack_io(packed) == text
    assert pack_io("short") == "short"
    assert pack_io(None) is None and unpack_io(None) is None
    assert pack_io(["not", "text"]) == ["not", "text"]  # only strings are packed
    random_text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(300))
    assert unpack_io(pack_io(random_text)) == random_text  # whatever form it took
    assert parse_lenient(pack_io(LONG_INPUT)) == json.loads(LONG_INPUT)
    # the first compressed form (raw deflate, format byte 1) stays readable
    packer = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = bytes((PACKED_DEFLATE,)) + packer.compress(LONG_OUTPUT.encode()) + packer.flush()
    assert unpack_io(deflated) == LONG_OUTPUT
    assert unpack_io(b"plain \xff bytes") == "plain \ufffd bytes"  # a BLOB stored by someone else
    assert parse_lenient(pack_io(LONG_OUTPUT)) == LONG_OUTPUT


def _stored(db_path: Path, table: str, row_id: str) -> tuple[str, str]:
    with sqlite3.connect(db_path) as conn:
        found = conn.execute(
            f"SELECT typeof(input), typeof(output) FROM {table} WHERE id = ?", (row_id,)
        ).fetchone()
    assert found is not None
    return found


def test_long_io_is_stored_compressed_and_every_read_api_returns_it_unchanged(fresh_server) -> None:
    import httpx

    tid = kit.trace_id()
    root = kit.span(
        "root",
        trace=tid,
        attributes={f"{A}.type": "span", f"{A}.input": LONG_INPUT, f"{A}.output": LONG_OUTPUT},
    )
    child = kit.span(
        "llm",
        trace=tid,
        parent=root["span_id"],
        attributes={f"{A}.type": "generation", f"{A}.input": "hi", f"{A}.output": UNICODE_OUTPUT},
    )
    auth = (fresh_server.public_key, fresh_server.secret_key)
    with httpx.Client(base_url=fresh_server.url, auth=auth, timeout=10) as http:
        response = http.post(
            "/api/public/otel/v1/traces",
            content=kit.protobuf_request([root, child]),
            headers={"content-type": "application/x-protobuf"},
        )
        assert response.status_code == 200, response.text
        trace = http.get(f"/api/public/traces/{tid}").json()
        listed = http.get("/api/public/traces", params={"limit": 5}).json()["data"]
        observation = http.get(f"/api/public/observations/{child['span_id']}").json()
        v2 = http.get(
            "/api/public/v2/observations", params={"traceId": tid, "fields": "core,io", "limit": 10}
        ).json()["data"]
    assert _stored(fresh_server.db_path, "observations", root["span_id"]) == ("blob", "blob")
    assert _stored(fresh_server.db_path, "observations", child["span_id"]) == ("text", "blob")
    assert _stored(fresh_server.db_path, "traces", tid) == ("blob", "blob")  # the root's I/O, as Langfuse
    assert trace["input"] == json.loads(LONG_INPUT) and trace["output"] == LONG_OUTPUT
    assert [t["input"] for t in listed if t["id"] == tid] == [json.loads(LONG_INPUT)]
    by_id = {o["id"]: o for o in trace["observations"]}
    assert by_id[root["span_id"]]["input"] == json.loads(LONG_INPUT)
    assert observation["input"] == "hi" and observation["output"] == json.loads(UNICODE_OUTPUT)
    raw = {o["id"]: o for o in v2}
    assert raw[root["span_id"]]["input"] == LONG_INPUT  # v2 answers the stored text as it arrived
    assert raw[child["span_id"]]["output"] == UNICODE_OUTPUT


def test_legacy_ingestion_events_store_long_io_compressed(fresh_server) -> None:
    import httpx

    trace_id, span_id = kit.trace_id(), "legacy-span-1"
    batch = [
        {
            "id": "e1",
            "type": "trace-create",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "body": {"id": trace_id, "name": "t", "input": {"long": "x " * 300}},
        },
        {
            "id": "e2",
            "type": "span-create",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "body": {"id": span_id, "traceId": trace_id, "output": LONG_OUTPUT},
        },
    ]
    auth = (fresh_server.public_key, fresh_server.secret_key)
    with httpx.Client(base_url=fresh_server.url, auth=auth, timeout=10) as http:
        assert http.post("/api/public/ingestion", json={"batch": batch}).status_code == 207
        trace = http.get(f"/api/public/traces/{trace_id}").json()
    assert _stored(fresh_server.db_path, "traces", trace_id)[0] == "blob"
    assert _stored(fresh_server.db_path, "observations", span_id)[1] == "blob"
    assert trace["input"] == {"long": "x " * 300}
    assert trace["observations"][0]["output"] == LONG_OUTPUT


def test_migration_v5_keeps_older_rows_and_indexes_their_trace_metadata(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for number in range(4):  # the schema as version 4 left it
        for statement in MIGRATIONS[number].split(";"):
            if statement.strip():
                conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    stamp = "2026-01-01T00:00:00.000000Z"
    conn.execute(
        "INSERT INTO traces (id, timestamp, input, metadata, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            "t-old",
            stamp,
            LONG_INPUT,
            '{"team": "search", "n": 3, "deep": {"a": 1}, "none": null}',
            stamp,
            stamp,
        ),
    )
    conn.close()
    db = Database(path)
    try:
        reader = db.reader
        assert reader.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 6
        row = reader.execute("SELECT input FROM traces WHERE id = 't-old'").fetchone()
        assert row[0] == LONG_INPUT  # old rows keep their TEXT form and read as before
        entries = reader.execute("SELECT key, value FROM trace_metadata ORDER BY key").fetchall()
        assert [tuple(e) for e in entries] == [("n", 3), ("team", "search")]
        assert reader.execute("SELECT n FROM row_counts WHERE name = 'traces'").fetchone()[0] == 1
        with db.write() as writer:  # the v6 triggers keep the count exact
            writer.execute(
                "INSERT INTO traces (id, timestamp, created_at, updated_at) VALUES ('t-new', ?, ?, ?)",
                (stamp, stamp, stamp),
            )
            writer.execute("DELETE FROM traces WHERE id = 't-old'")
            writer.execute(
                "INSERT INTO traces (id, timestamp, created_at, updated_at) VALUES ('t-3', 'x', 'x', 'x')"
            )
        assert reader.execute("SELECT n FROM row_counts WHERE name = 'traces'").fetchone()[0] == 2
        with db.write() as writer:  # applying the migrations again is a no-op
            assert migrate_again(writer) == 6
    finally:
        db.close()


def test_migration_scripts_split_into_whole_statements() -> None:
    script = "CREATE TABLE a (x);\n-- a note; with a semicolon\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
    script += "  UPDATE a SET x = 1;\n  UPDATE a SET x = 2;\nEND;\n"
    assert _statements(script) == [
        "CREATE TABLE a (x);",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1;\n  UPDATE a SET x = 2;\nEND;",
    ]


def migrate_again(conn: sqlite3.Connection) -> int:
    conn.execute("COMMIT")  # migrate() opens its own transactions
    try:
        return migrate(conn)
    finally:
        conn.execute("BEGIN IMMEDIATE")
