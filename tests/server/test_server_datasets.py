"""Datasets, items (upsert, pagination), run items and runs."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import server_testkit as kit


def _dataset(client, name=None, **extra):
    name = name or f"ds/{uuid.uuid4().hex[:8]} x"
    response = client.post(
        "/api/public/v2/datasets", json={"name": name, "description": None, "metadata": None, **extra}
    )
    assert response.status_code == 200, response.text
    kit.check(response.json(), "Dataset")
    return response.json()


def test_dataset_upsert_get_list(client):
    created = _dataset(client, description="first", metadata={"a": 1})
    again = _dataset(client, created["name"], description="second")
    assert again["id"] == created["id"] and again["description"] == "second" and again["metadata"] == {"a": 1}
    fetched = client.get(f"/api/public/v2/datasets/{quote(created['name'], safe='')}").json()
    assert fetched["id"] == created["id"]
    listing = client.get("/api/public/v2/datasets", params={"limit": 100}).json()
    kit.check(listing, "PaginatedDatasets")
    assert created["id"] in [d["id"] for d in listing["data"]]
    assert client.get("/api/public/v2/datasets/does-not-exist").status_code == 404


def test_items_upsert_pagination_and_filters(client):
    dataset = _dataset(client)
    ids = []
    for i in range(7):
        response = client.post(
            "/api/public/dataset-items",
            json={
                "datasetName": dataset["name"],
                "input": {"i": i},
                "expectedOutput": i * 2,
                "metadata": None,
                "sourceTraceId": "src-trace" if i < 2 else None,
                "sourceObservationId": None,
                "status": None,
                "id": None,
            },
        )
        assert response.status_code == 200, response.text
        kit.check(response.json(), "DatasetItem")
        ids.append(response.json()["id"])
    pages = [
        client.get(
            "/api/public/dataset-items", params={"datasetName": dataset["name"], "page": p, "limit": 3}
        ).json()
        for p in (1, 2, 3)
    ]
    kit.check(pages[0], "PaginatedDatasetItems")
    assert [p["meta"]["totalPages"] for p in pages] == [3, 3, 3]
    assert sorted(i["id"] for p in pages for i in p["data"]) == sorted(ids)
    assert pages[0]["data"][0]["id"] == ids[-1]  # newest first
    by_trace = client.get(
        "/api/public/dataset-items", params={"sourceTraceId": "src-trace", "datasetName": dataset["name"]}
    ).json()
    assert sorted(i["id"] for i in by_trace["data"]) == sorted(ids[:2])
    updated = client.post(
        "/api/public/dataset-items",
        json={"datasetName": dataset["name"], "id": ids[0], "status": "ARCHIVED", "input": None},
    ).json()
    assert updated["status"] == "ARCHIVED" and updated["input"] == {"i": 0}
    assert client.get(f"/api/public/dataset-items/{ids[0]}").json()["status"] == "ARCHIVED"
    empty = _dataset(client)
    meta = client.get("/api/public/dataset-items", params={"datasetName": empty["name"]}).json()["meta"]
    assert meta["totalItems"] == 0 and meta["totalPages"] == 0
    assert client.get("/api/public/dataset-items", params={"datasetName": "nope-nope"}).status_code == 404
    deleted = client.delete(f"/api/public/dataset-items/{ids[1]}")
    kit.check(deleted.json(), "DeleteDatasetItemResponse")
    assert client.get(f"/api/public/dataset-items/{ids[1]}").status_code == 404


def test_run_items_create_runs_and_reads(client):
    dataset = _dataset(client)
    item = client.post("/api/public/dataset-items", json={"datasetName": dataset["name"], "input": 1}).json()
    trace_id = kit.trace_id()
    body = {
        "runName": "run 1",
        "runDescription": "desc",
        "metadata": {"m": 1},
        "datasetItemId": item["id"],
        "traceId": trace_id,
    }
    first = client.post("/api/public/dataset-run-items", json=body)
    assert first.status_code == 200, first.text
    kit.check(first.json(), "DatasetRunItem")
    second = client.post("/api/public/dataset-run-items", json={**body, "observationId": "obs-1"}).json()
    assert first.json()["datasetRunId"] == second["datasetRunId"] and second["datasetRunName"] == "run 1"
    runs = client.get(f"/api/public/datasets/{quote(dataset['name'], safe='')}/runs").json()
    kit.check(runs, "PaginatedDatasetRuns")
    assert [(r["name"], r["description"], r["metadata"]) for r in runs["data"]] == [
        ("run 1", "desc", {"m": 1})
    ]
    run = client.get(f"/api/public/datasets/{quote(dataset['name'], safe='')}/runs/{quote('run 1')}").json()
    kit.check(run, "DatasetRunWithItems")
    assert len(run["datasetRunItems"]) == 2
    listed = client.get(
        "/api/public/dataset-run-items", params={"datasetId": dataset["id"], "runName": "run 1"}
    ).json()
    kit.check(listed, "PaginatedDatasetRunItems")
    assert listed["meta"]["totalItems"] == 2
    deleted = client.delete(f"/api/public/datasets/{quote(dataset['name'], safe='')}/runs/{quote('run 1')}")
    kit.check(deleted.json(), "DeleteDatasetRunResponse")
    assert (
        client.get(f"/api/public/datasets/{quote(dataset['name'], safe='')}/runs/run%201").status_code == 404
    )


def test_run_item_errors(client):
    dataset = _dataset(client)
    item = client.post(
        "/api/public/dataset-items", json={"datasetName": dataset["name"], "status": "ARCHIVED"}
    ).json()
    assert (
        client.post(
            "/api/public/dataset-run-items", json={"runName": "r", "datasetItemId": "nope", "traceId": "t"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/public/dataset-run-items",
            json={"runName": "r", "datasetItemId": item["id"], "traceId": "t"},
        ).status_code
        == 404
    )
    assert client.post("/api/public/dataset-run-items", json={"datasetItemId": item["id"]}).status_code == 400
    assert client.post("/api/public/dataset-items", json={"datasetName": "no-such-ds"}).status_code == 404
    other = _dataset(client)
    moved = client.post("/api/public/dataset-items", json={"datasetName": other["name"], "id": item["id"]})
    assert moved.status_code == 404


def test_dataset_schemas_must_be_json_schema_objects(client):
    schema = {"type": "object", "properties": {"q": {"type": "string"}, "n": {"type": ["integer", "null"]}}}
    created = _dataset(client, inputSchema=schema, expectedOutputSchema={"type": "string"})
    assert created["inputSchema"] == schema and created["expectedOutputSchema"] == {"type": "string"}
    for bad in (
        {"inputSchema": "a string"},
        {"inputSchema": ["type", "object"]},
        {"expectedOutputSchema": 42},
        {"inputSchema": {"type": "dict"}},
        {"inputSchema": {"type": "object", "properties": {"q": {"type": "text"}}}},
        {"inputSchema": {"type": "object", "required": "q"}},
        {"expectedOutputSchema": {"type": "array", "items": {"type": "strin"}}},
    ):
        response = client.post("/api/public/v2/datasets", json={"name": f"bad-{uuid.uuid4().hex[:6]}", **bad})
        assert response.status_code == 400, (bad, response.text)
        assert "JSON Schema" in response.json()["message"]


def test_items_must_match_the_dataset_schemas(client):
    schema = {
        "type": "object",
        "properties": {"q": {"type": "string", "minLength": 1}, "k": {"type": "integer"}},
        "required": ["q"],
        "additionalProperties": False,
    }
    dataset = _dataset(client, inputSchema=schema, expectedOutputSchema={"type": "string"})

    def item(**body):
        return client.post("/api/public/dataset-items", json={"datasetName": dataset["name"], **body})

    created = item(input={"q": "hi", "k": 2}, expectedOutput="HI")
    assert created.status_code == 200, created.text
    for body, where in (
        ({"input": {"k": 2}}, "missing required"),
        ({"input": {"q": "hi", "k": 2.5}}, "$.k"),
        ({"input": {"q": "hi", "extra": 1}}, "'extra'"),
        ({"input": {"q": ""}}, "minLength"),
        ({"input": {"q": "hi"}, "expectedOutput": 42}, "expected output schema"),
    ):
        refused = item(**body)
        assert refused.status_code == 400, (body, refused.text)
        assert where in refused.json()["message"], refused.json()["message"]
    # an update that leaves input out keeps the stored (valid) value
    updated = item(id=created.json()["id"], metadata={"m": 1})
    assert updated.status_code == 200 and updated.json()["input"] == {"q": "hi", "k": 2}
    plain = _dataset(client)  # no schemas: anything goes
    assert (
        client.post(
            "/api/public/dataset-items", json={"datasetName": plain["name"], "input": [1, "x"]}
        ).status_code
        == 200
    )
