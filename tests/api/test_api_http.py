"""Transport behaviour of both clients: paths, headers, options, error table, retries, timeouts."""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

import httpx
import pytest
from api_testkit import Recorder, quiet

from langfuse_nb.api import (
    AccessDeniedError,
    ApiError,
    AsyncLangfuseAPI,
    Error,
    LangfuseAPI,
    MethodNotAllowedError,
    NotFoundError,
    ServiceUnavailableError,
    UnauthorizedError,
)
from langfuse_nb.api._http import retry_after, retry_delay

HEALTH = {"status": "OK", "version": "0.1.0"}


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.mark.parametrize("name", ["a/b c", "folder/sub/prompt", "ünï cödé", "100%", "q?x=1#f"])
def test_names_are_one_encoded_path_segment(api: LangfuseAPI, recorder: Recorder, name: str) -> None:
    for call in (
        lambda: api.prompts.get(name, label="production"),
        lambda: api.datasets.get(name),
        lambda: api.datasets.get_run(name, name),
        lambda: api.prompt_version.update(name, 3, new_labels=[]),
    ):
        with quiet():
            call()
    encoded = urllib.parse.quote(name, safe="")
    paths = [r.url.raw_path.split(b"?")[0].decode() for r in recorder.requests]
    assert paths == [
        f"/api/public/v2/prompts/{encoded}",
        f"/api/public/v2/datasets/{encoded}",
        f"/api/public/datasets/{encoded}/runs/{encoded}",
        f"/api/public/v2/prompts/{encoded}/versions/3",
    ]


def test_base_url_with_prefix_and_trailing_slash(recorder: Recorder) -> None:
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    api = LangfuseAPI(base_url="http://lf.test/lf/", username="pk", password="sk", httpx_client=http)
    recorder.replies.append(httpx.Response(200, json=HEALTH))
    api.health.health()
    assert str(recorder.last.url) == "http://lf.test/lf/api/public/health"


def test_headers_auth_and_overrides(recorder: Recorder) -> None:
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    api = LangfuseAPI(
        base_url="http://lf.test",
        username="pk-lf-1",
        password="sk-lf-1",
        httpx_client=http,
        headers={"X-Custom": "1", "x-langfuse-sdk-name": "custom"},
    )
    with quiet():
        api.projects.get(request_options={"additional_headers": {"X-Per-Call": "2", "X-Custom": "3"}})
    headers = recorder.last.headers
    assert headers["authorization"] == "Basic " + "cGstbGYtMTpzay1sZi0x"  # base64("pk-lf-1:sk-lf-1")
    assert headers["x-fern-language"] == "Python"
    assert headers["x-langfuse-sdk-version"] == "3.11.2"
    assert headers["x-langfuse-public-key"] == "pk-lf-1"
    assert headers["x-langfuse-sdk-name"] == "custom"
    assert headers.get_list("x-custom") == ["3"]
    assert headers["x-per-call"] == "2"
    assert "content-type" not in headers  # no body, no content type


def test_request_options_query_and_body(api: LangfuseAPI, recorder: Recorder) -> None:
    with quiet():
        api.trace.list(page=1, request_options={"additional_query_parameters": {"extra": ["x", "y"]}})
    assert recorder.last.url.params.get_list("extra") == ["x", "y"]
    recorder.replies.append(httpx.Response(200, json={"id": "s1"}))
    api.score.create(
        request={"name": "n", "value": 1}, request_options={"additional_body_parameters": {"z": 1}}
    )
    assert recorder.body() == {"name": "n", "value": 1, "z": 1}


def test_request_accepts_model_snake_dict_and_camel_dict(api: LangfuseAPI, recorder: Recorder) -> None:
    from langfuse_nb.api import CreateDatasetItemRequest, DatasetStatus

    model = CreateDatasetItemRequest(dataset_name="d", status=DatasetStatus.ARCHIVED)
    for request in (
        model,
        {"dataset_name": "d", "status": "ARCHIVED"},
        {"datasetName": "d", "status": "ARCHIVED"},
    ):
        with quiet():
            api.dataset_items.create(request=request)
    bodies = [recorder.body(i) for i in range(3)]
    assert bodies == [{"datasetName": "d", "status": "ARCHIVED"}] * 3


ERRORS = [
    (400, Error),
    (401, UnauthorizedError),
    (403, AccessDeniedError),
    (404, NotFoundError),
    (405, MethodNotAllowedError),
    (503, ServiceUnavailableError),
    (409, ApiError),
    (500, ApiError),
    (418, ApiError),
]


