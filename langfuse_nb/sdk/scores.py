"""Scores: built as score-create ingestion events and sent in background batches (K10)."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from langfuse_nb._retry import Delivery, is_transport_error, retry_after, retryable_status
from langfuse_nb._settings import Settings
from langfuse_nb._stdhttp import is_transport_failure
from langfuse_nb.sdk import params as P
from langfuse_nb.sdk.ids import current_span_ids, is_valid_trace_id
from langfuse_nb.sdk.params import public_signature
from langfuse_nb.sdk.serialize import dumps, serialize_datetime
from langfuse_nb.tracing.exporter import auth_header
from langfuse_nb.tracing.worker import BatchWorker
from langfuse_nb.wire.attributes import SDK_NAME, SDK_VERSION

if TYPE_CHECKING:
    from typing_extensions import Unpack

logger = logging.getLogger("langfuse_nb")
_BODY_KEYS = (  # python argument -> camelCase body field
    ("score_id", "id"),
    ("trace_id", "traceId"),
    ("observation_id", "observationId"),
    ("session_id", "sessionId"),
    ("dataset_run_id", "datasetRunId"),
    ("name", "name"),
    ("value", "value"),
    ("data_type", "dataType"),
    ("comment", "comment"),
    ("config_id", "configId"),
    ("metadata", "metadata"),
    ("environment", "environment"),
)


# A flushed backlog goes out in requests of this many score events (~300 B each, far below the
# server's batch limit) instead of one request per `flush_at` events.
_MAX_EVENTS_PER_REQUEST = 500
_MAX_QUEUED_SCORES = 100_000  # beyond it, new scores are dropped (counted) while the endpoint is down
_sleep: Callable[[float], None] = time.sleep  # patched by tests


def _random_ids() -> tuple[str, str]:
    """An event id (32 hex) and a score id (16 hex) from one draw.

    The module-level PRNG (reseeded after ``fork``, as OpenTelemetry's span ids are) instead of the system
    one: these ids need to be unique, not secret, and ``os.urandom`` releases the GIL on every call, which
    lets a busy export thread take it for a whole switch interval per score.
    """
    text = random.getrandbits(192).to_bytes(24, "big").hex()  # one conversion instead of two formats
    event_id, score_id = text[:32], text[32:]
    if event_id == _ZERO_EVENT_ID:  # all-zero ids are invalid (one draw in 2**128)
        event_id = _ZERO_EVENT_ID[:-1] + "1"
    if score_id == _ZERO_EVENT_ID[:16]:
        score_id = _ZERO_EVENT_ID[:15] + "1"
    return event_id, score_id


_ZERO_EVENT_ID = "0" * 32


def score_event(fields: Mapping[str, Any], *, environment: str | None) -> dict[str, Any]:
    """One ``score-create`` event; null fields omitted, numeric values as floats."""
    event_id, score_id = _random_ids()
    body: dict[str, Any] = {"id": fields.get("score_id") or score_id}
    for py, wire in _MIDDLE_KEYS:
        value = fields.get(py)
        if value is not None:
            body[wire] = value
    value = body.get("value")
    if isinstance(value, (int, float)) and fields.get("data_type") != "CATEGORICAL":
        body["value"] = float(value)
    if environment is not None:
        body["environment"] = environment
    stamp = fields.get("timestamp")
    return {
        "id": event_id,
        "type": "score-create",
        "timestamp": serialize_datetime(stamp) if stamp else utc_now_text(),
        "body": body,
    }


_MIDDLE_KEYS = _BODY_KEYS[1:-1]  # the id comes first and the environment last, both always known
_second_text: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text


def utc_now_text() -> str:
    """The current UTC time as ``serialize_datetime`` writes it (``...T12:00:00.123456Z``).

    Scores of a fast run are stamped thousands of times a second: the date and time of day are
    formatted once per second, only the microseconds per call (a third of building a datetime).
    """
    global _second_text
    second, micro = divmod(time.time_ns() // 1000, 1_000_000)
    known = _second_text
    if known[0] != second:
        known = _second_text = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{known[1]}.{micro:06d}Z" if micro else f"{known[1]}Z"


class Poster(Protocol):
    """What the score channel needs of an HTTP client (an ``httpx.Client`` is one)."""

    def post(self, url: str, *, content: bytes, headers: dict[str, str], timeout: float) -> Any: ...


class _PlainPoster:
    """The score channel's POST over the standard library, for a plain-http endpoint without a proxy.

    The same path as the span exporter's (`langfuse_nb._stdhttp`): the first score of a process
    imports neither httpx nor httpcore (~90 ms) and builds no client, and a request costs about a third
    of httpx's CPU. Elsewhere (https, proxies, a client of the user's) httpx is used as before.
    """

    def __init__(self, url: str, timeout: float) -> None:
        from langfuse_nb._stdhttp import PlainPoster

        self._poster = PlainPoster(url, timeout)

    def post(self, url: str, *, content: bytes, headers: dict[str, str], timeout: float) -> Any:
        return self._poster.post(content, headers)


def ingestion_url(settings: Settings) -> str:
    return f"{settings.base_url.rstrip('/')}/api/public/ingestion"


def ingestion_sender(
    settings: Settings, http: Poster, delivery: Delivery | None = None
) -> Callable[[list[dict[str, Any]]], None]:
    """The batch handler: POST /api/public/ingestion, retried within the channel's outage budget."""
    url = ingestion_url(settings)
    headers = {
        "Authorization": auth_header(settings.public_key or "", settings.secret_key or ""),
        "x-langfuse-sdk-name": SDK_NAME,
        "x-langfuse-sdk-version": SDK_VERSION,
        "x-langfuse-public-key": settings.public_key or "",
        "Content-Type": "application/json",
        **(settings.additional_headers or {}),
    }
    meta = {"sdk_name": SDK_NAME, "sdk_version": SDK_VERSION, "public_key": settings.public_key}
    channel = delivery or Delivery("scores", base_url=settings.base_url, budget=settings.retry_budget)

    def send(events: list[dict[str, Any]]) -> None:
        body = dumps({"batch": events, "metadata": {"batch_size": len(events), **meta}}).encode()
        _deliver(channel, lambda: _post_once(http, url, body, headers, settings.timeout), len(events))

    return send


