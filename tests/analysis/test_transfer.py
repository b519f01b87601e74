"""push / pull between two real embedded servers: everything arrives, and a second push creates nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from langfuse_nb import Langfuse
from langfuse_nb.api import LangfuseAPI
from langfuse_nb.server.runner import ServerHandle, start_in_thread
from langfuse_nb.transfer import Endpoint, pull, push


def _endpoint(handle: ServerHandle) -> Endpoint:
    return Endpoint(handle.url, handle.public_key, handle.secret_key)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[ServerHandle, ServerHandle]]:
    suffix = uuid.uuid4().hex[:10]
    source = start_in_thread(
        port=0, db_path=tmp_path / "local.db", public_key=f"pk-lf-s{suffix}", secret_key=f"sk-lf-s{suffix}"
    )
    target = start_in_thread(
        port=0, db_path=tmp_path / "team.db", public_key=f"pk-lf-t{suffix}", secret_key=f"sk-lf-t{suffix}"
    )
    yield source, target
    source.stop()
    target.stop()


def _fill(handle: ServerHandle) -> dict[str, Any]:
    lf = Langfuse(public_key=handle.public_key, secret_key=handle.secret_key, base_url=handle.url)
    lf.create_prompt(name="qa", prompt="Answer {{q}}", labels=["production"])
    lf.create_prompt(name="qa", prompt="Answer briefly: {{q}}", labels=["staging"])
    lf.create_prompt(name="chat", type="chat", prompt=[{"role": "system", "content": "be kind"}])
    config = lf.api.score_configs.create(
        request={"name": "exact", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1}
    )
    lf.create_dataset(name="capitals")
    for country, city in (("France", "Paris"), ("Japan", "Tokyo")):
        lf.create_dataset_item(dataset_name="capitals", input=country, expected_output=city)
    with lf.start_as_current_span(name="pipeline", input={"q": "hi"}) as span:
        span.update_trace(user_id="u1", session_id="s1", tags=["t"])
        with span.start_as_current_observation(
            name="llm",
            as_type="generation",
            model="gpt-4o-mini",
            usage_details={"input": 12, "output": 3},
            cost_details={"total": 0.5},
        ) as gen:
            gen.update(output="hello")
        span.update(output="done")
        span.score_trace(name="exact", value=1, config_id=config.id)
    dataset = lf.get_dataset("capitals")
    dataset.run_experiment(
        name="capitals-run",
        run_name="capitals-run",
        task=lambda item, **_: "Paris",
        evaluators=[
            lambda *, output, expected_output, **_: {
                "name": "match",
                "value": float(output == expected_output),
            }
        ],
    )
    lf.flush()
    lf.shutdown()
    return {"config": config}


def _snapshot(api: LangfuseAPI) -> dict[str, Any]:
    traces = api.trace.list(limit=100).data
    full = [api.trace.get(t.id) for t in traces]
    run = api.datasets.get_run("capitals", "capitals-run")
    return {
        "traces": sorted(t.id for t in traces),
        "observations": sorted((o.id, o.type, o.name, o.trace_id) for t in full for o in t.observations),
        "usage": sorted(
            (o.id, o.usage_details.get("input") if o.usage_details else None, o.calculated_total_cost)
            for t in full
            for o in t.observations
        ),
        "scores": sorted(
            (s.root.id if hasattr(s, "root") else s.id) for s in api.score_v_2.get(limit=100).data
        ),
        "prompts": sorted(
            (p.name, tuple(p.versions), tuple(sorted(p.labels))) for p in api.prompts.list().data
        ),
        "labels": [sorted(api.prompts.get("qa", version=v).labels) for v in (1, 2)],
        "items": sorted(i.id for i in api.dataset_items.list(dataset_name="capitals").data),
        "run_items": sorted((i.dataset_item_id, i.trace_id) for i in run.dataset_run_items),
        "configs": sorted(c.name for c in api.score_configs.get().data),
        "times": sorted((o.id, o.start_time) for t in full for o in t.observations),
    }


def test_push_copies_everything_then_nothing(servers: tuple[ServerHandle, ServerHandle]) -> None:
    source, target = servers
    _fill(source)
    report = push(_endpoint(source), _endpoint(target), progress=False)
    assert report.ok, report.summary()
    want = _snapshot(_api(source))
    assert _snapshot(_api(target)) == want
    assert report.copied("traces") == len(want["traces"]) == 3  # pipeline + two experiment items
    assert report.copied("scores") == len(want["scores"])

    again = push(_endpoint(source), _endpoint(target), progress=False)
    assert again.ok, again.summary()
    assert all(again.copied(kind) == 0 for kind in again.counts), again.summary()
    assert _snapshot(_api(target)) == want


def test_dry_run_and_filters(servers: tuple[ServerHandle, ServerHandle]) -> None:
    source, target = servers
    _fill(source)
    dry = push(_endpoint(source), _endpoint(target), dry_run=True, progress=False)
    assert dry.copied("traces") == 3 and dry.dry_run and "would copy" in dry.summary()
    assert _api(target).trace.list().data == []
    only = push(_endpoint(source), _endpoint(target), trace_name="pipeline", progress=False)
    assert only.copied("traces") == 1
    assert [t.name for t in _api(target).trace.list().data] == ["pipeline"]


def test_pull_brings_prompts_and_datasets(servers: tuple[ServerHandle, ServerHandle], tmp_path: Path) -> None:
    team, _unused = servers
    _fill(team)
    local = start_in_thread(
        port=0, db_path=tmp_path / "fresh.db", public_key="pk-lf-fresh", secret_key="sk-lf-fresh"
    )
    try:
        report = pull(_endpoint(team), _endpoint(local), progress=False)
        assert report.ok, report.summary()
        api = _api(local)
        assert sorted(p.name for p in api.prompts.list().data) == ["chat", "qa"]
        assert api.prompts.get("qa", label="production").version == 1
        assert len(api.dataset_items.list(dataset_name="capitals").data) == 2
        assert api.trace.list().data == []
    finally:
        local.stop()


def test_cli_push_with_env_keys(
    servers: tuple[ServerHandle, ServerHandle],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from langfuse_nb.cli import main

    source, target = servers
    _fill(source)
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", target.public_key)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", target.secret_key)
    assert main(["push", "--db", str(source.db_path), "--to", target.url]) == 0
    out = capsys.readouterr().out
    assert "Pushed to" in out and "traces" in out and target.secret_key not in out
    assert len(_api(target).trace.list().data) == 3
    assert main(["push", "--db", str(Path(source.db_path).with_name("missing.db")), "--to", target.url]) == 2
    assert "no local database" in capsys.readouterr().err


def _api(handle: ServerHandle) -> LangfuseAPI:
    return LangfuseAPI(base_url=handle.url, username=handle.public_key, password=handle.secret_key)


_SCHEMAS = {
    ("POST", "/api/public/v2/prompts"): "CreatePromptRequest",
    ("POST", "/api/public/score-configs"): "CreateScoreConfigRequest",
    ("POST", "/api/public/v2/datasets"): "CreateDatasetRequest",
    ("POST", "/api/public/dataset-items"): "CreateDatasetItemRequest",
    ("POST", "/api/public/dataset-run-items"): "CreateDatasetRunItemRequest",
}


def test_request_shapes_follow_the_langfuse_spec(
    servers: tuple[ServerHandle, ServerHandle], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write the push sends to the target fits the Langfuse OpenAPI request schema of its endpoint."""
    import json

    import httpx

    from tests.server import server_testkit as kit

    source, target = servers
    _fill(source)
    sent: list[httpx.Request] = []
    original = httpx.Client.send

    def recording(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if str(request.url).startswith(target.url) and request.method != "GET":
            sent.append(request)
        return original(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", recording)
    assert push(_endpoint(source), _endpoint(target), progress=False).ok
    checked: set[str] = set()
    for request in sent:
        path = request.url.path
        if path == "/api/public/otel/v1/traces":
            assert request.headers["content-type"] == "application/x-protobuf"
            checked.add("otlp")
            continue
        body = json.loads(request.content)
        if path == "/api/public/ingestion":
            for event in body["batch"]:
                kit.validate_openapi(event, "IngestionEvent")
            checked.add("ingestion")
        elif request.method == "PATCH":
            assert set(body) == {"newLabels"} and "/versions/" in path
            checked.add("labels")
        else:
            kit.validate_openapi(body, _SCHEMAS[(request.method, path)])
            checked.add(_SCHEMAS[(request.method, path)])
    assert checked - {"labels"} == {"otlp", "ingestion", *_SCHEMAS.values()}  # labels: only when they differ


def test_push_copies_media_bytes(servers: tuple[ServerHandle, ServerHandle]) -> None:
    import httpx

    from langfuse_nb.media import LangfuseMedia

    source, target = servers
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    lf = Langfuse(public_key=source.public_key, secret_key=source.secret_key, base_url=source.url)
    with lf.start_as_current_span(name="with-image") as span:
        span.update(input={"image": LangfuseMedia(content_bytes=png, content_type="image/png")})
    lf.flush()
    lf.shutdown()
    report = push(_endpoint(source), _endpoint(target), progress=False)
    assert report.ok and report.copied("media") == 1, report.summary()
    trace = _api(target).trace.list().data[0]
    reference = _api(target).trace.get(trace.id).observations[0].input["image"]
    media_id = LangfuseMedia.parse_reference_string(reference)["media_id"]
    record = _api(target).media.get(media_id)
    assert httpx.get(record.url).content == png
    again = push(_endpoint(source), _endpoint(target), progress=False)
    assert again.copied("media") == 0 and again.ok
