"""End to end: both REST clients against the real embedded server (the `server` fixture), with the
reference ``langfuse.api`` client as an oracle on the same server where that is cheap."""

from __future__ import annotations

import asyncio
import datetime as dt
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from langfuse_nb.api import (
    AsyncLangfuseAPI,
    DatasetStatus,
    LangfuseAPI,
    NotFoundError,
    Prompt_Chat,
    Prompt_Text,
    UnauthorizedError,
)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def api(server: Any) -> Iterator[LangfuseAPI]:
    client = LangfuseAPI(base_url=server.url, username=server.public_key, password=server.secret_key)
    yield client
    client.close()


@pytest.fixture(scope="module")
def ref(server: Any) -> Any:
    """The reference SDK's Fern client, pointed at the same server."""
    client_mod = pytest.importorskip("langfuse.api.client")
    return client_mod.FernLangfuse(
        base_url=server.url,
        username=server.public_key,
        password=server.secret_key,
        x_langfuse_sdk_name="python",
        x_langfuse_sdk_version="3.11.2",
        x_langfuse_public_key=server.public_key,
        timeout=5,
    )


def same(ours: Any, theirs: Any) -> None:
    """Our parsed model equals the reference's, field by field (camelCase dicts, Python values)."""
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.dict() == theirs.dict()


def test_health_and_projects(api: LangfuseAPI, ref: Any) -> None:
    health = api.health.health()
    assert health.status == "OK" and health.version
    projects = api.projects.get()
    assert len(projects.data) == 1 and projects.data[0].id
    same(projects, ref.projects.get())


def test_wrong_keys_are_unauthorized(server: Any) -> None:
    bad = LangfuseAPI(base_url=server.url, username=server.public_key, password="sk-wrong")
    with pytest.raises(UnauthorizedError) as info:
        bad.projects.get()
    assert info.value.status_code == 401
    assert bad.health.health().status == "OK"  # health needs no auth


def test_prompts_text_and_chat_by_label_and_version(api: LangfuseAPI, ref: Any) -> None:
    name = uid("folder/my prompt")
    v1 = api.prompts.create(
        request={
            "type": "text",
            "name": name,
            "prompt": "Hi {{who}}",
            "labels": ["production"],
            "config": {"temperature": 0.1},
            "tags": ["t"],
        }
    )
    assert isinstance(v1, Prompt_Text) and v1.version == 1 and "production" in v1.labels
    v2 = api.prompts.create(request={"type": "text", "name": name, "prompt": "Hello {{who}}", "labels": []})
    assert v2.version == 2 and "latest" in v2.labels

    assert api.prompts.get(name).prompt == "Hi {{who}}"  # default label: production
    assert api.prompts.get(name, label="latest").version == 2
    assert api.prompts.get(name, version=1).config == {"temperature": 0.1}
    same(api.prompts.get(name, version=2), ref.prompts.get(urllib.parse.quote(name, safe=""), version=2))

    moved = api.prompt_version.update(name, 2, new_labels=["production"])
    assert "production" in moved.labels
    assert api.prompts.get(name, label="production").version == 2
    assert "production" not in api.prompts.get(name, version=1).labels

    chat_name = uid("chat prompt")
    chat = api.prompts.create(
        request={
            "type": "chat",
            "name": chat_name,
            "labels": ["staging"],
            "prompt": [
                {"role": "system", "content": "Be {{tone}}"},
                {"type": "placeholder", "name": "history"},
            ],
        }
    )
    assert isinstance(chat, Prompt_Chat)
    fetched = api.prompts.get(chat_name, label="staging")
    assert [getattr(m, "role", None) or m.name for m in fetched.prompt] == ["system", "history"]
    same(fetched, ref.prompts.get(urllib.parse.quote(chat_name, safe=""), label="staging"))

    listed = api.prompts.list(name=name)
    assert [p.name for p in listed.data] == [name] and sorted(listed.data[0].versions) == [1, 2]


def test_missing_prompt_is_not_found(api: LangfuseAPI) -> None:
    with pytest.raises(NotFoundError) as info:
        api.prompts.get(uid("missing/prompt"))
    assert info.value.status_code == 404 and isinstance(info.value.body, dict)


