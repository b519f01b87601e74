"""``/api/public/models`` through the real langfuse 3.11.2 SDK and ours; costs computed on ingest."""

from __future__ import annotations

import uuid

import httpx
import pytest
import server_testkit as kit

from langfuse_nb.api import LangfuseAPI


def _reference_api(server):
    from langfuse.api.client import FernLangfuse

    return FernLangfuse(base_url=server.url, username=server.public_key, password=server.secret_key)


def _raw(server) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=(server.public_key, server.secret_key))


@pytest.mark.reference
def test_reference_sdk_models_crud(fresh_server):
    pytest.importorskip("langfuse")
    from langfuse.api import CreateModelRequest, ModelUsageUnit

    api = _reference_api(fresh_server)
    created = api.models.create(
        request=CreateModelRequest(
            model_name="my-gpt",
            match_pattern="(?i)^(my-gpt)$",
            unit=ModelUsageUnit.TOKENS,
            input_price=0.000001,
            output_price=0.000002,
        )
    )
    assert created.is_langfuse_managed is False
    assert created.prices["input"].price == 0.000001
    assert created.pricing_tiers[0].name == "Standard" and created.pricing_tiers[0].is_default
    assert created.pricing_tiers[0].id == f"{created.id}_tier_default"
    assert api.models.get(created.id).model_name == "my-gpt"
    page = api.models.list(page=1, limit=100)
    assert page.meta.total_items == 168 and page.meta.total_pages == 2
    names = [m.model_name for p in (1, 2) for m in api.models.list(page=p, limit=100).data]
    assert names == sorted(names) and "my-gpt" in names and len(names) == 168
    api.models.delete(created.id)
    with pytest.raises(Exception, match="404|not found|No model"):
        api.models.get(created.id)


def test_models_responses_fit_openapi(fresh_server):
    with _raw(fresh_server) as client:
        page = client.get("/api/public/models", params={"limit": 100, "page": 2}).json()
        kit.validate_openapi(page, "PaginatedModels")
        assert len(page["data"]) == 67
        gpt4o = next(
            m
            for m in client.get("/api/public/models", params={"limit": 100}).json()["data"]
            if m["modelName"] == "gpt-4o"
        )
        kit.validate_openapi(gpt4o, "Model")
        assert gpt4o["isLangfuseManaged"] and gpt4o["inputPrice"] == 2.5e-06
        assert client.get(f"/api/public/models/{gpt4o['id']}").json()["modelName"] == "gpt-4o"
        gone = client.delete(f"/api/public/models/{gpt4o['id']}")
        assert gone.status_code == 404 and "cannot delete built-in" in gone.json()["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"matchPattern": "x", "unit": "TOKENS", "inputPrice": 1}, "modelName"),
        ({"modelName": "a", "matchPattern": "(", "unit": "TOKENS", "inputPrice": 1}, "not a valid regex"),
        ({"modelName": "a", "matchPattern": "a", "inputPrice": 1}, "unit"),
        ({"modelName": "a", "matchPattern": "a", "unit": "TOKENS"}, "either flat prices"),
        (
            {"modelName": "a", "matchPattern": "a", "unit": "TOKENS", "inputPrice": 1, "totalPrice": 2},
            "total price",
        ),
        (
            {
                "modelName": "a",
                "matchPattern": "a",
                "unit": "TOKENS",
                "pricingTiers": [
                    {"name": "x", "isDefault": False, "priority": 1, "conditions": [], "prices": {"input": 1}}
                ],
            },
            "Exactly one",
        ),
    ],
)
def test_create_model_validation(fresh_server, body, message):
    with _raw(fresh_server) as client:
        response = client.post("/api/public/models", json=body)
    assert response.status_code == 400 and message in response.json()["message"]


def test_duplicate_model_name_is_rejected(fresh_server):
    body = {"modelName": "dup", "matchPattern": "dup", "unit": "TOKENS", "inputPrice": 1e-6}
    with _raw(fresh_server) as client:
        assert client.post("/api/public/models", json=body).status_code == 200
        again = client.post("/api/public/models", json=body)
    assert again.status_code == 400 and "already exists" in again.json()["message"]


def _ingest_generation(client: httpx.Client, body: dict) -> dict:
    trace_id = uuid.uuid4().hex
    obs_id = uuid.uuid4().hex[:16]
    batch = [
        {
            "id": uuid.uuid4().hex,
            "type": "generation-create",
            "timestamp": "2026-01-01T00:00:00Z",
            "body": {"id": obs_id, "traceId": trace_id, "startTime": "2026-01-01T00:00:00Z", **body},
        }
    ]
    assert client.post("/api/public/ingestion", json={"batch": batch}).status_code == 207
    return client.get(f"/api/public/observations/{obs_id}").json()


