"""Every endpoint sends what the reference Fern client sends (same call on both, MockTransport)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from langfuse_nb.api import LangfuseAPI

langfuse_api = pytest.importorskip("langfuse.api.client")

T0 = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc)
ITEM = {"datasetName": "ds", "input": {"q": 1}, "expectedOutput": None, "id": "it-1", "status": "ACTIVE"}
SCORE = {"name": "acc", "value": 0.5, "traceId": "t1", "dataType": "NUMERIC", "comment": None}
TEXT_PROMPT = {
    "type": "text",
    "name": "p",
    "prompt": "hi {{x}}",
    "labels": ["production"],
    "tags": None,
    "config": {},
    "commitMessage": None,
}
CHAT_PROMPT = {
    "type": "chat",
    "name": "c",
    "prompt": [{"role": "user", "content": "x"}, {"type": "placeholder", "name": "history"}],
    "labels": [],
    "config": {"temperature": 0},
}
UPLOAD = {
    "traceId": "t1",
    "observationId": "o1",
    "contentType": "image/png",
    "contentLength": 3,
    "sha256Hash": "abc=",
    "field": "input",
}
PATCH = {
    "uploadedAt": "2024-05-01T12:30:00Z",
    "uploadHttpStatus": 200,
    "uploadHttpError": None,
    "uploadTimeMs": 12,
}
EVENT = {
    "id": "e1",
    "type": "score-create",
    "timestamp": "2024-05-01T12:30:00Z",
    "body": {"id": "s1", "traceId": "t1", "name": "acc", "value": 1.0},
}

# name -> the same call, valid for our client and the reference one
CASES: dict[str, Callable[[Any], Any]] = {
    "health": lambda c: c.health.health(),
    "projects.get": lambda c: c.projects.get(),
    "projects.create": lambda c: c.projects.create(name="p", retention=0),
    "projects.update": lambda c: c.projects.update("pid", name="p", retention=3, metadata={"a": 1}),
    "projects.delete": lambda c: c.projects.delete("pid"),
    "projects.get_api_keys": lambda c: c.projects.get_api_keys("pid"),
    "projects.create_api_key": lambda c: c.projects.create_api_key("pid", note="n"),
    "projects.delete_api_key": lambda c: c.projects.delete_api_key("pid", "kid"),
    "trace.get": lambda c: c.trace.get("t1"),
    "trace.delete": lambda c: c.trace.delete("t1"),
    "trace.delete_multiple": lambda c: c.trace.delete_multiple(trace_ids=["a", "b"]),
    "trace.list": lambda c: c.trace.list(
        page=2,
        limit=10,
        user_id="u",
        name="n",
        session_id="s",
        from_timestamp=T0,
        to_timestamp=T0,
        order_by="timestamp.desc",
        tags=["a", "b"],
        version="v",
        release="r",
        environment=["dev", "prod"],
        fields="core",
        filter='[{"type":"string"}]',
    ),
    "trace.list-empty": lambda c: c.trace.list(),
    "observations.get": lambda c: c.observations.get("o1"),
    "observations.get_many": lambda c: c.observations.get_many(
        page=1,
        limit=5,
        name="n",
        user_id="u",
        type="GENERATION",
        trace_id="t",
        level="ERROR",
        parent_observation_id="p",
        environment="dev",
        from_start_time=T0,
        to_start_time=T0,
        version="v",
        filter="[]",
    ),
    "score.create": lambda c: c.score.create(request=SCORE),
    "score.delete": lambda c: c.score.delete("s1"),
    "score_v_2.get": lambda c: c.score_v_2.get(
        page=1,
        limit=3,
        user_id="u",
        name="acc",
        from_timestamp=T0,
        environment=["a"],
        source="API",
        operator=">",
        value=0.5,
        score_ids="x,y",
        config_id="c",
        session_id="s",
        dataset_run_id="r",
        trace_id="t",
        queue_id="q",
        data_type="NUMERIC",
        trace_tags=["t1", "t2"],
    ),
    "score_v_2.get_by_id": lambda c: c.score_v_2.get_by_id("s1"),
    "sessions.list": lambda c: c.sessions.list(page=1, limit=2, from_timestamp=T0, environment="e"),
    "sessions.get": lambda c: c.sessions.get("s1"),
    "prompts.get-label": lambda c: c.prompts.get("p", label="production"),
    "prompts.get-version": lambda c: c.prompts.get("p", version=3),
    "prompts.list": lambda c: c.prompts.list(
        name="p", label="l", tag="t", page=1, limit=9, from_updated_at=T0
    ),
    "prompts.create-text": lambda c: c.prompts.create(request=TEXT_PROMPT),
    "prompts.create-chat": lambda c: c.prompts.create(request=CHAT_PROMPT),
    "prompts.delete": lambda c: c.prompts.delete("p", label="old", version=2),
    "prompt_version.update": lambda c: c.prompt_version.update("p", 2, new_labels=["production"]),
    "datasets.list": lambda c: c.datasets.list(page=1, limit=50),
    "datasets.get": lambda c: c.datasets.get("ds"),
    "datasets.create": lambda c: c.datasets.create(
        request={"name": "ds", "description": None, "metadata": {"k": "v"}, "inputSchema": None}
    ),
    "datasets.get_run": lambda c: c.datasets.get_run("ds", "run"),
    "datasets.delete_run": lambda c: c.datasets.delete_run("ds", "run"),
    "datasets.get_runs": lambda c: c.datasets.get_runs("ds", page=1, limit=10),
    "dataset_items.create": lambda c: c.dataset_items.create(request=ITEM),
    "dataset_items.get": lambda c: c.dataset_items.get("it-1"),
    "dataset_items.list": lambda c: c.dataset_items.list(
        dataset_name="ds", source_trace_id="t", page=2, limit=50
    ),
    "dataset_items.delete": lambda c: c.dataset_items.delete("it-1"),
    "dataset_run_items.create": lambda c: c.dataset_run_items.create(
        request={"runName": "r", "datasetItemId": "it-1", "traceId": "t1", "metadata": None}
    ),
    "dataset_run_items.list": lambda c: c.dataset_run_items.list(dataset_id="d", run_name="r", page=1),
    "media.get": lambda c: c.media.get("m1"),
    "media.get_upload_url": lambda c: c.media.get_upload_url(request=UPLOAD),
    "media.patch": lambda c: c.media.patch("m1", request=PATCH),
    "models.create": lambda c: c.models.create(
        request={"modelName": "m", "matchPattern": "(?i)^m$", "unit": "TOKENS", "inputPrice": 1e-6}
    ),
    "models.list": lambda c: c.models.list(page=2, limit=10),
    "models.get": lambda c: c.models.get("mod-1"),
    "models.delete": lambda c: c.models.delete("mod-1"),
    "score_configs.create": lambda c: c.score_configs.create(
        request={"name": "tone", "dataType": "CATEGORICAL", "categories": [{"label": "ok", "value": 1}]}
    ),
    "score_configs.get": lambda c: c.score_configs.get(page=2, limit=5),
    "score_configs.get_by_id": lambda c: c.score_configs.get_by_id("cfg-1"),
    "score_configs.update": lambda c: c.score_configs.update("cfg-1", request={"isArchived": True}),
    "ingestion.batch": lambda c: c.ingestion.batch(batch=[EVENT], metadata={"batch_size": 1}),
    "ingestion.batch-no-metadata": lambda c: c.ingestion.batch(batch=[EVENT]),
}

SHARED_HEADERS = (
    "authorization",
    "x-fern-language",
    "x-langfuse-sdk-name",
    "x-langfuse-public-key",
    "content-type",
)


def _capture(make_client: Callable[[httpx.Client], Any], call: Callable[[Any], Any]) -> httpx.Request:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500, json={"message": "recorded"})  # every client raises; we only look

    client = make_client(httpx.Client(transport=httpx.MockTransport(handler)))
    with contextlib.suppress(Exception):  # every client raises on the 500; only the request matters
        call(client)
    assert len(seen) == 1
    return seen[0]


def _ours(http: httpx.Client) -> LangfuseAPI:
    return LangfuseAPI(base_url="http://lf.test", username="pk-lf-1", password="sk-lf-1", httpx_client=http)


def _reference(http: httpx.Client) -> Any:
    return langfuse_api.FernLangfuse(
        base_url="http://lf.test",
        username="pk-lf-1",
        password="sk-lf-1",
        x_langfuse_sdk_name="python",
        x_langfuse_sdk_version="3.11.2",
        x_langfuse_public_key="pk-lf-1",
        httpx_client=http,
    )


def _shape(request: httpx.Request) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.url.raw_path.split(b"?")[0].decode(),
        "query": sorted(request.url.params.multi_items()),
        "body": json.loads(request.content) if request.content else None,
        "headers": {name: request.headers.get(name) for name in SHARED_HEADERS},
    }


@pytest.mark.reference
@pytest.mark.parametrize("name", sorted(CASES))
def test_same_request_as_reference(name: str) -> None:
    ours = _shape(_capture(_ours, CASES[name]))
    reference = _shape(_capture(_reference, CASES[name]))
    assert ours == reference


def test_every_in_scope_method_has_a_case() -> None:
    from langfuse_nb.api.resources import RESOURCES

    methods = {
        f"{resource}.{attr}"
        for resource, (sync_cls, _) in RESOURCES.items()
        for attr in dir(sync_cls)
        if not attr.startswith("_")
    }
    covered = {name.split("-")[0] if name.count(".") else name for name in CASES}
    covered = {"health.health" if c == "health" else c for c in covered}
    assert methods - covered == set()


# name -> call building the request model from module ``m`` (ours or the reference's ``langfuse.api``)
MODEL_CASES: dict[str, Callable[[Any, Any], Any]] = {
    "prompt-chat-model": lambda c, m: c.prompts.create(
        request=m.CreatePromptRequest_Chat(
            name="c",
            prompt=[{"role": "user", "content": "x"}, {"type": "placeholder", "name": "h"}],
            labels=["production"],
            tags=None,
            config={},
            commit_message=None,
        )
    ),
    "prompt-text-model": lambda c, m: c.prompts.create(
        request=m.CreatePromptRequest_Text(name="t", prompt="x")
    ),
    "dataset-model": lambda c, m: c.datasets.create(request=m.CreateDatasetRequest(name="d", metadata=None)),
    "item-model": lambda c, m: c.dataset_items.create(
        request=m.CreateDatasetItemRequest(
            dataset_name="d", input={"a": [1, 2]}, status=m.DatasetStatus.ACTIVE
        )
    ),
    "run-item-model": lambda c, m: c.dataset_run_items.create(
        request=m.CreateDatasetRunItemRequest(
            run_name="r", dataset_item_id="i", trace_id="t", observation_id="o"
        )
    ),
    "score-model": lambda c, m: c.score.create(
        request=m.CreateScoreRequest(name="n", value="good", data_type=m.ScoreDataType.CATEGORICAL)
    ),
    "media-models": lambda c, m: c.media.get_upload_url(
        request=m.GetMediaUploadUrlRequest(
            trace_id="t",
            content_type=m.MediaContentType.IMAGE_PNG,
            content_length=4,
            sha_256_hash="h",
            field="output",
        )
    ),
    "patch-model": lambda c, m: c.media.patch(
        "m1", request=m.PatchMediaBody(uploaded_at=T0, upload_http_status=500, upload_http_error="x")
    ),
    "ingestion-models": lambda c, m: c.ingestion.batch(
        batch=[
            m.IngestionEvent_ScoreCreate(
                id="e", timestamp="2024-05-01T12:30:00Z", body=m.ScoreBody(name="n", value=1.0, trace_id="t")
            )
        ],
        metadata=None,
    ),
}


@pytest.mark.reference
@pytest.mark.parametrize("name", sorted(MODEL_CASES))
def test_model_requests_serialize_like_reference(name: str) -> None:
    import langfuse.api as reference_models

    import langfuse_nb.api as our_models

    ours = _shape(_capture(_ours, lambda c: MODEL_CASES[name](c, our_models)))
    reference = _shape(_capture(_reference, lambda c: MODEL_CASES[name](c, reference_models)))
    assert ours == reference


@pytest.mark.reference
@pytest.mark.parametrize("name", ["a/b c", "ünï", "x%2Fy"])
def test_path_encoding_equals_reference_given_pre_encoded_names(name: str) -> None:
    """The reference SDK quotes names itself before calling its client; ours quotes inside the client."""
    import urllib.parse

    ours = _shape(_capture(_ours, lambda c: c.prompts.get(name)))
    reference = _shape(_capture(_reference, lambda c: c.prompts.get(urllib.parse.quote(name, safe=""))))
    assert ours["path"] == reference["path"]