def test_datasets_items_pagination_and_runs(api: LangfuseAPI, ref: Any) -> None:
    name = uid("evals/qa set")
    dataset = api.datasets.create(request={"name": name, "description": "d", "metadata": {"k": 1}})
    assert dataset.name == name and dataset.metadata == {"k": 1}
    same(api.datasets.get(name), ref.datasets.get(urllib.parse.quote(name, safe="")))

    ids = [
        api.dataset_items.create(request={"datasetName": name, "input": {"q": i}, "expectedOutput": i}).id
        for i in range(7)
    ]
    archived = api.dataset_items.create(
        request={"datasetName": name, "id": ids[0], "status": "ARCHIVED", "input": {"q": 0}}
    )
    assert archived.id == ids[0] and archived.status is DatasetStatus.ARCHIVED

    pages = [api.dataset_items.list(dataset_name=name, page=p, limit=3) for p in (1, 2, 3)]
    assert [len(p.data) for p in pages] == [3, 3, 1]
    assert {p.meta.total_pages for p in pages} == {3} and pages[0].meta.total_items == 7
    assert sorted(item.id for p in pages for item in p.data) == sorted(ids)
    same(pages[1], ref.dataset_items.list(dataset_name=name, page=2, limit=3))
    assert api.dataset_items.get(ids[3]).input == {"q": 3}

    run_item = api.dataset_run_items.create(
        request={
            "runName": "run 1",
            "datasetItemId": ids[1],
            "traceId": uuid.uuid4().hex,
            "metadata": {"m": 1},
        }
    )
    assert run_item.dataset_run_name == "run 1" and run_item.dataset_item_id == ids[1]
    runs = api.datasets.get_runs(name)
    assert [r.name for r in runs.data] == ["run 1"]
    run = api.datasets.get_run(name, "run 1")
    assert [i.id for i in run.dataset_run_items] == [run_item.id]
    listed = api.dataset_run_items.list(dataset_id=dataset.id, run_name="run 1")
    assert [i.id for i in listed.data] == [run_item.id]
    api.datasets.delete_run(name, "run 1")
    with pytest.raises(NotFoundError):
        api.datasets.get_run(name, "run 1")
    assert name in {d.name for d in _all_datasets(api)}


def _all_datasets(api: LangfuseAPI) -> list[Any]:
    first = api.datasets.list(page=1, limit=100)
    return list(first.data)


def test_ingestion_then_traces_observations_scores_sessions(api: LangfuseAPI, ref: Any) -> None:
    trace_id, span_id, gen_id = uuid.uuid4().hex, uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
    user, session = uid("user"), uid("session")
    ts = now_iso()
    events = [
        {
            "id": uid("e"),
            "type": "trace-create",
            "timestamp": ts,
            "body": {
                "id": trace_id,
                "name": "ingested",
                "userId": user,
                "sessionId": session,
                "tags": ["x", "y"],
                "input": {"question": "q"},
                "output": "a",
                "timestamp": ts,
            },
        },
        {
            "id": uid("e"),
            "type": "span-create",
            "timestamp": ts,
            "body": {"id": span_id, "traceId": trace_id, "name": "step", "startTime": ts, "endTime": ts},
        },
        {
            "id": uid("e"),
            "type": "generation-create",
            "timestamp": ts,
            "body": {
                "id": gen_id,
                "traceId": trace_id,
                "parentObservationId": span_id,
                "name": "llm",
                "model": "gpt-x",
                "startTime": ts,
                "endTime": ts,
                "usageDetails": {"input": 3, "output": 4},
            },
        },
        {
            "id": uid("e"),
            "type": "score-create",
            "timestamp": ts,
            "body": {"id": uid("score"), "traceId": trace_id, "name": "quality", "value": 0.75},
        },
    ]
    result = api.ingestion.batch(batch=events, metadata={"batch_size": len(events)})
    assert result.errors == [] and len(result.successes) == len(events)

    trace = api.trace.get(trace_id)
    assert trace.name == "ingested" and trace.user_id == user and set(trace.tags or []) == {"x", "y"}
    assert {o.id for o in trace.observations} == {span_id, gen_id}
    assert [s.name for s in trace.scores] == ["quality"] and trace.scores[0].value == 0.75
    same(trace, ref.trace.get(trace_id))

    listed = api.trace.list(user_id=user, limit=10)
    assert [t.id for t in listed.data] == [trace_id]
    assert set(listed.data[0].observations) == {span_id, gen_id}
    same(listed, ref.trace.list(user_id=user, limit=10))
    assert [t.id for t in api.trace.list(tags=["x", "y"], user_id=user).data] == [trace_id]

    observations = api.observations.get_many(trace_id=trace_id, limit=50)
    assert {o.id for o in observations.data} == {span_id, gen_id}
    generation = api.observations.get(gen_id)
    assert generation.type == "GENERATION" and generation.parent_observation_id == span_id
    assert generation.model == "gpt-x"
    same(generation, ref.observations.get(gen_id))

    scores = api.score_v_2.get(trace_id=trace_id)
    assert [s.name for s in scores.data] == ["quality"]
    assert api.score_v_2.get_by_id(scores.data[0].id).value == 0.75

    assert session in {s.id for s in api.sessions.list(limit=100).data}
    assert [t.id for t in api.sessions.get(session).traces] == [trace_id]


