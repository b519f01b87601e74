"""The upload flow with a scripted API and a mock PUT transport (no server, no sleeps)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from langfuse_nb.errors import ApiError
from langfuse_nb.media import LangfuseMedia
from langfuse_nb.sdk import media as media_mod
from langfuse_nb.sdk.media import MediaManager

CONTENT = b"hello media"
MEDIA = LangfuseMedia(content_bytes=CONTENT, content_type="text/plain")


class FakeMediaApi:
    def __init__(
        self, upload_url: str | None = "http://upload.test/put", media_id: str | None = None
    ) -> None:
        self.requests: list[dict[str, Any]] = []
        self.patches: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[BaseException] = []
        self.upload_url, self.media_id = upload_url, media_id or MEDIA._media_id

    def get_upload_url(self, *, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        if self.errors:
            raise self.errors.pop(0)
        return {"mediaId": self.media_id, "uploadUrl": self.upload_url}

    def patch(self, media_id: str, *, request: dict[str, Any]) -> None:
        self.patches.append((media_id, request))


def manager_with(api: FakeMediaApi, puts: list[httpx.Request], **kwargs: Any) -> MediaManager:
    manager = MediaManager(api=SimpleNamespace(media=api), **kwargs)

    def handler(request: httpx.Request) -> httpx.Response:
        puts.append(request)
        return httpx.Response(200)

    manager._http = httpx.Client(transport=httpx.MockTransport(handler))
    return manager


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media_mod, "_sleep", lambda seconds: None)


def test_upload_flow_posts_puts_and_patches() -> None:
    api, puts = FakeMediaApi(), []
    manager = manager_with(api, puts)
    out = manager.process({"m": MEDIA}, field="metadata", trace_id="t" * 32, observation_id="o" * 16)
    assert out["m"] is MEDIA
    assert manager.flush(5)
    assert api.requests == [
        {
            "traceId": "t" * 32,
            "observationId": "o" * 16,
            "contentType": "text/plain",
            "contentLength": len(CONTENT),
            "sha256Hash": MEDIA._content_sha256_hash,
            "field": "metadata",
        }
    ]
    (put,) = puts
    assert put.content == CONTENT and "authorization" not in put.headers
    assert put.headers["x-amz-checksum-sha256"] == MEDIA._content_sha256_hash
    assert put.headers["content-type"] == "text/plain" and put.headers["x-ms-blob-type"] == "BlockBlob"
    media_id, patch = api.patches[0]
    assert media_id == MEDIA._media_id and patch["uploadHttpStatus"] == 200
    assert patch["uploadedAt"].endswith("Z") and isinstance(patch["uploadTimeMs"], int)
    manager.shutdown(5)


def test_already_uploaded_or_mismatched_id_skips_put() -> None:
    for api in (FakeMediaApi(upload_url=None), FakeMediaApi(media_id="someone-else")):
        puts: list[httpx.Request] = []
        manager = manager_with(api, puts)
        manager.process(MEDIA, field="input", trace_id="t", observation_id="o")
        manager.flush(5)
        assert puts == [] and api.patches == []
        manager.shutdown(5)


def test_retries_5xx_and_gives_up_on_4xx() -> None:
    api, puts = FakeMediaApi(), []
    api.errors = [ApiError(status_code=503, body=""), ApiError(status_code=502, body="")]
    manager = manager_with(api, puts)
    manager.process(MEDIA, field="input", trace_id="t", observation_id="o")
    manager.flush(5)
    assert len(api.requests) == 3 and len(puts) == 1
    api.errors = [ApiError(status_code=400, body="bad")]
    manager.process(MEDIA, field="input", trace_id="t", observation_id="o")
    manager.flush(5)
    assert len(api.requests) == 4 and len(puts) == 1
    manager.shutdown(5)


def test_thread_count_and_lazy_threads() -> None:
    api, puts = FakeMediaApi(), []
    manager = manager_with(api, puts, thread_count=3)
    assert manager._workers == []  # no thread until the first media shows up
    for i in range(6):
        manager.process(
            LangfuseMedia(content_bytes=bytes([i]) * 10, content_type="text/plain"),
            field="input",
            trace_id="t",
            observation_id="o",
        )
    assert len(manager._workers) == 3
    manager.flush(5)
    assert len(api.requests) == 6
    manager.shutdown(5)
    manager.process(MEDIA, field="input", trace_id="t", observation_id="o")  # after shutdown: ignored
    assert len(api.requests) == 6


def test_storage_put_is_retried_on_503_and_the_final_status_is_recorded() -> None:
    api, puts = FakeMediaApi(), []
    manager = MediaManager(api=SimpleNamespace(media=api))
    answers = [httpx.Response(503, headers={"Retry-After": "0"}), httpx.Response(200)]

    def handler(request: httpx.Request) -> httpx.Response:
        puts.append(request)
        return answers.pop(0)

    manager._http = httpx.Client(transport=httpx.MockTransport(handler))
    manager.process({"m": MEDIA}, field="input", trace_id="t" * 32, observation_id="o" * 16)
    assert manager.flush(5)
    assert len(puts) == 2  # was one PUT: a 503 from the storage was recorded as the final state
    assert api.patches[0][1]["uploadHttpStatus"] == 200
