"""The reference SDK's documented flows, per resource, against a real langfuse_nb server.

The PyPI langfuse==3.11.2 SDK runs in a subprocess (its OTel state is global): this file is both the pytest
test and the script. Every read is done twice: through the reference's own API client (its pydantic models
must accept it) and as raw JSON validated against the response schema the Langfuse OpenAPI spec gives for
that path and method (required and nullable fields present).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.reference

PROJECT = "ci-project-42"
# the keys Langfuse's v1 read API puts on a trace and an observation (its public-api response types)
TRACE_FIELDS = {
    *("id", "externalId", "timestamp", "name", "userId", "metadata", "release", "version", "projectId"),
    *("environment", "public", "bookmarked", "tags", "input", "output", "sessionId", "createdAt"),
    *("updatedAt", "observations", "scores", "totalCost", "latency", "htmlPath"),
}
OBSERVATION_FIELDS = {
    *("id", "projectId", "traceId", "parentObservationId", "name", "type", "environment", "startTime"),
    *("endTime", "version", "createdAt", "updatedAt", "input", "output", "metadata", "level"),
    *("statusMessage", "model", "modelParameters", "completionStartTime", "promptId", "promptName"),
    *("promptVersion", "usageDetails", "costDetails", "usage", "unit", "promptTokens", "completionTokens"),
    *("totalTokens", "usagePricingTierName", "usagePricingTierId", "modelId", "inputPrice", "outputPrice"),
    *("totalPrice", "calculatedInputCost", "calculatedOutputCost", "calculatedTotalCost", "latency"),
    "timeToFirstToken",
}


def test_reference_flows_read_back_what_langfuse_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("langfuse")
    from langfuse_nb.server.runner import start_in_thread

    # a headless-initialised project id, as self-hosted Langfuse's LANGFUSE_INIT_PROJECT_ID sets it
    monkeypatch.setenv("LANGFUSE_INIT_PROJECT_ID", PROJECT)
    monkeypatch.setenv("LANGFUSE_INIT_PROJECT_NAME", "CI project")
    monkeypatch.setenv("LANGFUSE_INIT_ORG_ID", "ci-org")
    handle = start_in_thread(port=0, db_path=tmp_path / "lf.db")
    try:
        result = subprocess.run(
            [sys.executable, __file__, handle.url], capture_output=True, text=True, timeout=120
        )
    finally:
        handle.stop()
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-4000:]}"
    assert "REFERENCE FLOWS OK" in result.stdout, result.stdout


# ---- the script (runs in the subprocess) --------------------------------------------------------------


class Reader:
    """Raw GETs validated against the spec's 200 response schema for that path."""

    def __init__(self, url: str) -> None:
        import httpx
        import server_testkit as kit
        import yaml

        self.kit = kit
        self.http = httpx.Client(base_url=url, auth=("pk-lf-local", "sk-lf-local"), timeout=10)
        spec_path = kit.spec_path()
        assert spec_path is not None, "the Langfuse OpenAPI spec is missing"
        with spec_path.open() as handle:
            self.paths = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["paths"]

    def get(self, template: str, params: dict[str, Any] | None = None, **path: str) -> Any:
        response = self.http.get(template.format(**path), params=params)
        assert response.status_code == 200, (template, response.status_code, response.text[:500])
        body = response.json()
        schema = self.paths[template]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        self.kit.validate_openapi(body, schema["$ref"].rsplit("/", 1)[-1])
        return body


