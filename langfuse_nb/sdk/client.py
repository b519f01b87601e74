"""The Langfuse client: a thin facade composed from one mixin per concern.

``Langfuse`` itself holds construction, the collaborators built on first use (REST clients, media) and
the preparation of input/output values (media, mask). Tracing is ``TracingMixin`` (``tracing_mixin.py``),
the project id, trace links and ``auth_check`` are ``ProjectMixin`` (``project.py``); scores, prompts,
datasets, media, experiments and analysis have their own modules.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any

from opentelemetry import trace as trace_api

from langfuse_nb._settings import CLIENT_OPTION_DEFAULTS, ClientOptions, Settings, resolve_settings
from langfuse_nb.sdk import registry
from langfuse_nb.sdk.analysis import AnalysisMixin
from langfuse_nb.sdk.datasets import DatasetsMixin
from langfuse_nb.sdk.encode import may_hold_media
from langfuse_nb.sdk.experiments.mixin import ExperimentsMixin
from langfuse_nb.sdk.media import MediaManager, MediaMixin
from langfuse_nb.sdk.params import public_signature
from langfuse_nb.sdk.project import ProjectMixin
from langfuse_nb.sdk.prompts.mixin import PromptsMixin
from langfuse_nb.sdk.scores import ScoresMixin
from langfuse_nb.sdk.tracing_mixin import TracingMixin
from langfuse_nb.tracing.provider import get_resources

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from langfuse_nb.api import AsyncLangfuseAPI, LangfuseAPI

logger = logging.getLogger("langfuse_nb")
MASK_FAILED = "<fully masked due to failed mask function>"


_NOOP_TRACER = trace_api.NoOpTracer()  # stateless: one for every disabled client (re-creation cost)


class Langfuse(
    TracingMixin,
    ProjectMixin,
    ScoresMixin,
    PromptsMixin,
    DatasetsMixin,
    MediaMixin,
    ExperimentsMixin,
    AnalysisMixin,
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