def test_score_create_and_delete(api: LangfuseAPI) -> None:
    trace_id, score_id = uuid.uuid4().hex, uid("score")
    event = {
        "id": uid("e"),
        "type": "score-create",
        "timestamp": now_iso(),
        "body": {
            "id": score_id,
            "traceId": trace_id,
            "name": "label",
            "value": "good",
            "dataType": "CATEGORICAL",
        },
    }
    assert api.ingestion.batch(batch=[event]).errors == []
    assert api.score_v_2.get_by_id(score_id).string_value == "good"
    api.score.delete(score_id)
    with pytest.raises(NotFoundError):
        api.score_v_2.get_by_id(score_id)


def test_score_create_endpoint(api: LangfuseAPI) -> None:
    created = api.score.create(request={"traceId": uuid.uuid4().hex, "name": "n", "value": 1.0})
    assert api.score_v_2.get_by_id(created.id).value == 1.0


def test_trace_delete(api: LangfuseAPI) -> None:
    trace_id = uuid.uuid4().hex
    api.ingestion.batch(
        batch=[
            {
                "id": uid("e"),
                "type": "trace-create",
                "timestamp": now_iso(),
                "body": {"id": trace_id, "name": "doomed"},
            }
        ]
    )
    assert api.trace.get(trace_id).name == "doomed"
    api.trace.delete(trace_id)
    with pytest.raises(NotFoundError):
        api.trace.get(trace_id)


def test_media_upload_url_upload_patch_and_get(api: LangfuseAPI) -> None:
    import base64
    import hashlib

    trace_id, content = uuid.uuid4().hex, f"png-bytes-{uuid.uuid4()}".encode()
    sha = base64.b64encode(hashlib.sha256(content).digest()).decode()
    media_id = sha.replace("+", "-").replace("/", "_")[:22]
    api.ingestion.batch(
        batch=[
            {
                "id": uid("e"),
                "type": "trace-create",
                "timestamp": now_iso(),
                "body": {"id": trace_id, "name": "with media"},
            }
        ]
    )
    upload = api.media.get_upload_url(
        request={
            "traceId": trace_id,
            "observationId": None,
            "contentType": "image/png",
            "contentLength": len(content),
            "sha256Hash": sha,
            "field": "input",
        }
    )
    assert upload.media_id == media_id and upload.upload_url
    put = httpx.put(
        upload.upload_url,
        content=content,
        headers={"Content-Type": "image/png", "x-amz-checksum-sha256": sha},
    )
    assert put.is_success
    assert (
        api.media.patch(
            media_id,
            request={
                "uploadedAt": now_iso(),
                "uploadHttpStatus": put.status_code,
                "uploadHttpError": None,
                "uploadTimeMs": 3,
            },
        )
        is None
    )
    media = api.media.get(media_id)
    assert media.content_type == "image/png" and media.content_length == len(content) and media.uploaded_at
    assert httpx.get(media.url).content == content
    again = api.media.get_upload_url(
        request={
            "traceId": trace_id,
            "contentType": "image/png",
            "contentLength": len(content),
            "sha256Hash": sha,
            "field": "output",
        }
    )
    assert again.upload_url is None  # already uploaded


def test_async_client_against_server(server: Any) -> None:
    async def scenario() -> None:
        async with AsyncLangfuseAPI(
            base_url=server.url, username=server.public_key, password=server.secret_key
        ) as api:
            name = uid("async/prompt")
            created = await api.prompts.create(
                request={"type": "text", "name": name, "prompt": "x", "labels": ["production"]}
            )
            fetched, projects = await asyncio.gather(api.prompts.get(name), api.projects.get())
            assert fetched.version == created.version and projects.data
            with pytest.raises(NotFoundError):
                await api.datasets.get(uid("nope"))

    asyncio.run(scenario())
    asyncio.run(scenario())  # a second event loop works too (per-loop httpx client)