def _deliver(channel: Delivery, post: Callable[[], _Outcome], count: int) -> None:
    """Post until done, retrying within the outage budget; count the events as dropped when that fails."""
    if not channel.should_attempt():
        channel.drop(count, f"score events; {channel.last_error or 'endpoint failing'}")
        return
    state = channel.start()
    while True:
        outcome = post()
        channel.attempted()
        if outcome.done:
            channel.succeeded()
            return
        channel.failed(outcome.error, no_answer=outcome.no_answer)
        state.started = channel.failing_since or state.started
        if not state.wait(outcome.retry_after, abort=channel.abort, sleep=_sleep):
            reason = "shutdown" if channel.abort.is_set() else f"retried for {channel.budget:.0f}s"
            channel.drop(count, f"score events; {reason}; last error {outcome.error}")
            return


@dataclass(frozen=True)
class _Outcome:
    done: bool  # success, or final (a 4xx, or a 207 whose errors are all 4xx)
    error: str = ""
    retry_after: float | None = None
    no_answer: bool = False


def _post_once(http: Poster, url: str, body: bytes, headers: dict[str, str], timeout: float) -> _Outcome:
    """One POST; says whether the batch is done or worth retrying."""
    try:
        response = http.post(url, content=body, headers=headers, timeout=timeout)
    except Exception as exc:
        logger.debug("langfuse_nb: score ingestion failed: %s", exc)
        transport = is_transport_error(exc) or is_transport_failure(exc)
        return _Outcome(False, f"{type(exc).__name__}: {exc}", no_answer=transport)
    status = response.status_code
    if status == 207:
        # like the reference, a partial success is retried as a whole (ids make the resend idempotent)
        # when the server failed on its side; events it rejected as invalid are named and not retried
        return _Outcome(not _log_rejected(response), "207 with server errors")
    if 200 <= status < 300:
        return _Outcome(True)
    if not retryable_status(status):
        logger.warning("langfuse_nb: score ingestion rejected (%d): %s", status, response.text[:200])
        return _Outcome(True)
    return _Outcome(False, f"HTTP {status}", retry_after=retry_after(response.headers))


def _log_rejected(response: Any) -> bool:
    """True when a 207 reports events the server failed to store (5xx: worth a retry).

    Events rejected as invalid (4xx) are logged (at most five) and not retried.
    """
    try:
        errors = json.loads(response.text).get("errors") or []  # httpx's and the plain answer alike
    except Exception:
        return False
    for error in errors[:5]:
        logger.warning(
            "langfuse_nb: score event %s rejected (%s): %s",
            error.get("id"),
            error.get("status"),
            error.get("message") or error.get("error"),
        )
    return any(_status(error) >= 500 for error in errors)


