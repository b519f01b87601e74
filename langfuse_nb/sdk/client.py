"""The Langfuse client: a thin facade composed from one mixin per concern."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from opentelemetry import trace as trace_api

from langfuse_nb._retry import REMEMBER_UNREACHABLE_SECONDS, is_transport_error, mark_unreachable, unreachable
from langfuse_nb._settings import CLIENT_OPTION_DEFAULTS, ClientOptions, Settings, resolve_settings
from langfuse_nb.sdk import params as P
from langfuse_nb.sdk import registry
from langfuse_nb.sdk.analysis import AnalysisMixin
from langfuse_nb.sdk.datasets import DatasetsMixin
from langfuse_nb.sdk.encode import encode_observation, encode_trace, may_hold_media
from langfuse_nb.sdk.experiments.mixin import ExperimentsMixin
from langfuse_nb.sdk.ids import NO_ACTIVE_SPAN, create_observation_id, create_trace_id, current_span_ids
from langfuse_nb.sdk.media import MediaManager, MediaMixin
from langfuse_nb.sdk.observations import (
    LangfuseEvent,
    LangfuseGeneration,
    LangfuseObservationWrapper,
    LangfuseSpan,
    ObservationContext,
    _deprecated,
    _set_error_status,
    start_observation,
)
from langfuse_nb.sdk.params import public_signature
from langfuse_nb.sdk.prompts.mixin import NO_LIGHT, PromptsMixin
from langfuse_nb.sdk.scores import ScoresMixin
from langfuse_nb.tracing.exporter import auth_header
from langfuse_nb.tracing.provider import TracingResources, get_resources

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from langfuse_nb.api import AsyncLangfuseAPI, LangfuseAPI
    from langfuse_nb.sdk.observations import (
        LangfuseAgent,
        LangfuseChain,
        LangfuseEmbedding,
        LangfuseEvaluator,
        LangfuseGuardrail,
        LangfuseRetriever,
        LangfuseTool,
    )

logger = logging.getLogger("langfuse_nb")
MASK_FAILED = "<fully masked due to failed mask function>"


class TracingMixin:
    """Starting, updating and inspecting observations; flush and shutdown."""

    _settings: Settings
    _enabled: bool
    _resources: TracingResources | None
    _tracer: Any

    if TYPE_CHECKING:  # provided by Langfuse, the class this mixin is composed into

        def _prepare_io(self, params: dict[str, Any], span: Any) -> dict[str, Any]: ...
        def _get_project_id(self) -> str | None: ...

        _media: MediaManager

    # -- start ----------------------------------------------------------------------------
    @public_signature
    def start_span(
        self, *, trace_context: P.TraceContext | None = None, name: str, **params: Unpack[P.SpanFields]
    ) -> LangfuseSpan:
        """Start a span; the caller must ``end()`` it."""
        return self._start(name, "span", params, trace_context)

    @public_signature
    def start_as_current_span(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseSpan]:
        """A span that is current inside a ``with`` block."""
        return self._start_current(name, "span", params, trace_context, end_on_exit)

    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["span"] = "span",
        **params: Unpack[P.SpanFields],
    ) -> LangfuseSpan: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["generation"],
        **params: Unpack[P.GenerationFields],
    ) -> LangfuseGeneration: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["agent"],
        **params: Unpack[P.SpanFields],
    ) -> LangfuseAgent: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["tool"],
        **params: Unpack[P.SpanFields],
    ) -> LangfuseTool: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["chain"],
        **params: Unpack[P.SpanFields],
    ) -> LangfuseChain: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["retriever"],
        **params: Unpack[P.SpanFields],
    ) -> LangfuseRetriever: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["evaluator"],
        **params: Unpack[P.SpanFields],
    ) -> LangfuseEvaluator: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["embedding"],
        **params: Unpack[P.GenerationFields],
    ) -> LangfuseEmbedding: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["guardrail"],
        **params: Unpack[P.SpanFields],
    ) -> LangfuseGuardrail: ...
    @public_signature
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: P.ObservationTypeLiteralNoEvent = "span",
        **params: Unpack[P.GenerationFields],
    ) -> LangfuseObservationWrapper:
        """Start an observation of any type; the caller must ``end()`` it."""
        return self._start(name, as_type, params, trace_context)

    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["span"] = "span",
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseSpan]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["generation"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.GenerationFields],
    ) -> ObservationContext[LangfuseGeneration]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["agent"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseAgent]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["tool"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseTool]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["chain"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseChain]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["retriever"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseRetriever]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["evaluator"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseEvaluator]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["embedding"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.GenerationFields],
    ) -> ObservationContext[LangfuseEmbedding]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["guardrail"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseGuardrail]: ...
    @public_signature
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: P.ObservationTypeLiteralNoEvent = "span",
        end_on_exit: bool | None = None,
        **params: Unpack[P.GenerationFields],
    ) -> ObservationContext[LangfuseObservationWrapper]:
        """An observation of any type that is current inside a ``with`` block."""
        return self._start_current(name, as_type, params, trace_context, end_on_exit)

    @public_signature
    def start_generation(
        self, *, trace_context: P.TraceContext | None = None, name: str, **params: Unpack[P.GenerationFields]
    ) -> LangfuseGeneration:
        _deprecated("start_generation", "start_observation(as_type='generation')")
        return self._start(name, "generation", params, trace_context)

    @public_signature
    def start_as_current_generation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        end_on_exit: bool | None = None,
        **params: Unpack[P.GenerationFields],
    ) -> ObservationContext[LangfuseGeneration]:
        _deprecated("start_as_current_generation", "start_as_current_observation(as_type='generation')")
        return self._start_current(name, "generation", params, trace_context, end_on_exit)

    @public_signature
    def create_event(
        self, *, trace_context: P.TraceContext | None = None, name: str, **params: Unpack[P.SpanFields]
    ) -> LangfuseEvent:
        """Record a zero-duration event."""
        return self._start(name, "event", params, trace_context)

    def _start(self, name: str, as_type: str, params: Any, trace_context: Any) -> Any:
        if params:
            P.check_params(params, P.GENERATION_NAMES, "start_observation")
        return start_observation(
            self,  # type: ignore[arg-type]  # the composed Langfuse, as the mixin is only used there
            name=name,
            as_type=as_type,
            params=params,
            trace_context=trace_context,
        )

    def _start_current(
        self, name: str, as_type: str, params: Any, trace_context: Any, end_on_exit: bool | None
    ) -> Any:
        P.check_params(params, P.GENERATION_NAMES, "start_as_current_observation")
        return ObservationContext(
            self,  # type: ignore[arg-type]  # the composed Langfuse, as the mixin is only used there
            name,
            as_type,
            params,
            trace_context=trace_context,
            end_on_exit=end_on_exit,
        )

    # -- update the active observation / trace ----------------------------------------------
    @public_signature
    def update_current_generation(
        self, *, name: str | None = None, **params: Unpack[P.GenerationFields]
    ) -> None:
        """Update the active observation with generation fields (its type is kept, F7)."""
        self._update_current(name, params, generation_like=True)

    @public_signature
    def update_current_span(self, *, name: str | None = None, **params: Unpack[P.SpanFields]) -> None:
        """Update the active observation (its type is kept, F7)."""
        self._update_current(name, params, generation_like=False)

    @public_signature
    def update_current_trace(self, **params: Unpack[P.TraceFields]) -> None:
        """Set trace attributes (name, user, session, tags, ...) on the active observation."""
        span = self._current_recording_span()
        if span is None:
            return
        try:
            span.set_attributes(encode_trace(self._prepare_io(cast(dict[str, Any], params), span)))
        except Exception:
            logger.warning("langfuse_nb: update_current_trace failed", exc_info=True)

    def _update_current(self, name: str | None, fields: Mapping[str, Any], *, generation_like: bool) -> None:
        span = self._current_recording_span()
        if span is None:
            return
        try:
            params = cast(dict[str, Any], fields)
            if name is not None:
                span.update_name(name)
            params = self._prepare_io(params, span)
            span.set_attributes(encode_observation(params, generation_like=generation_like))
            _set_error_status(span, params)
        except Exception:
            logger.warning("langfuse_nb: update of the current observation failed", exc_info=True)

    def _current_recording_span(self) -> Any:
        if not self._enabled:
            return None  # disabled tracing stays silent (DEVIATIONS: no "no active span" warnings)
        span = trace_api.get_current_span()
        if span.is_recording():
            return span
        logger.warning(NO_ACTIVE_SPAN)
        return None

    # -- ids and urls ---------------------------------------------------------------------
    def get_current_trace_id(self) -> str | None:
        """Trace id of the active observation, if any."""
        ids = current_span_ids() if self._enabled else None
        return ids[0] if ids else None

    def get_current_observation_id(self) -> str | None:
        """Id of the active observation, if any."""
        ids = current_span_ids() if self._enabled else None
        return ids[1] if ids else None

    @staticmethod
    def create_trace_id(*, seed: str | None = None) -> str:
        """A random trace id, or a deterministic one derived from ``seed``."""
        return create_trace_id(seed=seed)

    @staticmethod
    def _create_observation_id(*, seed: str | None = None) -> str:
        """A random observation (span) id, or a deterministic one derived from ``seed``."""
        return create_observation_id(seed=seed)

    # the seed's own examples call it without the underscore
    create_observation_id = _create_observation_id

    def get_trace_url(self, *, trace_id: str | None = None) -> str | None:
        """Link to the trace in the Langfuse UI (the active trace when no id is given)."""
        trace_id = trace_id or self.get_current_trace_id()
        project_id = self._get_project_id() if trace_id else None
        if not (project_id and trace_id):
            return None
        return f"{self._settings.base_url}/project/{project_id}/traces/{trace_id}"

    # -- lifecycle ------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> None:
        """Send everything queued (spans, scores, media); bounded by ``timeout`` seconds (F15)."""
        try:
            if self._resources is not None:
                self._resources.flush(timeout)  # spans, scores and the shared media manager
            elif "_media" in self.__dict__:
                self._media.flush(timeout)
        except Exception:
            logger.warning("langfuse_nb: flush failed", exc_info=True)

    def shutdown(self, timeout: float | None = None) -> None:
        """Flush and stop the background threads; a new ``Langfuse(...)`` afterwards works (F15)."""
        try:
            if self._resources is not None:
                self._resources.shutdown(timeout)
            elif "_media" in self.__dict__:
                self._media.shutdown(timeout)
        except Exception:
            logger.warning("langfuse_nb: shutdown failed", exc_info=True)
        finally:
            registry.unregister(self)  # type: ignore[arg-type]


_NOOP_TRACER = trace_api.NoOpTracer()  # stateless: one for every disabled client (re-creation cost)


class Langfuse(
    TracingMixin, ScoresMixin, PromptsMixin, DatasetsMixin, MediaMixin, ExperimentsMixin, AnalysisMixin
):
    """Client for Langfuse tracing (OpenTelemetry) and the Langfuse REST API.

    Every argument falls back to its ``LANGFUSE_*`` environment variable. Without keys the client
    warns once and does nothing. Clients with the same public key share one exporter pipeline.

    Example:
        langfuse = Langfuse(public_key="pk-lf-...", secret_key="sk-lf-...", base_url="http://localhost:3939")
        with langfuse.start_as_current_observation(name="answer") as span:
            span.update(output="42")
        langfuse.flush()
    """

    @public_signature(defaults=CLIENT_OPTION_DEFAULTS)
    def __init__(self, **options: Unpack[ClientOptions]) -> None:
        settings = resolve_settings(**options)  # rejects unknown keywords like a plain signature
        self._init_from(settings, register=True)

    @classmethod
    def _disabled_client(cls) -> Langfuse:
        """A no-op client that is not registered (used by get_client's safety rules)."""
        client = cls.__new__(cls)
        client._init_from(Settings(public_key="", secret_key="", tracing_enabled=False), register=False)
        return client

    def _init_from(self, settings: Settings, *, register: bool) -> None:
        self._settings = settings
        self._mask = settings.mask
        self._project_id: str | None = None
        self._resources = None
        self._tracer = _NOOP_TRACER
        if settings.debug:
            logging.getLogger("langfuse_nb").setLevel(logging.DEBUG)
        if register and not settings.has_keys:
            missing = "public_key" if not settings.public_key else "secret_key"
            # the reference's text: users and log filters match on it
            logger.warning(
                "langfuse_nb: Authentication error: Langfuse client initialized without %s. "
                "Client will be disabled. Provide a %s parameter or set LANGFUSE_%s environment "
                "variable. ",
                missing,
                missing,
                missing.upper(),
            )
        self._enabled = settings.has_keys and settings.tracing_enabled
        if self._enabled:
            if settings.otel_sdk_disabled:
                logger.warning("langfuse_nb: OTEL_SDK_DISABLED is set; no traces will be exported")
            self._resources = get_resources(settings)
            self._tracer = self._resources.tracer
        if register and settings.has_keys:
            registry.register(self)

    # -- collaborators built on first use -----------------------------------------------------
    def _build_api(self) -> LangfuseAPI:
        """Synchronous REST client (``langfuse_nb.api.LangfuseAPI``), built on first use."""
        from langfuse_nb.api import LangfuseAPI

        s = self._settings
        _require_keys(s)
        return LangfuseAPI(
            base_url=s.base_url,
            username=s.public_key or "",
            password=s.secret_key or "",
            headers=dict(s.additional_headers or {}),
            timeout=s.timeout,
            httpx_client=s.httpx_client,
        )

    def _build_async_api(self) -> AsyncLangfuseAPI:
        """Asynchronous REST client (``langfuse_nb.api.AsyncLangfuseAPI``), built on first use."""
        from langfuse_nb.api import AsyncLangfuseAPI

        s = self._settings
        _require_keys(s)
        return AsyncLangfuseAPI(
            base_url=s.base_url,
            username=s.public_key or "",
            password=s.secret_key or "",
            headers=dict(s.additional_headers or {}),
            timeout=s.timeout,
        )

    if TYPE_CHECKING:  # checkers see assignable attributes, as the mixins that use them declare them
        api: LangfuseAPI
        async_api: AsyncLangfuseAPI
    else:
        api = cached_property(_build_api)
        async_api = cached_property(_build_async_api)

    def _build_media(self) -> MediaManager:
        """Media handling, shared by all clients of this public key."""
        resources = self._resources
        if resources is not None and "media" in resources.shared:
            return resources.shared["media"]
        try:
            api = self.api
        except Exception:  # the REST client is unavailable: media stays inline
            api = None
        s = self._settings
        manager = MediaManager(
            api=api,
            thread_count=s.media_upload_thread_count,
            enabled=self._enabled and s.media_upload_enabled and api is not None,
        )
        if resources is not None:
            manager = resources.shared.setdefault("media", manager)
        return manager

    if not TYPE_CHECKING:  # built on first use; checkers see TracingMixin's attribute
        _media = cached_property(_build_media)

    @property
    def _environment(self) -> str | None:
        return self._settings.environment

    # -- value preparation (media, mask) ----------------------------------------------------
    def _prepare_io(self, params: dict[str, Any], span: Any) -> dict[str, Any]:
        """``_prepare`` input, output and metadata of ``params`` in place."""
        for field in ("input", "output", "metadata"):
            if params.get(field) is not None:
                params[field] = self._prepare(params[field], field, span)
        return params

    def _prepare(self, value: Any, field: str, span: Any, ids: tuple[str, str] | None = None) -> Any:
        """Media replacement, then the mask (F11: only values that are present)."""
        if may_hold_media(value):
            try:
                if ids is None:
                    ctx = span.get_span_context()
                    ids = (format(ctx.trace_id, "032x"), format(ctx.span_id, "016x"))
                value = self._media.process(value, field=field, trace_id=ids[0], observation_id=ids[1])
            except Exception:
                logger.debug("langfuse_nb: media processing failed", exc_info=True)
        return self._mask_value(value) if self._mask is not None else value

    def _mask_value(self, value: Any) -> Any:
        try:
            return self._mask(data=value)  # type: ignore[misc]
        except Exception as exc:
            logger.error(
                "langfuse_nb: Masking error: Custom mask function threw exception when processing "
                "data. Using fallback masking. Error: %s",
                exc,
            )
            return MASK_FAILED

    # -- REST helpers used by the tracing facade ----------------------------------------------
    def _get_project_id(self) -> str | None:
        """Project id of the keys (cached ``GET /api/public/projects``).

        Never waits for an endpoint remembered as not answering (langfuse_nb/_retry.py), and a failed
        lookup is not repeated for 30 s: a trace link must not cost every notebook cell a timeout.
        """
        if self._project_id is not None or not self._settings.has_keys:
            return self._project_id
        failed_at = self.__dict__.get("_project_lookup_failed_at")
        if unreachable(self._settings.base_url) or (
            failed_at is not None and time.monotonic() - failed_at < REMEMBER_UNREACHABLE_SECONDS
        ):
            return None
        try:
            ids = self._project_ids()
            self._project_id = ids[0] if ids else None
        except Exception as exc:
            self._project_lookup_failed_at = time.monotonic()
            if is_transport_error(exc):
                mark_unreachable(self._settings.base_url, f"project lookup: {type(exc).__name__}")
            logger.warning(
                "langfuse_nb: could not fetch the project id (%s); trace links are skipped for %.0f s",
                type(exc).__name__,
                REMEMBER_UNREACHABLE_SECONDS,
            )
        return self._project_id

    def auth_check(self) -> bool:
        """True when the keys are valid for a project; API errors propagate (blocking call)."""
        if not self._settings.has_keys:  # as the reference's disabled client: False, no request
            logger.warning(
                "langfuse_nb: Auth check failed: Client not properly initialized. Error: "
                "no public_key or secret_key"
            )
            return False
        if not self._project_ids():
            raise Exception("Auth check failed, no project found for the keys provided.")
        return True

    def _project_ids(self) -> list[str]:
        found = self._light_get_json("api/public/projects")  # while there is no REST client yet
        if found is not NO_LIGHT:
            return [p.get("id") for p in found.get("data") or [] if p]
        try:
            api = self.api
        except ImportError:  # REST client unavailable: one plain GET does the job
            return [p.get("id") for p in self._get_json("/api/public/projects").get("data") or [] if p]
        return [p.id for p in api.projects.get().data]

    def _get_json(self, path: str) -> dict[str, Any]:
        s = self._settings
        headers = {
            "Authorization": auth_header(s.public_key or "", s.secret_key or ""),
            **(s.additional_headers or {}),
        }
        url = f"{s.base_url.rstrip('/')}{path}"
        import httpx

        if s.httpx_client is not None:
            response = s.httpx_client.get(url, headers=headers, timeout=s.timeout)
        else:
            response = httpx.get(url, headers=headers, timeout=s.timeout)
        response.raise_for_status()
        return response.json()

    def __repr__(self) -> str:
        state = "enabled" if self._enabled else "disabled"
        s = self._settings
        return f"<Langfuse public_key={s.public_key!r} base_url={s.base_url!r} {state}>"


def _require_keys(settings: Settings) -> None:
    """A client without keys is disabled, as the reference's: it sends no request at all (not even one
    without credentials); REST calls fail with the reference's error instead."""
    if not settings.has_keys:
        from langfuse_nb.errors import Error

        raise Error("SDK is not correctly initialized. Check the init logs for more details.")