def test_project_model_overrides_builtin_and_tiers(fresh_server):
    api = LangfuseAPI(
        base_url=fresh_server.url, username=fresh_server.public_key, password=fresh_server.secret_key
    )
    with _raw(fresh_server) as client:
        before = _ingest_generation(client, {"model": "gpt-4o", "usageDetails": {"input": 100}})
        assert before["calculatedTotalCost"] == pytest.approx(100 * 2.5e-6)
        mine = api.models.create(
            request={
                "modelName": "my-gpt4o",
                "matchPattern": "(?i)^gpt-4o$",
                "unit": "TOKENS",
                "pricingTiers": [
                    {
                        "name": "Standard",
                        "isDefault": True,
                        "priority": 0,
                        "conditions": [],
                        "prices": {"input": 1e-6},
                    },
                    {
                        "name": "Big",
                        "isDefault": False,
                        "priority": 1,
                        "conditions": [{"usageDetailPattern": "input", "operator": "gt", "value": 1000}],
                        "prices": {"input": 5e-7},
                    },
                ],
            }
        )
        small = _ingest_generation(client, {"model": "gpt-4o", "usageDetails": {"input": 100}})
        big = _ingest_generation(client, {"model": "gpt-4o", "usageDetails": {"input": 2000}})
        api.models.delete(mine.id)
        after = _ingest_generation(client, {"model": "gpt-4o", "usageDetails": {"input": 100}})
    assert small["modelId"] == mine.id and small["usagePricingTierName"] == "Standard"
    assert small["calculatedTotalCost"] == pytest.approx(0.0001)
    assert big["usagePricingTierName"] == "Big" and big["calculatedTotalCost"] == pytest.approx(0.001)
    assert after["calculatedTotalCost"] == pytest.approx(0.00025)


def test_openai_usage_keys_and_update_recomputes(fresh_server):
    """Issue 11: OpenAI-style usage is stored as input/output; an update with usage re-costs the row."""
    with _raw(fresh_server) as client:
        obs = _ingest_generation(
            client,
            {
                "model": "gpt-4o-mini",
                "usageDetails": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
            },
        )
        assert obs["usageDetails"] == {"input": 100, "output": 50, "total": 150}
        assert obs["calculatedInputCost"] == pytest.approx(100 * 1.5e-7)
        assert obs["calculatedOutputCost"] == pytest.approx(50 * 6e-7)
        assert obs["calculatedTotalCost"] == pytest.approx(100 * 1.5e-7 + 50 * 6e-7)
        kit.validate_openapi(obs, "ObservationsView")
        update = [
            {
                "id": uuid.uuid4().hex,
                "type": "generation-update",
                "timestamp": "2026-01-01T00:00:01Z",
                "body": {
                    "id": obs["id"],
                    "traceId": obs["traceId"],
                    "usageDetails": {"input": 10, "output": 1},
                },
            }
        ]
        assert client.post("/api/public/ingestion", json={"batch": update}).status_code == 207
        again = client.get(f"/api/public/observations/{obs['id']}").json()
        trace = client.get(f"/api/public/traces/{obs['traceId']}").json()
    assert again["usageDetails"] == {"input": 10, "output": 1, "total": 11}
    assert again["calculatedTotalCost"] == pytest.approx(10 * 1.5e-7 + 1 * 6e-7)
    assert again["modelId"] is not None and again["inputPrice"] == 1.5e-7
    assert trace["totalCost"] == pytest.approx(again["calculatedTotalCost"])


def test_project_model_prices_survive_a_restart(tmp_path):
    """A restarted server (a new process) prices observations of project models without a models read."""
    from langfuse_nb.server.runner import start_detached

    db = tmp_path / "restart.db"
    body = {"modelName": "mine", "matchPattern": "(?i)^mine$", "unit": "TOKENS", "inputPrice": 3e-6}
    first = start_detached(port=0, db_path=db, public_key="pk-lf-restart", secret_key="sk-lf-restart")
    try:
        with _raw(first) as client:
            assert client.post("/api/public/models", json=body).status_code == 200
            seen = _ingest_generation(client, {"model": "mine", "usageDetails": {"input": 10}})
    finally:
        first.stop()
    second = start_detached(port=0, db_path=db, public_key="pk-lf-restart", secret_key="sk-lf-restart")
    try:
        with _raw(second) as client:
            again = client.get(f"/api/public/observations/{seen['id']}").json()
    finally:
        second.stop()
    assert seen["inputPrice"] == again["inputPrice"] == 3e-6