def flow_traces(lf: Any, read: Reader, tag: str) -> dict[str, str]:
    """Tracing as the docs show it: a span with trace attributes, a generation with usage and cost, scores."""
    with lf.start_as_current_span(name="flow-root", input={"question": tag}) as root:
        root.update_trace(user_id=f"u-{tag}", session_id=f"s-{tag}", tags=[tag], metadata={"flow": "docs"})
        with root.start_as_current_generation(
            name="llm",
            model="gpt-4o",
            input=[{"role": "user", "content": "hi"}],
            usage_details={"input": 10, "output": 5},
            cost_details={"input": 0.001, "output": 0.002},
        ) as generation:
            generation.update(output="hello")
            generation.score(name="tone", value=0.8)
        root.start_observation(name="silent", as_type="event", output="")
        root.score_trace(name="accuracy", value=0.9, comment="docs flow")
        root.update(output={"answer": tag})
        trace_id, generation_id = root.trace_id, generation.id
    lf.create_score(name="verdict", value="good", trace_id=trace_id, data_type="CATEGORICAL")
    lf.create_score(name="passed", value=1, trace_id=trace_id, data_type="BOOLEAN")
    lf.flush()

    reference = lf.api.trace.get(trace_id)
    assert reference.total_cost == pytest.approx(0.003) and reference.latency > 0
    trace = read.get("/api/public/traces/{traceId}", traceId=trace_id)
    assert trace["htmlPath"] == f"/project/{PROJECT}/traces/{trace_id}" and trace["projectId"] == PROJECT
    assert trace["output"] == {"answer": tag} and trace["externalId"] is None
    silent = next(o for o in trace["observations"] if o["name"] == "silent")
    assert silent["output"] is None  # Langfuse returns an empty-string output as null
    by_name = {s["name"]: s for s in trace["scores"]}
    assert "stringValue" in by_name["accuracy"] and by_name["accuracy"]["stringValue"] is None
    assert trace.keys() >= TRACE_FIELDS and all(o.keys() >= OBSERVATION_FIELDS for o in trace["observations"])
    assert by_name["verdict"]["stringValue"] == "good" and by_name["passed"]["stringValue"] == "True"

    listed = read.get("/api/public/traces", {"userId": f"u-{tag}", "orderBy": "latency.desc"})
    assert [t["id"] for t in listed["data"]] == [trace_id]
    assert listed["data"][0]["totalCost"] == pytest.approx(0.003)
    assert sorted(listed["data"][0]["observations"]) == sorted(o["id"] for o in trace["observations"])
    bounded = read.get("/api/public/traces", {"userId": f"u-{tag}", "fields": "core,scores"})
    assert "input" not in bounded["data"][0] and bounded["data"][0]["latency"] == -1
    empty = read.get("/api/public/traces", {"userId": f"u-{tag}", "limit": 0, "page": 0})
    assert empty["data"] == [] and empty["meta"]["totalItems"] == 1
    costly = lf.api.trace.list(order_by="totalCost.desc", tags=[tag], fields="core,metrics")
    assert costly.data[0].id == trace_id and costly.data[0].total_cost == pytest.approx(0.003)
    return {"trace": trace_id, "generation": generation_id, "session": f"s-{tag}"}


def flow_observations(lf: Any, read: Reader, ids: dict[str, str]) -> None:
    many = lf.api.observations.get_many(trace_id=ids["trace"], type="GENERATION")
    assert [o.id for o in many.data] == [ids["generation"]]
    raw = read.get("/api/public/observations", {"traceId": ids["trace"]})
    assert len(raw["data"]) == 3
    one = read.get("/api/public/observations/{observationId}", observationId=ids["generation"])
    assert one["usage"] == {"input": 10, "output": 5, "total": 15, "unit": "TOKENS"}
    assert (one["promptTokens"], one["completionTokens"], one["totalTokens"]) == (10, 5, 15)
    assert one["calculatedInputCost"] == pytest.approx(0.001)
    assert one["calculatedTotalCost"] == pytest.approx(0.003)
    assert one["latency"] is not None and one["latency"] >= 0 and one["createdAt"] and one["updatedAt"]
    assert lf.api.observations.get(ids["generation"]).usage_details == {"input": 10, "output": 5, "total": 15}
    # v2: cursor pages and field groups, through the reference's observations_v_2 client too
    fields = "core,basic,usage,metrics"
    v2 = lf.api.observations_v_2.get_many(trace_id=ids["trace"], fields=fields, limit=2)
    assert len(v2.data) == 2 and v2.meta.cursor
    rest = read.get(
        "/api/public/v2/observations", {"traceId": ids["trace"], "fields": fields, "cursor": v2.meta.cursor}
    )
    assert len(rest["data"]) == 1 and "cursor" not in rest["meta"]
    every = read.get("/api/public/v2/observations", {"traceId": ids["trace"], "fields": fields})["data"]
    generation = next(o for o in every if o["id"] == ids["generation"])
    assert generation["totalCost"] == pytest.approx(0.003) and generation["usageDetails"]["input"] == 10


