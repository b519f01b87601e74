"""Pure cores tested by tables: value formats, OTLP decoding, span mapping, ingestion mapping, queries."""

from __future__ import annotations

import orjson
import pytest

from langfuse_nb.server import costs, ingestion, otlp, query, spans, values
from langfuse_nb.server.errors import BadRequest


@pytest.mark.parametrize(
    ("ns", "iso"),
    [
        (0, "1970-01-01T00:00:00.000000Z"),
        (1_700_000_000_123_999_999, "2023-11-14T22:13:20.123000Z"),  # sub-millisecond truncated
    ],
)
def test_ns_to_iso(ns, iso):
    assert values.ns_to_iso(ns) == iso


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000000Z"),
        ("2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00.500000Z"),
        ("2024-01-01T01:00:00.123456789+01:00", "2024-01-01T00:00:00.123456Z"),
        ("2024-01-01T00:00:00", "2024-01-01T00:00:00.000000Z"),
    ],
)
def test_parse_iso_normalises(text, stored):
    assert values.parse_iso(text) == stored
    assert values.iso_to_seconds(stored) == values.iso_to_seconds(
        text if text.endswith(("Z", "00")) else stored
    )


@pytest.mark.parametrize("bad", ["", "yesterday", 5, None, "2024-13-01T00:00:00Z"])
def test_parse_iso_rejects(bad):
    with pytest.raises(ValueError):
        values.parse_iso(bad)


@pytest.mark.parametrize(
    ("text", "value"),
    [('{"a": 1}', {"a": 1}), ("42", 42), ("plain", "plain"), ('"quoted"', "quoted"), (None, None)],
)
def test_parse_lenient(text, value):
    assert values.parse_lenient(text) == value


def test_otlp_json_accepts_hex_and_base64_ids():
    body = (
        b'{"resourceSpans": [{"scopeSpans": [{"scope": {"name": "x"}, "spans": [{"traceId": '
        b'"AAECAwQFBgcICQoLDA0ODw==", "spanId": "0001020304050607", "name": "s", "startTimeUnixNano": "5",'
        b' "attributes": [{"key": "n", "value": {"intValue": "7"}}, {"key": "l", "value": {"arrayValue":'
        b' {"values": [{"stringValue": "a"}, {"boolValue": true}]}}}]}]}]}]}'
    )
    [group] = otlp.decode_json(body)
    span = group.spans[0]
    assert span.trace_id == "000102030405060708090a0b0c0d0e0f" and span.span_id == "0001020304050607"
    assert span.attributes == {"n": 7, "l": ["a", True]} and span.start_ns == 5


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({"langfuse.observation.type": "agent"}, "AGENT"),
        ({"langfuse.observation.type": "span", "gen_ai.request.model": "m"}, "SPAN"),
        ({"langfuse.observation.type": "nonsense", "gen_ai.request.model": "m"}, "GENERATION"),
        ({"openinference.span.kind": "LLM"}, "GENERATION"),
        ({"gen_ai.operation.name": "embeddings"}, "EMBEDDING"),
        ({"gen_ai.operation.name": "execute_tool"}, "TOOL"),
        ({"ai.operationId": "ai.generateText.doGenerate", "ai.model.id": "m"}, "GENERATION"),
        ({"ai.operationId": "ai.generateText.doGenerate"}, "SPAN"),  # needs a model (mapping spec §5 rule 6)
        ({"gen_ai.tool.call.id": "c"}, "TOOL"),
        ({"model": "m"}, "GENERATION"),
        ({}, "SPAN"),
    ],
)
def test_observation_type_rules(attrs, expected):
    assert spans.observation_type(attrs) == expected


def test_metadata_whole_object_and_flattened_keys_merge():
    attrs = {
        "langfuse.observation.metadata": '{"a": 1, "b": 2}',
        "langfuse.observation.metadata.b": "3",
        "langfuse.trace.metadata.t": '{"x": [1]}',
        "langfuse.metadata.shared": True,
    }
    obs, trace, flagged = spans.split_metadata(attrs)
    assert obs == {"a": 1, "b": 3, "shared": True}
    assert trace == {"t": {"x": [1]}, "shared": True} and flagged
    assert (
        spans.extract_metadata({"langfuse.observation.metadata": "not json"}, "langfuse.observation.metadata")
        == {}
    )


