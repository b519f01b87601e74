"""Media handling: find media in trace data, upload it in the background, resolve references back.

``MediaManager.process`` runs on every input/output/metadata value before it is serialized. Values without
media pay only for a cheap check (a type test, or one native JSON encode of a container searched for the
three media markers); only then does the depth-limited, cycle-safe walk run and replace media by
``LangfuseMedia`` objects, which serialize to reference strings (wire-protocol §8).
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from langfuse_nb._retry import RetryPolicy, retry_after, retryable_status
from langfuse_nb._settings import env_setting
from langfuse_nb.errors import ApiError
from langfuse_nb.media import MEDIA_CONTENT_TYPES, REFERENCE_PATTERN, LangfuseMedia
from langfuse_nb.tracing.worker import BatchWorker

if TYPE_CHECKING:
    import httpx

try:  # optional accelerator for the no-media check; the pure-Python scan gives the same answer
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]

logger = logging.getLogger("langfuse_nb")

MAX_DEPTH = 10
DEFAULT_MAX_MEDIA_BYTES = 100 * 1024 * 1024
ENABLED_ENV_VAR = "LANGFUSE_MEDIA_UPLOAD_ENABLED"
_UPLOAD_TRIES = 3
_MARKERS = (b'"data:', b'"type":"base64"', b'"type":"media"')
_sleep: Callable[[float], None] = time.sleep  # patched by tests


def upload_enabled_by_env(environ: Any = None) -> bool:
    """``LANGFUSE_MEDIA_UPLOAD_ENABLED``, parsed by the one rule of `langfuse_nb._settings` (default on)."""
    return bool(env_setting(ENABLED_ENV_VAR, environ))


@dataclass(frozen=True)
class UploadJob:
    media_id: str
    content: bytes
    content_type: str
    sha256_hash: str
    trace_id: str
    observation_id: str | None
    field: str


# -- detection ---------------------------------------------------------------------------------------------
def may_contain_media(value: Any) -> bool:
    """Cheap pre-check: False means ``value`` certainly holds no media the walk would replace."""
    if value is None:
        return False
    kind = type(value)
    if kind is str:
        return value.startswith("data:")
    if kind in (int, float, bool):
        return False
    if isinstance(value, LangfuseMedia):
        return True
    if isinstance(value, str):
        return value.startswith("data:")
    if not isinstance(value, (dict, list)):
        return False  # the walk only enters dicts and lists
    return _container_may_contain_media(value)


def _container_may_contain_media(value: dict[Any, Any] | list[Any]) -> bool:
    if orjson is None:
        return _scan(value, 1, set())
    try:
        blob = orjson.dumps(value)
    except TypeError:  # a non-JSON object (maybe a LangfuseMedia), a cycle or odd keys: look properly
        return _scan(value, 1, set())
    return any(marker in blob for marker in _MARKERS)


def _scan(data: Any, level: int, path: set[int]) -> bool:
    """Pure-Python version of the check, without copying anything."""
    if level > MAX_DEPTH:
        return False
    if isinstance(data, str):
        return data.startswith("data:")
    if isinstance(data, LangfuseMedia):
        return True
    if not isinstance(data, (dict, list)) or id(data) in path:
        return False
    if isinstance(data, dict) and _provider_media(data) is not None:
        return True
    path.add(id(data))
    items = data.values() if isinstance(data, dict) else data
    found = any(_scan(item, level + 1, path) for item in items)
    path.discard(id(data))
    return found


def _provider_media(data: dict[Any, Any]) -> tuple[str, str] | None:
    """(mime, base64) of an Anthropic (``type=base64``) or Vertex (``type=media``) content block."""
    kind, payload = data.get("type"), data.get("data")
    if kind == "base64":
        mime = data.get("media_type")
    elif kind == "media":
        mime = data.get("mime_type")
    else:
        return None
    if "data" not in data or not isinstance(mime, str) or not isinstance(payload, str):
        return None
    return mime, payload


class _Walk:
    """One replacement pass: rebuilds dicts/lists, swaps media for ``LangfuseMedia`` and queues uploads."""

    def __init__(self, enqueue: Callable[[LangfuseMedia], None]) -> None:
        self._enqueue = enqueue
        self._path: set[int] = set()  # containers on the current path: cycle guard
        self._by_uri: dict[str, LangfuseMedia] = {}

    def __call__(self, data: Any, level: int = 1) -> Any:
        if level > MAX_DEPTH:
            return data
        if isinstance(data, str):
            return self._from_uri(data) if data.startswith("data:") else data
        if isinstance(data, LangfuseMedia):
            self._enqueue(data)
            return data
        if not isinstance(data, (dict, list)) or id(data) in self._path:
            return data
        if isinstance(data, dict):
            provider = _provider_media(data)
            if provider is not None:
                return {**data, "data": self._from_uri(f"data:{provider[0]};base64,{provider[1]}")}
        self._path.add(id(data))
        try:
            if isinstance(data, dict):
                return {key: self(value, level + 1) for key, value in data.items()}
            return [self(item, level + 1) for item in data]
        finally:
            self._path.discard(id(data))

    def _from_uri(self, uri: str) -> LangfuseMedia:
        media = self._by_uri.get(uri)
        if media is None:  # the same data URI twice in one value is decoded and uploaded once
            media = self._by_uri[uri] = LangfuseMedia(obj=uri, base64_data_uri=uri)
            self._enqueue(media)
        return media


# -- manager -----------------------------------------------------------------------------------------------
class MediaManager:
    """Detects media in trace data and uploads it on ``thread_count`` background workers."""

    def __init__(
        self,
        *,
        api: Any,
        thread_count: int = 1,
        enabled: bool = True,
        max_media_bytes: int = DEFAULT_MAX_MEDIA_BYTES,
        environ: Any = None,
    ) -> None:
        self._api = api
        self._thread_count = max(1, int(thread_count or 1))
        self._enabled = bool(enabled) and upload_enabled_by_env(environ)
        self._max_bytes = max_media_bytes
        self._workers: list[BatchWorker[UploadJob]] = []
        self._round_robin = itertools.count()
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._closed = False

    @property
    def enabled(self) -> bool:
        return self._enabled

    def process(self, value: Any, *, field: str, trace_id: str, observation_id: str | None) -> Any:
        """``value`` with media replaced by ``LangfuseMedia`` (uploads queued); unchanged when none."""
        if not self._enabled or not may_contain_media(value):
            return value
        try:
            return _Walk(lambda media: self._submit(media, field, trace_id, observation_id))(value)
        except Exception:  # telemetry must never break the caller: export the value as it was
            logger.warning("langfuse_nb: media processing failed; data sent unchanged", exc_info=True)
            return value

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for queued uploads; False when ``timeout`` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        return all(worker.flush(_remaining(deadline)) for worker in list(self._workers))

    def shutdown(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        self._closed = True
        done = all(worker.shutdown(_remaining(deadline)) for worker in list(self._workers))
        if self._http is not None:
            self._http.close()
        return done

    # -- queueing ------------------------------------------------------------------------------------------
    def _submit(self, media: LangfuseMedia, field: str, trace_id: str, observation_id: str | None) -> None:
        if self._closed or not self._uploadable(media):
            return
        job = UploadJob(
            media_id=media._media_id or "",
            content=media._content_bytes or b"",
            content_type=media._content_type or "",
            sha256_hash=media._content_sha256_hash or "",
            trace_id=trace_id,
            observation_id=observation_id,
            field=field,
        )
        self._next_worker().put(job)

    def _uploadable(self, media: LangfuseMedia) -> bool:
        """False (after one warning) for media the server would refuse; the span keeps its reference."""
        content, content_type = media._content_bytes, media._content_type
        if not content or media._media_id is None or content_type is None:
            return False  # unreadable: LangfuseMedia already warned; it serializes as a failure note
        if content_type not in MEDIA_CONTENT_TYPES:
            logger.warning(
                "langfuse_nb: media type %r is not supported by Langfuse; not uploaded", content_type
            )
            return False
        if len(content) > self._max_bytes:
            logger.warning(
                "langfuse_nb: media of %d bytes exceeds the %d byte upload limit; not uploaded",
                len(content),
                self._max_bytes,
            )
            return False
        return True

    def _next_worker(self) -> BatchWorker[UploadJob]:
        if not self._workers:
            with self._lock:  # threads start with the first media, not with every client
                if not self._workers:
                    self._workers = [
                        BatchWorker(self._upload_batch, max_batch=1, interval=1.0, name=f"langfuse-media-{i}")
                        for i in range(self._thread_count)
                    ]
        return self._workers[next(self._round_robin) % len(self._workers)]

    # -- upload (background thread) ------------------------------------------------------------------------
    def _upload_batch(self, jobs: list[UploadJob]) -> None:
        for job in jobs:
            try:
                self._upload(job)
            except Exception as exc:
                logger.warning("langfuse_nb: media upload of %s failed: %s", job.media_id, exc)

    def _upload(self, job: UploadJob) -> None:
        response = _with_backoff(lambda: self._api.media.get_upload_url(request=_upload_url_request(job)))
        upload_url = _attr(response, "upload_url", "uploadUrl")
        server_id = _attr(response, "media_id", "mediaId")
        if not upload_url:
            return  # the server already has these bytes
        if server_id != job.media_id:
            logger.error(
                "langfuse_nb: media id mismatch (sdk %s, server %s); upload cancelled",
                job.media_id,
                server_id,
            )
            return
        started = time.monotonic()
        put = _put_with_backoff(
            lambda: self._client().put(upload_url, content=job.content, headers=_put_headers(job, upload_url))
        )
        elapsed_ms = int((time.monotonic() - started) * 1000)
        patch = {
            "uploadedAt": _utc_now_iso(),
            "uploadHttpStatus": put.status_code,
            "uploadHttpError": put.text,
            "uploadTimeMs": elapsed_ms,
        }
        _with_backoff(lambda: self._api.media.patch(job.media_id, request=patch))

    def _client(self) -> httpx.Client:
        with self._lock:  # no auth: the upload URL authorizes itself (wire-protocol §1.2 channel D)
            if self._http is None:
                import httpx  # deferred: most sessions never upload media

                self._http = httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0))
            return self._http


def _upload_url_request(job: UploadJob) -> dict[str, Any]:
    return {
        "traceId": job.trace_id,
        "observationId": job.observation_id,
        "contentType": job.content_type,
        "contentLength": len(job.content),
        "sha256Hash": job.sha256_hash,
        "field": job.field,
    }


def _put_headers(job: UploadJob, url: str) -> dict[str, str]:
    headers = {"Content-Type": job.content_type}
    if "storage.googleapis.com" not in url:  # GCS rejects these two headers
        headers["x-ms-blob-type"] = "BlockBlob"
        headers["x-amz-checksum-sha256"] = job.sha256_hash
    return headers


# uploads follow the SDK's one retry policy (langfuse_nb/_retry.py) with three tries
_UPLOAD_POLICY = RetryPolicy(max_attempts=_UPLOAD_TRIES, initial_delay=0.5, max_delay=10.0)


def _retryable(exc: BaseException) -> bool:
    """A 4xx other than 408/429 is final; other API errors, transport errors and surprises are retried."""
    status = getattr(exc, "status_code", None)
    if isinstance(exc, ApiError) and isinstance(status, int):
        return retryable_status(status)
    return True


def _with_backoff(call: Callable[[], Any]) -> Any:
    """``call()`` with up to three tries; the last error propagates."""
    return _UPLOAD_POLICY.call(call, retryable=_retryable, sleep=_sleep)


def _put_with_backoff(send: Callable[[], httpx.Response]) -> httpx.Response:
    """The storage PUT: retried on errors and on 5xx/408/429 answers (honouring Retry-After).

    The last answer is returned even when it failed, so the media record says what happened.
    """
    state = _UPLOAD_POLICY.start()
    while True:
        try:
            response = send()
        except Exception as exc:
            delay = state.next_delay() if _retryable(exc) else None
            if delay is None:
                raise
        else:
            if not retryable_status(response.status_code):
                return response
            delay = state.next_delay(retry_after(response.headers))
            if delay is None:
                return response
        _sleep(delay)


def _attr(source: Any, name: str, camel: str) -> Any:
    if isinstance(source, dict):
        return source.get(name, source.get(camel))
    return getattr(source, name, None)


def _utc_now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


# -- reading back --------------------------------------------------------------------------------------------
def resolve_media_references(
    obj: Any,
    *,
    api: Any,
    resolve_with: Literal["base64_data_uri"] = "base64_data_uri",
    max_depth: int = MAX_DEPTH,
    timeout: float = 5,
    base_url: str | None = None,
) -> Any:
    """A copy of ``obj`` whose ``@@@langfuseMedia:...@@@`` strings are replaced by data URIs.

    References that cannot be fetched stay unchanged (one warning each). Objects with ``__dict__``
    come back as dicts.
    """
    if resolve_with != "base64_data_uri":
        raise ValueError(f"resolve_with must be 'base64_data_uri', got {resolve_with!r}")
    fetched: dict[str, str | None] = {}

    def data_uri(reference: str) -> str | None:
        if reference not in fetched:
            fetched[reference] = _fetch_data_uri(reference, api, timeout, base_url)
        return fetched[reference]

    def traverse(value: Any, depth: int) -> Any:
        if depth > max_depth:
            return value
        if isinstance(value, str):
            return _replace_references(value, data_uri)
        if isinstance(value, list):
            return [traverse(item, depth + 1) for item in value]
        if isinstance(value, dict):
            return {key: traverse(item, depth + 1) for key, item in value.items()}
        if hasattr(value, "__dict__"):
            return {key: traverse(item, depth + 1) for key, item in vars(value).items()}
        return value

    return traverse(obj, 0)


def _replace_references(text: str, data_uri: Callable[[str], str | None]) -> str:
    if "@@@langfuseMedia:" not in text:
        return text

    def substitute(match: Any) -> str:
        return data_uri(match.group(0)) or match.group(0)

    return REFERENCE_PATTERN.sub(substitute, text)


def _fetch_data_uri(reference: str, api: Any, timeout: float, base_url: str | None) -> str | None:
    try:
        parsed = LangfuseMedia.parse_reference_string(reference)
        media = api.media.get(parsed["media_id"])
        url = _attr(media, "url", "url")
        if base_url and url.startswith("/"):
            url = base_url.rstrip("/") + url
        import httpx

        response = httpx.get(url, timeout=timeout, follow_redirects=True)
        response.raise_for_status()
        content_type = _attr(media, "content_type", "contentType")
        return f"data:{content_type};base64,{base64.b64encode(response.content).decode('ascii')}"
    except Exception as exc:
        logger.warning("Error fetching media content for reference string %s: %s", reference, exc)
        return None


class MediaMixin:
    """resolve_media_references for ``Langfuse``."""

    api: Any
    _settings: Any

    def resolve_media_references(
        self,
        *,
        obj: Any,
        resolve_with: Literal["base64_data_uri"],
        max_depth: int = MAX_DEPTH,
        content_fetch_timeout_seconds: int = 5,
    ) -> Any:
        """Replace media reference strings in ``obj`` (depth <= ``max_depth``) with base64 data URIs."""
        return resolve_media_references(
            obj,
            api=self.api,
            resolve_with=resolve_with,
            max_depth=max_depth,
            timeout=content_fetch_timeout_seconds,
            base_url=str(getattr(self._settings, "base_url", "") or "") or None,
        )
