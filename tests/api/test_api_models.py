"""Wire models parse what the reference models parse, to the same values; plus the pydantic v2 specifics."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pydantic
import pytest

import langfuse_nb.api as ours
from langfuse_nb.api._spec import parse

T = "2024-05-01T12:30:00.123Z"
TS = {"createdAt": T, "updatedAt": T}
META = {"page": 1, "limit": 50, "totalItems": 1, "totalPages": 1}
OBS = {
    "id": "o1",
    "traceId": "t1",
    "type": "GENERATION",
    "startTime": T,
    "level": "DEFAULT",
    "model": "m",
    "usageDetails": {"input": 3},
    "costDetails": {"total": 0.5},
    "promptName": "p",
    "promptVersion": 2,
    "latency": 1.5,
    "unknownField": {"kept": True},
}
SCORE_V1 = {
    "id": "s1",
    "traceId": "t1",
    "name": "acc",
    "source": "API",
    "timestamp": T,
    **TS,
    "dataType": "NUMERIC",
    "value": 0.9,
}
CAT_V1 = {**SCORE_V1, "id": "s2", "dataType": "CATEGORICAL", "value": 0, "stringValue": "good"}
TRACE = {
    "id": "t1",
    "timestamp": "2024-05-01T14:30:00+02:00",
    "name": "n",
    "htmlPath": "/p/t1",
    "latency": 0.0,
    "totalCost": 0.0,
    "tags": ["a"],
    "extraTraceField": 1,
}
TEXT = {
    "type": "text",
    "name": "p",
    "version": 1,
    "prompt": "hi",
    "config": {},
    "labels": ["latest"],
    "tags": [],
}
CHAT = {
    "type": "chat",
    "name": "c",
    "version": 2,
    "config": {"t": 1},
    "labels": [],
    "tags": ["x"],
    "prompt": [
        {"role": "user", "content": "hey"},
        {"type": "placeholder", "name": "history"},
        {"type": "chatmessage", "role": "assistant", "content": "ok"},
    ],
    "commitMessage": "m",
}
DATASET = {"id": "d1", "name": "ds", "projectId": "p", "description": None, "metadata": {"k": 1}, **TS}
ITEM = {
    "id": "i1",
    "status": "ACTIVE",
    "datasetId": "d1",
    "datasetName": "ds",
    "input": {"q": 1},
    "expectedOutput": "a",
    **TS,
}
RUN_ITEM = {
    "id": "ri",
    "datasetRunId": "r1",
    "datasetRunName": "run",
    "datasetItemId": "i1",
    "traceId": "t1",
    **TS,
}
RUN = {"id": "r1", "name": "run", "datasetId": "d1", "datasetName": "ds", "metadata": None, **TS}
SCORE_V2 = {
    "id": "s3",
    "name": "acc",
    "source": "EVAL",
    "timestamp": T,
    **TS,
    "dataType": "BOOLEAN",
    "value": 1,
    "stringValue": "True",
    "sessionId": "sess",
    "trace": {"userId": "u", "tags": ["a"]},
}

# (our model name, reference type path, payload)
CASES: list[tuple[str, str, Any]] = [
    ("HealthResponse", "health.HealthResponse", {"status": "OK", "version": "1"}),
    (
        "Projects",
        "projects.Projects",
        {"data": [{"id": "p", "name": "n", "metadata": {}, "retentionDays": 3}]},
    ),
    ("Prompt", "prompts.Prompt", TEXT),
    ("Prompt", "prompts.Prompt", CHAT),
    (
        "PromptMetaListResponse",
        "prompts.PromptMetaListResponse",
        {
            "data": [
                {
                    "name": "p",
                    "type": "chat",
                    "versions": [1, 2],
                    "labels": [],
                    "tags": [],
                    "lastUpdatedAt": T,
                    "lastConfig": {},
                }
            ],
            "meta": META,
        },
    ),
    ("Dataset", "commons.Dataset", DATASET),
    ("PaginatedDatasets", "datasets.PaginatedDatasets", {"data": [DATASET], "meta": META}),
    ("DatasetItem", "commons.DatasetItem", ITEM),
    ("PaginatedDatasetItems", "dataset_items.PaginatedDatasetItems", {"data": [ITEM], "meta": META}),
    ("DatasetRunItem", "commons.DatasetRunItem", RUN_ITEM),
    (
        "PaginatedDatasetRunItems",
        "dataset_run_items.PaginatedDatasetRunItems",
        {"data": [RUN_ITEM], "meta": META},
    ),
    ("DatasetRunWithItems", "commons.DatasetRunWithItems", {**RUN, "datasetRunItems": [RUN_ITEM]}),
    ("PaginatedDatasetRuns", "datasets.PaginatedDatasetRuns", {"data": [RUN], "meta": META}),
    ("Traces", "trace.Traces", {"data": [{**TRACE, "observations": ["o1"], "scores": ["s1"]}], "meta": META}),
    (
        "TraceWithFullDetails",
        "commons.TraceWithFullDetails",
        {**TRACE, "observations": [OBS], "scores": [SCORE_V1, CAT_V1]},
    ),
    ("ObservationsViews", "observations.ObservationsViews", {"data": [OBS], "meta": META}),
    ("ObservationsView", "commons.ObservationsView", OBS),
    ("GetScoresResponse", "score_v_2.GetScoresResponse", {"data": [SCORE_V2], "meta": META}),
    ("Score", "commons.Score", {**SCORE_V2, "trace": None}),
    ("CreateScoreResponse", "score.CreateScoreResponse", {"id": "s"}),
    (
        "PaginatedSessions",
        "sessions.PaginatedSessions",
        {"data": [{"id": "s", "createdAt": T, "projectId": "p", "environment": "default"}], "meta": META},
    ),
    (
        "SessionWithTraces",
        "commons.SessionWithTraces",
        {"id": "s", "createdAt": T, "projectId": "p", "traces": [TRACE]},
    ),
    ("GetMediaUploadUrlResponse", "media.GetMediaUploadUrlResponse", {"mediaId": "m", "uploadUrl": None}),
    (
        "GetMediaResponse",
        "media.GetMediaResponse",
        {
            "mediaId": "m",
            "contentType": "image/png",
            "contentLength": 3,
            "uploadedAt": T,
            "url": "http://u",
            "urlExpiry": T,
        },
    ),
    (
        "IngestionResponse",
        "ingestion.IngestionResponse",
        {
            "successes": [{"id": "e1", "status": 201}],
            "errors": [{"id": "e2", "status": 400, "message": "bad"}],
        },
    ),
    ("DeleteTraceResponse", "trace.DeleteTraceResponse", {"message": "ok"}),
]


def _reference(path: str, data: Any) -> Any:
    module, name = path.split(".")
    pydantic_v1 = pytest.importorskip("langfuse.api.core.pydantic_utilities").pydantic_v1
    tp = getattr(importlib.import_module(f"langfuse.api.resources.{module}"), name)
    return pydantic_v1.parse_obj_as(tp, data)


@pytest.mark.reference
@pytest.mark.parametrize(("name", "ref", "payload"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_parses_like_reference(name: str, ref: str, payload: Any) -> None:
    mine = parse(getattr(ours, name), payload)
    theirs = _reference(ref, payload)
    assert type(mine).__name__ == type(theirs).__name__
    assert mine.dict() == theirs.dict()


def test_camel_and_snake_names_datetimes_and_extras() -> None:
    item = ours.DatasetItem.model_validate(ITEM)
    assert item.dataset_name == "ds" and item.expected_output == "a"
    assert item.status == ours.DatasetStatus.ACTIVE == "ACTIVE"
    assert item.created_at == dt.datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=dt.timezone.utc)
    assert ours.DatasetItem(**{**ITEM, "datasetName": "x"}).dataset_name == "x"
    assert (
        ours.DatasetItem(
            id="i", status="ARCHIVED", dataset_id="d", dataset_name="n", created_at=T, updated_at=T
        ).status
        is ours.DatasetStatus.ARCHIVED
    )
    obs = ours.ObservationsView.model_validate(OBS)
    assert obs.unknownField == {"kept": True}  # type: ignore[attr-defined]
    assert obs.to_wire()["unknownField"] == {"kept": True}


def test_trace_offsets_and_discriminated_scores() -> None:
    trace = ours.TraceWithFullDetails.model_validate(
        {**TRACE, "observations": [OBS], "scores": [SCORE_V1, CAT_V1]}
    )
    assert trace.timestamp == dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc)
    assert [type(s).__name__ for s in trace.scores] == ["ScoreV1_Numeric", "ScoreV1_Categorical"]
    assert trace.scores[1].string_value == "good"


def test_chat_messages_without_type_default_to_chatmessage() -> None:
    prompt = parse(ours.Prompt, CHAT)
    assert isinstance(prompt, ours.Prompt_Chat)
    assert [type(m).__name__ for m in prompt.prompt] == [
        "ChatMessageWithPlaceholders_Chatmessage",
        "ChatMessageWithPlaceholders_Placeholder",
        "ChatMessageWithPlaceholders_Chatmessage",
    ]


def test_prompt_without_type_is_judged_by_payload() -> None:
    assert isinstance(parse(ours.Prompt, {k: v for k, v in TEXT.items() if k != "type"}), ours.Prompt_Text)
    assert isinstance(parse(ours.Prompt, {k: v for k, v in CHAT.items() if k != "type"}), ours.Prompt_Chat)


@pytest.mark.parametrize(
    ("name", "payload", "missing"),
    [
        ("Prompt", {k: v for k, v in TEXT.items() if k != "labels"}, "labels"),
        ("Dataset", {k: v for k, v in DATASET.items() if k != "projectId"}, "projectId"),
        ("TraceWithDetails", {**TRACE, "latency": None, "observations": [], "scores": []}, "latency"),
        (
            "GetMediaResponse",
            {"mediaId": "m", "contentType": "x", "contentLength": 1, "url": "u", "urlExpiry": "e"},
            "uploadedAt",
        ),
    ],
)
def test_required_fields_are_enforced(name: str, payload: Any, missing: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        parse(getattr(ours, name), payload)
    assert missing in str(info.value)


def test_unknown_enum_values_are_rejected_like_upstream() -> None:
    with pytest.raises(pydantic.ValidationError):
        parse(ours.ScoreV1, {**SCORE_V1, "dataType": "TEXT"})


def test_models_are_frozen() -> None:
    dataset = ours.Dataset.model_validate(DATASET)
    with pytest.raises(pydantic.ValidationError):
        dataset.name = "other"  # type: ignore[misc]


def test_to_wire_sends_set_nulls_and_defaults_but_not_unset_fields() -> None:
    request = ours.CreatePromptRequest_Text(name="p", prompt="x", commit_message=None)
    assert request.to_wire() == {"name": "p", "prompt": "x", "commitMessage": None, "type": "text"}
    patch = ours.PatchMediaBody(
        uploaded_at=dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc), upload_http_status=200
    )
    assert patch.to_wire() == {"uploadedAt": "2024-01-02T00:00:00Z", "uploadHttpStatus": 200}
    offset = dt.timezone(dt.timedelta(hours=2))
    patch = ours.PatchMediaBody(uploaded_at=dt.datetime(2024, 1, 2, tzinfo=offset), upload_http_status=200)
    assert patch.to_wire()["uploadedAt"] == "2024-01-02T00:00:00+02:00"


def test_media_content_type_enum_matches_reference() -> None:
    reference = pytest.importorskip("langfuse.api").MediaContentType
    assert [(m.name, m.value) for m in ours.MediaContentType] == [(m.name, m.value) for m in reference]
    with pytest.raises(pydantic.ValidationError):
        ours.GetMediaUploadUrlRequest(
            trace_id="t", content_type="image/unknown", content_length=1, sha_256_hash="h", field="input"
        )


def test_ingestion_events_by_type() -> None:
    event = parse(
        ours.IngestionEvent,
        {
            "id": "e",
            "type": "score-create",
            "timestamp": T,
            "body": {"name": "n", "value": "good", "traceId": "t"},
        },
    )
    assert isinstance(event, ours.IngestionEvent_ScoreCreate) and event.body.value == "good"
    usage = parse(
        ours.IngestionEvent,
        {
            "id": "e",
            "type": "generation-create",
            "timestamp": T,
            "body": {"usageDetails": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
        },
    )
    assert usage.body.usage_details == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