@pytest.mark.parametrize(
    ("usage", "cost", "expected"),
    [
        (
            {"input": 2, "output": 3},
            None,
            {"usage_details": '{"input":2,"output":3,"total":5}', "cost_details": None, "total_cost": None},
        ),
        (
            {"input": -1, "x": True, "y": 1.5},
            {"input": 1, "output": 2},
            {
                "usage_details": None,  # fractional, negative and bool counts are dropped (costs spec §4.1)
                "cost_details": '{"input":1.0,"output":2.0,"total":3.0}',
                "total_cost": 3.0,
            },
        ),
        (
            None,
            {"input": 1, "cache": 2},
            {"usage_details": None, "cost_details": '{"input":1.0,"cache":2.0}', "total_cost": None},
        ),
    ],
)
def test_usage_and_cost(usage, cost, expected):
    # spans store what the client sent; the store derives the final columns with costs.compute
    provided = spans.usage_and_cost(usage, cost)
    final = costs.compute(
        orjson.loads(provided["provided_usage_details"] or "{}"),
        orjson.loads(provided["provided_cost_details"] or "{}"),
        None,
    ).columns()
    assert {key: final[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("attrs", "tags"),
    [
        ({"langfuse.trace.tags": ["a", 1]}, ["a", "1"]),
        ({"langfuse.tags": '["x", "y"]'}, ["x", "y"]),
        ({"tag.tags": "a, b"}, ["a", "b"]),
        ({"langfuse.trace.tags": "solo"}, ["solo"]),
        ({}, None),
    ],
)
def test_tags_decoding(attrs, tags):
    assert spans._tags(attrs) == tags


def test_completion_start_handles_double_encoding():
    assert spans._completion_start('"2024-01-01T00:00:00.250000Z"') == "2024-01-01T00:00:00.250000Z"
    assert spans._completion_start("not a date") is None


def test_ingestion_score_inflation():
    mapped = ingestion.map_batch(
        [
            {"id": "1", "type": "score-create", "body": {"traceId": "t", "name": "n", "value": True}},
            {"id": "2", "type": "score-create", "body": {"traceId": "t", "name": "n", "value": "cat"}},
            {"id": "3", "type": "score-create", "body": {"name": "n", "value": 1}},
        ]
    )
    assert [s["data_type"] for s in mapped.scores] == ["NUMERIC", "CATEGORICAL"]
    assert mapped.scores[1]["value"] is None and mapped.scores[1]["string_value"] == "cat"
    assert [e["id"] for e in mapped.errors] == ["3"]


@pytest.mark.parametrize(
    ("conditions", "sql", "params"),
    [
        ([{"column": "name", "operator": "=", "value": "a"}], "WHERE t.name = ?", ["a"]),
        (
            [{"column": "name", "operator": "starts with", "value": "a_%"}],
            "WHERE t.name LIKE ? ESCAPE '\\'",
            ["a\\_\\%%"],
        ),
        (
            [{"column": "timestamp", "operator": ">=", "value": "2024-01-01T00:00:00Z"}],
            "WHERE t.timestamp >= ?",
            ["2024-01-01T00:00:00.000000Z"],
        ),
        (
            [{"column": "metadata", "key": "k", "operator": "=", "value": "v"}],
            "WHERE json_extract(t.metadata, ?) = ?",
            ['$."k"', "v"],
        ),
        ([{"column": "env", "operator": "any of", "value": ["a", "b"]}], "WHERE t.env IN (?, ?)", ["a", "b"]),
        ([{"column": "name", "operator": "is null"}], "WHERE t.name IS NULL", []),
    ],
)
def test_filter_compilation(conditions, sql, params):
    columns = {
        "name": query.Column("t.name", "string"),
        "timestamp": query.Column("t.timestamp", "datetime"),
        "metadata": query.Column("t.metadata", "json"),
        "env": query.Column("t.env", "string"),
    }
    where = query.Where()
    query.apply_filter(where, conditions, columns)
    assert (where.sql(), where.params) == (sql, params)


@pytest.mark.parametrize(
    "conditions",
    [
        [{"column": "unknown", "operator": "="}],
        [{"column": "n", "operator": ">", "value": "x"}],
        [{"column": "n"}],
        [{"column": "ts", "operator": ">", "value": "soon"}],
    ],
)
def test_filter_errors(conditions):
    columns = {"n": query.Column("n", "number"), "ts": query.Column("ts", "datetime")}
    with pytest.raises(BadRequest):
        query.apply_filter(query.Where(), conditions, columns)


def test_page_meta():
    assert query.page_of(None, None).meta(0) == {"page": 1, "limit": 50, "totalItems": 0, "totalPages": 0}
    assert query.page_of(3, 10).meta(21) == {"page": 3, "limit": 10, "totalItems": 21, "totalPages": 3}


def test_end_before_start_is_clamped_and_missing_times_fall_back():
    trace = "ab" * 16
    early_end = otlp.SpanRecord(trace, "cd" * 8, None, "s", 2_000_000_000, 1_000_000_000, {}, 0, "", [])
    no_end = otlp.SpanRecord(trace, "ef" * 8, None, "s", 3_000_000_000, 0, {}, 0, "", [])
    group = otlp.ScopeSpans(
        {}, {"name": "langfuse-sdk", "version": "", "attributes": {}}, [early_end, no_end]
    )
    observations, _ = spans.map_groups([group])
    assert observations[0]["start_time"] == observations[0]["end_time"] == "1970-01-01T00:00:02.000000Z"
    assert observations[1]["end_time"] == "1970-01-01T00:00:03.000000Z"


@pytest.mark.parametrize(
    ("page", "limit", "expected"),
    [(None, None, (1, 50)), (0, 10, (1, 10)), (3, 0, (3, 0)), (2, 1000, (2, 1000))],
)
def test_list_page_accepts_what_langfuse_accepts(page, limit, expected):
    from langfuse_nb.server.routes.paging import list_page

    paged = list_page(page, limit)
    assert (paged.page, paged.limit) == expected
    assert list_page(1, 0).meta(7) == {"page": 1, "limit": 0, "totalItems": 7, "totalPages": 0}


@pytest.mark.parametrize(("page", "limit"), [(-1, 10), (1, -1), (1, 1001)])
def test_list_page_rejects(page, limit):
    from langfuse_nb.server.routes.paging import list_page

    with pytest.raises(BadRequest):
        list_page(page, limit)


def test_span_times_keep_microseconds():
    assert spans._ns_to_iso_us(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456Z"
    assert spans._ns_to_iso_us(1_700_000_000_000_000_999) == "2023-11-14T22:13:20.000000Z"
    assert spans._ns_to_iso_us(1_700_000_000_999_999_999) == "2023-11-14T22:13:20.999999Z"


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        ("2023-11-14T22:13:20.123456Z", "2023-11-14T22:13:20.123706Z", 0.00025),
        ("2023-11-14T22:13:20.000000Z", "2023-11-14T22:13:23.000001Z", 3.000001),
        ("2023-11-14T22:13:20.5Z", "2023-11-14T22:13:21.000000Z", 0.5),
        (None, "2023-11-14T22:13:21.000000Z", None),
    ],
)
def test_seconds_between_is_exact(start, end, seconds):
    from langfuse_nb.server.store.observations import seconds_between

    assert seconds_between(start, end) == seconds  # exact, not approximately


@pytest.mark.parametrize(("text", "value"), [(None, None), ("", None), ('""', ""), ("42", 42), ("hi", "hi")])
def test_read_io(text, value):
    from langfuse_nb.server.store.observations import read_io

    assert read_io(text) == value