def flow_scores(lf: Any, read: Reader, ids: dict[str, str]) -> None:
    scores = lf.api.score_v_2.get(trace_id=ids["trace"]).data
    assert sorted(s.name for s in scores) == ["accuracy", "passed", "tone", "verdict"]
    raw = read.get("/api/public/v2/scores", {"traceId": ids["trace"]})
    numeric = next(s for s in raw["data"] if s["name"] == "accuracy")
    assert (
        "stringValue" in numeric and numeric["stringValue"] is None
    )  # present, null, as Langfuse returns it
    assert numeric["metadata"] == {} and numeric["trace"]["tags"]
    single = read.get("/api/public/v2/scores/{scoreId}", scoreId=numeric["id"])
    assert single["value"] == 0.9 and single["comment"] == "docs flow"
    assert lf.api.score_v_2.get_by_id(numeric["id"]).name == "accuracy"
    paged = read.get("/api/public/v2/scores", {"traceId": ids["trace"], "limit": 1, "page": 2})
    assert len(paged["data"]) == 1 and paged["meta"]["totalPages"] == 4


def flow_sessions(lf: Any, read: Reader, ids: dict[str, str]) -> None:
    session = lf.api.sessions.get(ids["session"])
    assert [t.id for t in session.traces] == [ids["trace"]]
    raw = read.get("/api/public/sessions/{sessionId}", sessionId=ids["session"])
    assert raw["projectId"] == PROJECT and raw["traces"][0]["id"] == ids["trace"]
    lf.create_score(name="session-rating", value=4, session_id=ids["session"], comment="whole chat")
    lf.flush()
    rated = read.get("/api/public/v2/scores", {"sessionId": ids["session"]})["data"]
    assert [(s["name"], s["sessionId"], s["traceId"]) for s in rated] == [
        ("session-rating", ids["session"], None)
    ]
    assert lf.api.score_v_2.get(session_id=ids["session"]).data[0].value == 4
    listed = read.get("/api/public/sessions", {"limit": 100})
    assert ids["session"] in [s["id"] for s in listed["data"]]
    assert lf.api.sessions.list(limit=100).meta.total_items == listed["meta"]["totalItems"]


def flow_prompts(lf: Any, read: Reader, tag: str) -> None:
    name = f"docs/{tag}-prompt"
    lf.create_prompt(
        name=name, prompt="Summarise {{text}}", labels=["production"], config={"model": "gpt-4o"}
    )
    lf.create_prompt(name=name, prompt="Summarise briefly: {{text}}", labels=["staging"])
    lf.update_prompt(name=name, version=2, new_labels=["production"])
    prompt = lf.get_prompt(name, cache_ttl_seconds=0)
    assert prompt.version == 2 and prompt.compile(text="x") == "Summarise briefly: x"
    assert lf.get_prompt(name, version=1, cache_ttl_seconds=0).labels == []
    raw = read.get("/api/public/v2/prompts/{promptName}", {"label": "staging"}, promptName=name)
    assert raw["version"] == 2 and sorted(raw["labels"]) == ["latest", "production", "staging"]
    assert raw["projectId"] == PROJECT
    listed = read.get("/api/public/v2/prompts", {"name": name})
    assert listed["data"][0]["versions"] == [1, 2]
    assert [p.name for p in lf.api.prompts.list(name=name).data] == [name]