@pytest.mark.parametrize(("status", "error"), ERRORS)
def test_status_maps_to_error_class(api: LangfuseAPI, recorder: Recorder, status: int, error: type) -> None:
    body = {"message": "boom", "error": "Boom"}
    recorder.replies.append(httpx.Response(status, json=body))
    with pytest.raises(error) as info:
        api.trace.get("t1")
    assert type(info.value) is error
    assert info.value.status_code == status
    assert info.value.body == body


def test_errors_also_inherit_builtins() -> None:
    assert issubclass(NotFoundError, LookupError)
    assert issubclass(Error, ValueError)
    assert issubclass(UnauthorizedError, PermissionError)
    from langfuse_nb.errors import LangfuseNbError

    assert all(issubclass(cls, LangfuseNbError) for _, cls in ERRORS)


def test_non_json_error_body_is_plain_api_error(api: LangfuseAPI, recorder: Recorder) -> None:
    recorder.replies.append(httpx.Response(404, text="<html>not found</html>"))
    with pytest.raises(ApiError) as info:
        api.trace.get("t1")
    assert type(info.value) is ApiError  # like upstream: the status table needs a JSON body
    assert info.value.status_code == 404 and info.value.body == "<html>not found</html>"


def test_no_retry_by_default(api: LangfuseAPI, recorder: Recorder) -> None:
    recorder.replies += [httpx.Response(503, json={}), httpx.Response(200, json=HEALTH)]
    with pytest.raises(ServiceUnavailableError):
        api.health.health()
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retries_retriable_statuses(api: LangfuseAPI, recorder: Recorder, status: int) -> None:
    recorder.replies += [
        httpx.Response(status, json={}),
        httpx.Response(status, json={}),
        httpx.Response(200, json=HEALTH),
    ]
    assert api.health.health(request_options={"max_retries": 2}).status == "OK"
    assert len(recorder.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_does_not_retry_client_errors(api: LangfuseAPI, recorder: Recorder, status: int) -> None:
    recorder.replies += [httpx.Response(status, json={}), httpx.Response(200, json=HEALTH)]
    with pytest.raises(ApiError):
        api.health.health(request_options={"max_retries": 3})
    assert len(recorder.requests) == 1


def test_gives_up_after_max_retries(api: LangfuseAPI, recorder: Recorder) -> None:
    recorder.replies += [httpx.Response(429, json={"message": "slow down"})] * 5
    with pytest.raises(ApiError) as info:
        api.health.health(request_options={"max_retries": 2})
    assert info.value.status_code == 429 and len(recorder.requests) == 3


def test_retries_network_errors_then_raises_httpx_error(api: LangfuseAPI, recorder: Recorder) -> None:
    recorder.replies += [httpx.ConnectError("down"), httpx.Response(200, json=HEALTH)]
    assert api.health.health(request_options={"max_retries": 1}).version == "0.1.0"
    recorder.replies += [httpx.ReadTimeout("slow")] * 2
    with pytest.raises(httpx.ReadTimeout):
        api.health.health(request_options={"max_retries": 1})


def test_client_wide_max_retries(recorder: Recorder) -> None:
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    api = LangfuseAPI(base_url="http://lf.test", httpx_client=http, max_retries=1)
    api._executor.sleep = lambda s: None
    recorder.replies += [httpx.Response(502), httpx.Response(200, json=HEALTH)]
    assert api.health.health().status == "OK"


def test_waits_follow_retry_after_and_backoff(api: LangfuseAPI, recorder: Recorder) -> None:
    waits: list[float] = []
    api._executor.sleep = waits.append
    recorder.replies += [
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(429, headers={"retry-after-ms": "1500"}),
        httpx.Response(429, headers={"Retry-After": "120"}),  # too long: ignored, backoff instead
        httpx.Response(500),
        httpx.Response(200, json=HEALTH),
    ]
    api.health.health(request_options={"max_retries": 4})
    assert waits[:2] == [2.0, 1.5]
    assert 0.75 * 2.0 <= waits[2] <= 2.0  # 0.5 * 2**2 with up to -25 % jitter
    assert 0.75 * 4.0 <= waits[3] <= 4.0


def test_retry_delay_is_capped() -> None:
    assert all(7.5 <= retry_delay(attempt, None) <= 10.0 for attempt in range(5, 12))


def test_retry_after_http_date() -> None:
    assert retry_after(httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(httpx.Headers({"retry-after": "garbage"})) is None
    assert retry_after(httpx.Headers({})) is None


def test_timeouts_default_and_per_call(api: LangfuseAPI, recorder: Recorder) -> None:
    recorder.replies += [httpx.Response(200, json=HEALTH)] * 2
    api.health.health()
    assert recorder.last.extensions["timeout"]["read"] == 5
    api.health.health(request_options={"timeout_in_seconds": 0.25})
    assert recorder.last.extensions["timeout"]["read"] == 0.25


def test_timeout_none_uses_the_httpx_client_default(recorder: Recorder) -> None:
    http = httpx.Client(transport=httpx.MockTransport(recorder), timeout=42)
    recorder.replies.append(httpx.Response(200, json=HEALTH))
    LangfuseAPI(base_url="http://lf.test", httpx_client=http, timeout=None).health.health()
    assert recorder.last.extensions["timeout"]["read"] == 42


def test_2xx_without_response_model_ignores_body(api: LangfuseAPI, recorder: Recorder) -> None:
    recorder.replies.append(httpx.Response(204))
    assert (
        api.media.patch("m1", request={"uploadedAt": "2024-01-01T00:00:00Z", "uploadHttpStatus": 200}) is None
    )
    recorder.replies.append(httpx.Response(200, text="OK"))
    assert api.score.delete("s1") is None


def test_2xx_with_non_json_body_is_api_error(api: LangfuseAPI, recorder: Recorder) -> None:
    recorder.replies.append(httpx.Response(200, text="not json"))
    with pytest.raises(ApiError) as info:
        api.health.health()
    assert info.value.status_code == 200


# --- async client: same descriptions, async executor -------------------------------------------------------


def test_async_methods_are_coroutine_functions(async_api: AsyncLangfuseAPI) -> None:
    assert asyncio.iscoroutinefunction(async_api.prompts.get)
    assert asyncio.iscoroutinefunction(async_api.ingestion.batch)


def test_async_same_request_and_parse(async_api: AsyncLangfuseAPI, recorder: Recorder) -> None:
    recorder.replies.append(httpx.Response(200, json=HEALTH))
    result = run(async_api.health.health())
    assert result.status == "OK"
    with quiet():
        run(async_api.trace.list(tags=["a", "b"], environment="prod"))
    assert recorder.last.url.params.multi_items() == [("tags", "a"), ("tags", "b"), ("environment", "prod")]


def test_async_errors_and_retries(async_api: AsyncLangfuseAPI, recorder: Recorder) -> None:
    recorder.replies += [httpx.Response(429), httpx.ConnectError("x"), httpx.Response(200, json=HEALTH)]
    assert run(async_api.health.health(request_options={"max_retries": 2})).status == "OK"
    recorder.replies.append(httpx.Response(404, json={"message": "no"}))
    with pytest.raises(NotFoundError):
        run(async_api.prompts.get("missing"))


def test_async_client_owned_per_event_loop() -> None:
    """Without an injected client, each event loop gets its own (pooled connections are loop-bound)."""
    api = AsyncLangfuseAPI(base_url="http://lf.test")

    async def client_id() -> int:
        return id(api._executor.http_client())

    async def twice() -> tuple[int, int]:
        return await client_id(), await client_id()

    first, again = run(twice())
    assert first == again
    assert run(client_id()) != first or True  # a new loop may reuse the id after GC; must not raise
    run(api.aclose())


@pytest.mark.reference
def test_reference_request_models_are_accepted(api: LangfuseAPI, recorder: Recorder) -> None:
    import langfuse.api as reference

    with quiet():
        api.dataset_items.create(request=reference.CreateDatasetItemRequest(dataset_name="d", input={"a": 1}))
    assert recorder.body() == {"datasetName": "d", "input": {"a": 1}}


def test_endpoint_request_builds_without_sending(api: LangfuseAPI, recorder: Recorder) -> None:
    from langfuse_nb.api.resources.trace import TraceClient

    request = TraceClient.list.request(api.trace, page=2, tags=["a"])
    assert (request.method, request.path, request.query["page"], request.query["tags"]) == (
        "GET",
        "api/public/traces",
        2,
        ["a"],
    )
    assert recorder.requests == []


def test_owned_clients_close() -> None:
    with LangfuseAPI(base_url="http://lf.test") as api:
        http = api.httpx_client
    assert http.is_closed

    async def scenario() -> bool:
        async with AsyncLangfuseAPI(base_url="http://lf.test") as api:
            client = api._executor.http_client()
        return client.is_closed

    assert run(scenario())


def test_injected_client_is_not_closed(recorder: Recorder) -> None:
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    LangfuseAPI(base_url="http://lf.test", httpx_client=http).close()
    assert not http.is_closed


def test_empty_error_body_is_plain_api_error(api: LangfuseAPI, recorder: Recorder) -> None:
    recorder.replies.append(httpx.Response(404))
    with pytest.raises(ApiError) as info:
        api.trace.get("t1")
    assert type(info.value) is ApiError and info.value.body == ""
