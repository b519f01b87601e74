"""Score configs on the local server: Langfuse's API, its validation, and scores checked against configs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from langfuse_nb.api import LangfuseAPI
from langfuse_nb.errors import ApiError
from langfuse_nb.server.runner import ServerHandle


@pytest.fixture
def api(fresh_server: ServerHandle) -> LangfuseAPI:
    return LangfuseAPI(
        base_url=fresh_server.url, username=fresh_server.public_key, password=fresh_server.secret_key
    )


def _post(handle: ServerHandle, path: str, body: Any) -> httpx.Response:
    auth = (handle.public_key, handle.secret_key)
    return httpx.post(f"{handle.url}{path}", json=body, auth=auth, timeout=10)


def test_create_list_get_update(api: LangfuseAPI) -> None:
    numeric = api.score_configs.create(
        request={"name": "relevance", "dataType": "NUMERIC", "minValue": 0, "maxValue": 5}
    )
    boolean = api.score_configs.create(request={"name": "correct", "dataType": "BOOLEAN"})
    assert [c.label for c in boolean.categories or []] == ["True", "False"]
    listed = api.score_configs.get(limit=10)
    assert [c.id for c in listed.data] == [boolean.id, numeric.id]  # newest first
    assert listed.meta.total_items == 2
    assert api.score_configs.get_by_id(numeric.id).max_value == 5
    archived = api.score_configs.update(numeric.id, request={"isArchived": True, "description": "old"})
    assert archived.is_archived and archived.description == "old" and archived.min_value == 0


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"dataType": "NUMERIC"}, "'name' is required"),
        ({"name": "x" * 36, "dataType": "NUMERIC"}, "1-35"),
        ({"name": "bad/name", "dataType": "NUMERIC"}, "1-35"),
        ({"name": "n", "dataType": "TEXT"}, "dataType"),
        ({"name": "n", "dataType": "CATEGORICAL"}, "non-empty 'categories'"),
        ({"name": "n", "dataType": "CATEGORICAL", "categories": [{"label": "a", "value": 1}] * 2}, "unique"),
        ({"name": "n", "dataType": "NUMERIC", "minValue": 3, "maxValue": 1}, "less than"),
        ({"name": "n", "dataType": "BOOLEAN", "categories": [{"label": "y", "value": 1}]}, "do not pass"),
        (
            {
                "name": "n",
                "dataType": "CATEGORICAL",
                "minValue": 1,
                "categories": [{"label": "a", "value": 1}],
            },
            "NUMERIC configs only",
        ),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_invalid_configs_are_400_naming_the_problem(
    fresh_server: ServerHandle, body: Any, problem: str
) -> None:
    response = _post(fresh_server, "/api/public/score-configs", body)
    assert response.status_code == 400
    assert problem in response.json()["message"]


def test_unknown_config_is_404(api: LangfuseAPI) -> None:
    with pytest.raises(ApiError) as caught:
        api.score_configs.get_by_id("missing")
    assert caught.value.status_code == 404


def _score(handle: ServerHandle, config_id: str, name: str, value: Any, **extra: Any) -> httpx.Response:
    body = {"traceId": "t-1", "name": name, "value": value, "configId": config_id, **extra}
    return _post(handle, "/api/public/scores", body)


def test_scores_are_checked_against_their_config(fresh_server: ServerHandle, api: LangfuseAPI) -> None:
    rng = api.score_configs.create(
        request={"name": "rating", "dataType": "NUMERIC", "minValue": 1, "maxValue": 5}
    )
    cat = api.score_configs.create(
        request={
            "name": "tone",
            "dataType": "CATEGORICAL",
            "categories": [{"label": "polite", "value": 1}, {"label": "rude", "value": 0}],
        }
    )
    assert _score(fresh_server, rng.id, "rating", 4).status_code == 200
    assert "outside" in _score(fresh_server, rng.id, "rating", 9).json()["message"]
    assert "does not match" in _score(fresh_server, rng.id, "other-name", 3).json()["message"]
    assert "data type" in _score(fresh_server, rng.id, "rating", "high").json()["message"]
    assert "not found" in _score(fresh_server, "nope", "rating", 3).json()["message"]
    accepted = _score(fresh_server, cat.id, "tone", "rude")
    assert accepted.status_code == 200
    stored = api.score_v_2.get(config_id=cat.id).data[0]
    assert stored.value == 0 and stored.string_value == "rude"
    assert "not one of" in _score(fresh_server, cat.id, "tone", "meh").json()["message"]
    api.score_configs.update(rng.id, request={"isArchived": True})
    assert "archived" in _score(fresh_server, rng.id, "rating", 3).json()["message"]


def test_ingestion_batch_reports_a_bad_score_alone(fresh_server: ServerHandle, api: LangfuseAPI) -> None:
    rng = api.score_configs.create(request={"name": "rating", "dataType": "NUMERIC", "maxValue": 5})
    events = [
        {
            "id": f"e{i}",
            "type": "score-create",
            "timestamp": "2026-01-01T00:00:00Z",
            "body": {"id": f"s{i}", "traceId": "t", "name": "rating", "value": value, "configId": rng.id},
        }
        for i, value in enumerate([1, 50, 3])
    ]
    response = _post(fresh_server, "/api/public/ingestion", {"batch": events})
    assert response.status_code == 207
    body = response.json()
    assert [e["id"] for e in body["errors"]] == ["e1"]
    assert "outside" in body["errors"][0]["error"]
    assert sorted(s.id for s in api.score_v_2.get(config_id=rng.id).data) == ["s0", "s2"]


@pytest.mark.reference
def test_reference_sdk_api_client_reads_score_configs(fresh_server: ServerHandle, api: LangfuseAPI) -> None:
    from langfuse.api.client import FernLangfuse

    ref = FernLangfuse(
        base_url=fresh_server.url,
        username=fresh_server.public_key,
        password=fresh_server.secret_key,
        x_langfuse_sdk_name="python",
        x_langfuse_sdk_version="3.11.2",
        x_langfuse_public_key=fresh_server.public_key,
    )
    from langfuse.api import ConfigCategory, CreateScoreConfigRequest, ScoreDataType

    created = ref.score_configs.create(
        request=CreateScoreConfigRequest(
            name="helpful",
            data_type=ScoreDataType.CATEGORICAL,
            categories=[ConfigCategory(label="yes", value=1), ConfigCategory(label="no", value=0)],
        )
    )
    assert ref.score_configs.get_by_id(created.id).categories[0].label == "yes"
    assert [c.id for c in ref.score_configs.get().data] == [created.id]