def flow_datasets(lf: Any, read: Reader, tag: str) -> None:
    name = f"docs/{tag}-dataset"
    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    lf.create_dataset(name=name, description="docs", metadata={"owner": tag}, input_schema=schema)
    for q in ("a", "b", "c"):
        lf.create_dataset_item(dataset_name=name, input={"q": q}, expected_output=q.upper())
    dataset = lf.get_dataset(name, fetch_items_page_size=2)
    assert sorted(item.input["q"] for item in dataset.items) == ["a", "b", "c"]
    result = dataset.run_experiment(name=f"run-{tag}", task=lambda *, item, **_: item.input["q"].upper())
    assert len(result.item_results) == 3
    lf.flush()
    raw = read.get("/api/public/v2/datasets/{datasetName}", datasetName=name)
    assert raw["inputSchema"] == schema and raw["projectId"] == PROJECT
    read.get("/api/public/v2/datasets", {"limit": 100})
    items = read.get("/api/public/dataset-items", {"datasetName": name, "limit": 2})
    assert items["meta"]["totalPages"] == 2
    read.get("/api/public/dataset-items/{id}", id=items["data"][0]["id"])
    runs = read.get("/api/public/datasets/{datasetName}/runs", datasetName=name)
    run_name = runs["data"][0]["name"]
    run = read.get("/api/public/datasets/{datasetName}/runs/{runName}", datasetName=name, runName=run_name)
    assert len(run["datasetRunItems"]) == 3
    lf.create_score(name="run-accuracy", value=0.75, dataset_run_id=run["id"])
    lf.flush()
    run_scores = read.get("/api/public/v2/scores", {"datasetRunId": run["id"]})["data"]
    assert [(s["name"], s["datasetRunId"], s["value"]) for s in run_scores] == [
        ("run-accuracy", run["id"], 0.75)
    ]
    run_items = read.get("/api/public/dataset-run-items", {"datasetId": raw["id"], "runName": run_name})
    assert run_items["meta"]["totalItems"] == 3
    assert len(lf.api.dataset_run_items.list(dataset_id=raw["id"], run_name=run_name).data) == 3
    bad = read.http.post("/api/public/v2/datasets", json={"name": f"{name}-bad", "inputSchema": "a string"})
    assert bad.status_code == 400, bad.text


def flow_media(lf: Any, read: Reader) -> None:
    import datetime as dt
    import os

    from langfuse.media import LangfuseMedia

    image = LangfuseMedia(content_bytes=b"\x89PNG docs " + os.urandom(8), content_type="image/png")
    with lf.start_as_current_span(name="with-media", input={"image": image}) as span:
        trace_id = span.trace_id
    lf.flush()
    stored = lf.api.trace.get(trace_id).observations[0].input["image"]
    media_id = stored.split("|id=")[1].split("|")[0]
    raw = read.get("/api/public/media/{mediaId}", mediaId=media_id)
    expiry = dt.datetime.fromisoformat(raw["urlExpiry"].replace("Z", "+00:00"))
    left = (expiry - dt.datetime.now(dt.timezone.utc)).total_seconds()
    assert 3500 < left <= 3600, left  # the link lives one hour, as the response states
    assert read.http.get(raw["url"], auth=None).content.startswith(b"\x89PNG docs ")
    refused = read.http.post(
        "/api/public/media",
        json={
            "traceId": trace_id,
            "contentType": "application/x-unknown",
            "contentLength": 1,
            "sha256Hash": "A" * 43 + "=",
            "field": "input",
        },
    )
    assert refused.status_code == 400, refused.text  # outside the API's MediaContentType enum


def flow_projects(lf: Any, read: Reader, trace_id: str, url: str) -> None:
    projects = read.get("/api/public/projects")
    assert projects["data"][0]["id"] == PROJECT and projects["data"][0]["name"] == "CI project"
    assert projects["data"][0]["organization"]["id"] == "ci-org"
    assert lf.api.projects.get().data[0].id == PROJECT
    trace_url = lf.get_trace_url(trace_id=trace_id)
    assert trace_url == f"{url}/project/{PROJECT}/traces/{trace_id}", trace_url
    page = read.http.get(trace_url)
    assert page.status_code == 200 and trace_id in page.text, page.status_code
    read.get("/api/public/health")


def main(url: str) -> None:
    import uuid

    from langfuse import Langfuse

    lf = Langfuse(public_key="pk-lf-local", secret_key="sk-lf-local", base_url=url)
    read = Reader(url)
    tag = uuid.uuid4().hex[:8]
    ids = flow_traces(lf, read, tag)
    flow_observations(lf, read, ids)
    flow_scores(lf, read, ids)
    flow_sessions(lf, read, ids)
    flow_prompts(lf, read, tag)
    flow_datasets(lf, read, tag)
    flow_media(lf, read)
    flow_projects(lf, read, ids["trace"], url)
    lf.shutdown()
    print("REFERENCE FLOWS OK")


if __name__ == "__main__":
    main(sys.argv[1])
