"""Client configuration, resolved once: explicit argument > environment variable > default."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_BASE_URL = "https://cloud.langfuse.com"

# CI variables that carry a release identifier, first match wins (same order as the reference).
_CI_RELEASE_VARS = (
    "RENDER_GIT_COMMIT",
    "CI_COMMIT_SHA",
    "CIRCLE_SHA1",
    "SOURCE_VERSION",
    "TRAVIS_COMMIT",
    "GIT_COMMIT",
    "GITHUB_SHA",
    "BITBUCKET_COMMIT",
    "BUILD_SOURCEVERSION",
    "DRONE_COMMIT_SHA",
)
_FALSY = {"false", "0", "no", "off"}
_TRUTHY = {"true", "1", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything a client needs; never re-read from the environment afterwards."""

    public_key: str | None = None
    secret_key: str | None = None
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 5
    environment: str | None = None
    release: str | None = None
    debug: bool = False
    tracing_enabled: bool = True
    flush_at: int = 512
    flush_interval: float = 5.0
    sample_rate: float = 1.0
    media_upload_thread_count: int = 1
    additional_headers: Mapping[str, str] | None = None
    blocked_instrumentation_scopes: tuple[str, ...] = ()
    mask: Callable[..., Any] | None = field(default=None, compare=False)
    httpx_client: Any = field(default=None, compare=False)
    tracer_provider: Any = field(default=None, compare=False)
    observe_io_capture: bool = True
    media_upload_enabled: bool = True
    otel_traces_export_path: str | None = None
    otel_sdk_disabled: bool = False
    # spans waiting for export; beyond it new spans are dropped (one warning). OTel's default is 2048,
    # which loses spans in ordinary bursts; this holds ~100k spans (roughly 300 MB at worst).
    span_queue_size: int = 100_000
    # names of the settings that came from an argument or env var (not a default)
    explicit: frozenset[str] = frozenset()

    @property
    def has_keys(self) -> bool:
        return bool(self.public_key) and bool(self.secret_key)

    @property
    def traces_endpoint(self) -> str:
        path = self.otel_traces_export_path
        if path:
            return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"
        return f"{self.base_url}/api/public/otel/v1/traces"


def _flag(raw: str | None, default: bool) -> bool:
    """An on/off variable; unset or empty means ``default``, and only an explicit value flips it."""
    value = "" if raw is None else raw.strip().lower()
    if not value:
        return default
    return value in _TRUTHY if not default else value not in _FALSY


def _pick(name: str, arg: Any, env: Mapping[str, str], var: str, convert: Callable[[str], Any],
          explicit: set[str]) -> Any:
    """Return the argument, else the converted env var, else None; record where it came from."""
    if arg is not None:
        explicit.add(name)
        return arg
    raw = env.get(var)
    if raw is None or raw == "":
        return None
    explicit.add(name)
    try:
        return convert(raw)
    except ValueError:
        raise ValueError(f"environment variable {var}={raw!r} is not a valid {convert.__name__}") from None


def _release(arg: str | None, env: Mapping[str, str]) -> str | None:
    if arg:
        return arg
    if env.get("LANGFUSE_RELEASE"):
        return env["LANGFUSE_RELEASE"]
    return next((env[v] for v in _CI_RELEASE_VARS if env.get(v)), None)


def _queue_size(raw: str | None) -> int:
    """OTel's own variable: like OpenTelemetry, an unusable value means the default."""
    try:
        return max(1, int(raw or 100_000))
    except ValueError:
        return 100_000


def _check_sample_rate(value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"sample_rate must be between 0.0 and 1.0, got {value}")
    return value


def resolve_settings(
    *,
    public_key: str | None = None,
    secret_key: str | None = None,
    base_url: str | None = None,
    host: str | None = None,
    timeout: float | None = None,
    httpx_client: Any = None,
    debug: bool = False,
    tracing_enabled: bool | None = True,
    flush_at: int | None = None,
    flush_interval: float | None = None,
    environment: str | None = None,
    release: str | None = None,
    media_upload_thread_count: int | None = None,
    sample_rate: float | None = None,
    mask: Callable[..., Any] | None = None,
    blocked_instrumentation_scopes: list[str] | None = None,
    additional_headers: Mapping[str, str] | None = None,
    tracer_provider: Any = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the frozen settings; ``environ`` is injectable for tests (defaults to ``os.environ``)."""
    env = os.environ if environ is None else environ
    seen: set[str] = set()
    rate = _pick("sample_rate", sample_rate, env, "LANGFUSE_SAMPLE_RATE", float, seen)
    f_at = _pick("flush_at", flush_at, env, "LANGFUSE_FLUSH_AT", int, seen)
    f_int = _pick("flush_interval", flush_interval, env, "LANGFUSE_FLUSH_INTERVAL", float, seen)
    tmo = _pick("timeout", timeout, env, "LANGFUSE_TIMEOUT", float, seen)
    threads = _pick("media_upload_thread_count", media_upload_thread_count, env,
                    "LANGFUSE_MEDIA_UPLOAD_THREAD_COUNT", int, seen)
    url = base_url or env.get("LANGFUSE_BASE_URL") or host or env.get("LANGFUSE_HOST") or DEFAULT_BASE_URL
    return Settings(
        public_key=public_key or env.get("LANGFUSE_PUBLIC_KEY") or None,
        secret_key=secret_key or env.get("LANGFUSE_SECRET_KEY") or None,
        base_url=url.rstrip("/") or url,  # "http://host/" would give "//api/..." paths
        timeout=tmo or 5,
        environment=environment or env.get("LANGFUSE_TRACING_ENVIRONMENT") or None,
        release=_release(release, env),
        # the reference ANDs the argument with the env switch (either one can disable)
        debug=bool(debug) or _flag(env.get("LANGFUSE_DEBUG"), False),
        tracing_enabled=(tracing_enabled is not False) and _flag(env.get("LANGFUSE_TRACING_ENABLED"), True),
        flush_at=max(1, f_at or 512),
        flush_interval=f_int if f_int is not None else 5.0,
        sample_rate=_check_sample_rate(1.0 if rate is None else rate),
        media_upload_thread_count=max(1, threads or 1),
        additional_headers=dict(additional_headers) if additional_headers else None,
        blocked_instrumentation_scopes=tuple(blocked_instrumentation_scopes or ()),
        mask=mask,
        httpx_client=httpx_client,
        tracer_provider=tracer_provider,
        observe_io_capture=_flag(env.get("LANGFUSE_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED"), True),
        media_upload_enabled=_flag(env.get("LANGFUSE_MEDIA_UPLOAD_ENABLED"), True),
        otel_traces_export_path=env.get("LANGFUSE_OTEL_TRACES_EXPORT_PATH") or None,
        otel_sdk_disabled=env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true",
        span_queue_size=_queue_size(env.get("OTEL_BSP_MAX_QUEUE_SIZE")),
        explicit=frozenset(seen),
    )