def _status(error: Any) -> int:
    try:
        return int(error.get("status") or 500)
    except (TypeError, ValueError, AttributeError):
        return 500


_DATA_TYPES = frozenset({"NUMERIC", "CATEGORICAL", "BOOLEAN"})


def _invalid_score(fields: Mapping[str, Any]) -> str | None:
    """Why the server would reject the whole event, checked before queueing (None when fine)."""
    value, data_type = fields.get("value"), fields.get("data_type")
    if not isinstance(value, (int, float, str)):
        return f"value must be a number or a string, got {type(value).__name__}"
    if data_type is not None and data_type not in _DATA_TYPES:
        return f"data_type must be one of {sorted(_DATA_TYPES)}, got {data_type!r}"
    return None


def _poster_for(settings: Settings) -> Poster:
    from langfuse_nb._stdhttp import usable

    if usable(ingestion_url(settings)):
        return _PlainPoster(ingestion_url(settings), settings.timeout)
    import httpx

    from langfuse_nb.api._tls import verify_for  # reads the CA bundle only if a TLS connection is made

    return httpx.Client(timeout=settings.timeout, verify=verify_for(settings.base_url))


class ScoresMixin:
    """create_score / score_current_span / score_current_trace of the Langfuse client."""

    _settings: Settings
    _enabled: bool
    _resources: Any

    @public_signature
    def create_score(self, **fields: Unpack[P.CreateScoreFields]) -> None:
        """Queue a NUMERIC, BOOLEAN or CATEGORICAL score for a trace, observation, session or run."""
        if not self._enabled:
            return
        try:
            P.check_params(fields, self.create_score.__allowed_params__, "create_score")  # type: ignore[attr-defined]
            event = self._score_event_of(fields)
            if event is not None:
                self._queue_score_events([event])
        except TypeError:
            raise
        except Exception:
            logger.warning("langfuse_nb: could not queue score %r", fields.get("name"), exc_info=True)

    def _score_event_of(self, fields: Mapping[str, Any]) -> dict[str, Any] | None:
        """The ``score-create`` event of ``fields`` (names already checked), stamped now; None when the
        score is not to be sent (client disabled, invalid value, trace sampled out)."""
        if not self._enabled:
            return None
        problem = _invalid_score(fields)
        if problem is not None:
            logger.error("langfuse_nb: score %r not sent: %s", fields.get("name"), problem)
            return None
        if not self._score_sampled(fields.get("trace_id")):
            return None
        return score_event(fields, environment=self._settings.environment)

    def _queue_score_events(self, events: list[dict[str, Any]]) -> None:
        """Hand events to the score channel; those it refuses are counted as dropped."""
        worker = self._score_worker()
        for event in events:
            if not worker.put(event):
                self._resources.delivery("scores").drop(1, "score queue full or client shut down")

    @public_signature
    def score_current_span(self, **fields: Unpack[P.ScoreFields]) -> None:
        """Score the active observation."""
        ids = current_span_ids()
        if ids is not None:
            self.create_score(trace_id=ids[0], observation_id=ids[1], **fields)

    @public_signature
    def score_current_trace(self, **fields: Unpack[P.ScoreFields]) -> None:
        """Score the trace of the active observation."""
        ids = current_span_ids()
        if ids is not None:
            self.create_score(trace_id=ids[0], **fields)

    def _score_sampled(self, trace_id: Any) -> bool:
        """Scores of sampled-out traces are dropped, as their spans are."""
        resources = self._resources
        if self._settings.sample_rate >= 1.0 or not resources.owns_provider:
            return True
        if not is_valid_trace_id(trace_id):
            return True
        result = resources.provider.sampler.should_sample(None, int(trace_id, 16), "score")
        return result.decision.is_sampled()

    def _score_worker(self) -> BatchWorker[dict[str, Any]]:
        # the pipeline's settings, not this object's: a second client of the same key (with another
        # base_url, say) must not send scores somewhere else than the spans
        settings = self._resources.settings
        explicit = settings.explicit

        def make() -> BatchWorker[dict[str, Any]]:
            http = settings.httpx_client or _poster_for(settings)
            return BatchWorker(
                ingestion_sender(settings, http, self._resources.delivery("scores")),
                max_batch=settings.flush_at if "flush_at" in explicit else 15,
                interval=settings.flush_interval if "flush_interval" in explicit else 1.0,
                max_queue=_MAX_QUEUED_SCORES,
                max_drain=_MAX_EVENTS_PER_REQUEST,
                name="langfuse-nb-scores",
            )

        return self._resources.worker("scores", make)
