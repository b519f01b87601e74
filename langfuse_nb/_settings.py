"""Client configuration, resolved once: explicit argument > environment variable > default.

Every ``LANGFUSE_*`` variable the SDK understands is an entry of :data:`ENV_VARS` and is read only here,
with one parsing rule per kind (see :func:`parse_env_value`). The server's own ``LANGFUSE_NB_*`` variables
are read by its configuration module.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict

if TYPE_CHECKING:
    import httpx
    from opentelemetry.sdk.trace import TracerProvider
    from typing_extensions import Unpack

logger = logging.getLogger("langfuse_nb")
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
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})

Kind = Literal["str", "int", "float", "bool"]


@dataclass(frozen=True)
class EnvVar:
    """One environment variable: its name, how its text is parsed, and what it configures."""

    name: str
    kind: Kind
    default: Any
    doc: str
    argument: str | None = None  # the Langfuse(...) argument that wins over it, if any


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar(
        "LANGFUSE_PUBLIC_KEY",
        "str",
        None,
        "Project public key; without keys the client is a no-op.",
        "public_key",
    ),
    EnvVar("LANGFUSE_SECRET_KEY", "str", None, "Project secret key.", "secret_key"),
    EnvVar("LANGFUSE_BASE_URL", "str", DEFAULT_BASE_URL, "Server URL.", "base_url"),
    EnvVar(
        "LANGFUSE_HOST", "str", None, "Older name of LANGFUSE_BASE_URL (used when that is unset).", "host"
    ),
    EnvVar("LANGFUSE_TIMEOUT", "float", 5, "Seconds per REST and export request.", "timeout"),
    EnvVar("LANGFUSE_FLUSH_AT", "int", 512, "Spans per export batch (scores: 15 unless set).", "flush_at"),
    EnvVar(
        "LANGFUSE_FLUSH_INTERVAL",
        "float",
        5.0,
        "Seconds between exports (scores: 1 unless set).",
        "flush_interval",
    ),
    EnvVar("LANGFUSE_SAMPLE_RATE", "float", 1.0, "Share of traces kept, within [0, 1].", "sample_rate"),
    EnvVar(
        "LANGFUSE_TRACING_ENVIRONMENT",
        "str",
        None,
        "Environment name on every observation and score.",
        "environment",
    ),
    EnvVar("LANGFUSE_RELEASE", "str", None, "Release name; else CI variables such as GITHUB_SHA.", "release"),
    EnvVar("LANGFUSE_DEBUG", "bool", False, "Debug logging of the langfuse_nb logger.", "debug"),
    EnvVar(
        "LANGFUSE_TRACING_ENABLED",
        "bool",
        True,
        "Off: nothing is traced (REST calls still work).",
        "tracing_enabled",
    ),
    EnvVar(
        "LANGFUSE_MEDIA_UPLOAD_THREAD_COUNT",
        "int",
        1,
        "Threads uploading media.",
        "media_upload_thread_count",
    ),
    EnvVar("LANGFUSE_MEDIA_UPLOAD_ENABLED", "bool", True, "Off: media stays inline in the trace data."),
    EnvVar(
        "LANGFUSE_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED",
        "bool",
        True,
        "Off: @observe records no arguments and return values (capture_input/capture_output win).",
    ),
    EnvVar(
        "LANGFUSE_OTEL_TRACES_EXPORT_PATH",
        "str",
        None,
        "Path of the OTLP traces endpoint (default /api/public/otel/v1/traces).",
    ),
    EnvVar("LANGFUSE_PROMPT_CACHE_DEFAULT_TTL_SECONDS", "float", 60, "Seconds a fetched prompt stays fresh."),
    EnvVar(
        "LANGFUSE_NB_RETRY_BUDGET_SECONDS",
        "float",
        60.0,
        "Seconds spans and scores keep being retried while the server fails (>= 0).",
    ),
    EnvVar(
        "LANGFUSE_NB_PROGRESS",
        "bool",
        None,
        "Progress bars of experiments: off, on, or unset for automatic (10+ items).",
    ),
)
ENV: dict[str, EnvVar] = {var.name: var for var in ENV_VARS}


def parse_env_value(var: EnvVar, raw: str | None) -> Any:
    """The one parsing rule: unset or blank is the default; booleans accept true/1/yes/on and
    false/0/no/off in any case (anything else warns and keeps the default); numbers that do not parse
    raise a ValueError naming the variable; strings are taken as they are."""
    if raw is None or not raw.strip():
        return var.default
    if var.kind == "str":
        return raw
    if var.kind == "bool":
        word = raw.strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        logger.warning(
            "langfuse_nb: ignoring %s=%r (expected true/false, 1/0, yes/no or on/off)", var.name, raw
        )
        return var.default
    convert: Callable[[str], Any] = int if var.kind == "int" else float
    try:
        return convert(raw.strip())
    except ValueError:
        raise ValueError(f"environment variable {var.name}={raw!r} is not a valid {var.kind}") from None


def env_setting(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The parsed value of one variable of :data:`ENV_VARS` (for settings used outside a client)."""
    env = os.environ if environ is None else environ
    return parse_env_value(ENV[name], env.get(name))


def read_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every variable of :data:`ENV_VARS` that is set, parsed (unset ones are absent)."""
    env = os.environ if environ is None else environ
    return {
        var.name: parse_env_value(var, env[var.name]) for var in ENV_VARS if env.get(var.name, "").strip()
    }


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
    # seconds the background channels (spans, scores) keep retrying while the endpoint fails; past it,
    # what cannot be sent is dropped and counted (docs/reliability.md). Env LANGFUSE_NB_RETRY_BUDGET_SECONDS.
    retry_budget: float = 60.0
    prompt_cache_ttl_seconds: float = 60
    # OpenTelemetry's OTLP exporter variables the reference's span exporter reads (its endpoint, headers and
    # timeout are passed explicitly, so those variables never apply): see `otlp_exporter_options`
    otlp_compression: Literal["gzip", "deflate"] | None = None
    otlp_certificate: str | None = None
    otlp_client_certificate: str | None = None
    otlp_client_key: str | None = None
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


class ClientOptions(TypedDict, total=False):
    """The arguments of ``Langfuse(...)``; each falls back to its ``LANGFUSE_*`` variable."""

    public_key: str | None
    secret_key: str | None
    base_url: str | None
    host: str | None
    timeout: int | None
    httpx_client: httpx.Client | None
    debug: bool
    tracing_enabled: bool | None
    flush_at: int | None
    flush_interval: float | None
    environment: str | None
    release: str | None
    media_upload_thread_count: int | None
    sample_rate: float | None
    mask: Callable[..., Any] | None
    blocked_instrumentation_scopes: list[str] | None
    additional_headers: dict[str, str] | None
    tracer_provider: TracerProvider | None


# defaults of ClientOptions other than None (as the reference's constructor shows them)
CLIENT_OPTION_DEFAULTS: dict[str, Any] = {"debug": False, "tracing_enabled": True}
_NUMERIC_OPTIONS = {
    "timeout": "LANGFUSE_TIMEOUT",
    "flush_at": "LANGFUSE_FLUSH_AT",
    "flush_interval": "LANGFUSE_FLUSH_INTERVAL",
    "sample_rate": "LANGFUSE_SAMPLE_RATE",
    "media_upload_thread_count": "LANGFUSE_MEDIA_UPLOAD_THREAD_COUNT",
}


def _numbers(options: Mapping[str, Any], env: Mapping[str, Any], explicit: set[str]) -> dict[str, Any]:
    """Argument, else env var, else the table default; records which came from either."""
    out = {}
    for option, var in _NUMERIC_OPTIONS.items():
        if options.get(option) is not None:
            out[option] = options[option]
        elif var in env:
            out[option] = env[var]
        else:
            out[option] = ENV[var].default
            continue
        explicit.add(option)
    return out


def _release(arg: str | None, env: Mapping[str, Any], environ: Mapping[str, str]) -> str | None:
    if arg:
        return arg
    if env.get("LANGFUSE_RELEASE"):
        return str(env["LANGFUSE_RELEASE"])
    return next((environ[v] for v in _CI_RELEASE_VARS if environ.get(v)), None)


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


_OPTION_NAMES = frozenset(ClientOptions.__annotations__)


def _check_options(options: Mapping[str, Any]) -> None:
    if _OPTION_NAMES.issuperset(options):
        return
    unknown = options.keys() - _OPTION_NAMES
    if unknown:
        raise TypeError(f"Langfuse() got an unexpected keyword argument {min(unknown)!r}")


def resolve_settings(
    *, environ: Mapping[str, str] | None = None, **options: Unpack[ClientOptions]
) -> Settings:
    """Build the frozen settings from ``Langfuse(...)``'s arguments (:class:`ClientOptions`).

    ``environ`` is injectable for tests (defaults to ``os.environ``); it is read once, here. The same
    plain arguments and the same variables give the same (immutable) `Settings` object again: re-creating
    a client costs a dictionary lookup instead of a second resolution.
    """
    if not _OPTION_NAMES.issuperset(options):  # inline: this path runs on every Langfuse(...)
        _check_options(options)
    snapshot = environment_snapshot(environ)
    key = _cache_key(options, snapshot)
    found = _RESOLVED.get(key) if key is not None else None
    if found is not None:
        return found
    settings = _resolve(options, snapshot)
    if key is not None:
        if len(_RESOLVED) >= _RESOLVED_MAX:
            _RESOLVED.clear()  # a handful of configurations per process; never grow without bound
        _RESOLVED[key] = settings
    return settings


# OTEL_EXPORTER_OTLP_TRACES_<name> wins over OTEL_EXPORTER_OTLP_<name>, as in OpenTelemetry's exporter
_OTLP_OPTIONS = {
    "otlp_compression": "COMPRESSION",
    "otlp_certificate": "CERTIFICATE",
    "otlp_client_certificate": "CLIENT_CERTIFICATE",
    "otlp_client_key": "CLIENT_KEY",
}
_OTLP_NAMES = frozenset(
    f"OTEL_EXPORTER_OTLP_{scope}{name}" for name in _OTLP_OPTIONS.values() for scope in ("", "TRACES_")
)


# every variable resolve_settings reads
_READ_NAMES: frozenset[str] = frozenset(
    {*ENV, *_CI_RELEASE_VARS, *_OTLP_NAMES, "OTEL_SDK_DISABLED", "OTEL_BSP_MAX_QUEUE_SIZE"}
)
_ENCODED_NAMES: dict[bytes, str] = (
    {os.fsencode(name): name for name in _READ_NAMES} if os.supports_bytes_environ else {}
)
_ENCODED_KEYS = frozenset(_ENCODED_NAMES)
# os.environ's own dict of encoded names (updated in place by every change made through os.environ)
_ENVIRON = os.environ
_ENV_DATA: dict[bytes, bytes] | None = getattr(_ENVIRON, "_data", None) if _ENCODED_NAMES else None
if not isinstance(_ENV_DATA, dict) or not all(isinstance(key, bytes) for key in _ENV_DATA):
    _ENV_DATA = None  # not the layout this relies on: look each name up instead
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})
_RESOLVED: dict[tuple[Any, ...], Settings] = {}
_RESOLVED_MAX = 64


def environment_snapshot(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables resolve_settings reads that are set, as a plain dict.

    Looking up an unset name in ``os.environ`` is its slow path (a KeyError raised and caught, ~2 us), and
    ~45 names are read, most of them unset: that was most of the cost of ``Langfuse(...)``. On POSIX,
    ``os.environ`` keeps the variables in a dict of encoded names (a CPython detail, checked before use):
    intersecting our names with its keys finds the set ones in one pass; elsewhere each name is looked up.
    """
    if environ is None:
        environ = os.environ
    if environ is _ENVIRON and _ENV_DATA is not None:
        found = _ENCODED_KEYS.intersection(_ENV_DATA)
        return {_ENCODED_NAMES[key]: environ[_ENCODED_NAMES[key]] for key in found} if found else {}
    return {name: environ[name] for name in _READ_NAMES if environ.get(name) is not None}


def _cache_key(options: Mapping[str, Any], snapshot: Mapping[str, str]) -> tuple[Any, ...] | None:
    """A key for plain arguments (text, numbers, flags); None when any is an object (a client, a mask).

    The types are part of it (1, 1.0 and True are equal keys but not equal settings). Arguments in
    another order make another key: a cache miss, not a wrong answer.
    """
    types = tuple(map(type, options.values()))
    if not _PLAIN_TYPES.issuperset(types):
        return None
    return (tuple(options.items()), types, tuple(snapshot.items()))


def _resolve(options: Mapping[str, Any], environ: Mapping[str, str]) -> Settings:
    env = read_environment(environ)
    seen: set[str] = set()
    num = _numbers(options, env, seen)
    url = (
        options.get("base_url")
        or env.get("LANGFUSE_BASE_URL")
        or options.get("host")
        or env.get("LANGFUSE_HOST")
        or DEFAULT_BASE_URL
    )
    return Settings(
        public_key=options.get("public_key") or env.get("LANGFUSE_PUBLIC_KEY"),
        secret_key=options.get("secret_key") or env.get("LANGFUSE_SECRET_KEY"),
        base_url=url.rstrip("/") or url,  # "http://host/" would give "//api/..." paths
        timeout=num["timeout"] or 5,
        environment=options.get("environment") or env.get("LANGFUSE_TRACING_ENVIRONMENT"),
        release=_release(options.get("release"), env, environ),
        # either the argument or the env switch can turn debug on, and either can disable tracing
        debug=bool(options.get("debug")) or env.get("LANGFUSE_DEBUG", False),
        tracing_enabled=(
            options.get("tracing_enabled") is not False and env.get("LANGFUSE_TRACING_ENABLED", True)
        ),
        flush_at=max(1, num["flush_at"] or 512),
        flush_interval=num["flush_interval"],
        sample_rate=_check_sample_rate(num["sample_rate"]),
        media_upload_thread_count=max(1, num["media_upload_thread_count"] or 1),
        additional_headers=dict(options.get("additional_headers") or {}) or None,
        blocked_instrumentation_scopes=tuple(options.get("blocked_instrumentation_scopes") or ()),
        mask=options.get("mask"),
        httpx_client=options.get("httpx_client"),
        tracer_provider=options.get("tracer_provider"),
        observe_io_capture=env.get("LANGFUSE_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED", True),
        media_upload_enabled=env.get("LANGFUSE_MEDIA_UPLOAD_ENABLED", True),
        otel_traces_export_path=env.get("LANGFUSE_OTEL_TRACES_EXPORT_PATH"),
        otel_sdk_disabled=environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true",
        span_queue_size=_queue_size(environ.get("OTEL_BSP_MAX_QUEUE_SIZE")),
        retry_budget=max(0.0, env.get("LANGFUSE_NB_RETRY_BUDGET_SECONDS", 60.0)),
        prompt_cache_ttl_seconds=env.get("LANGFUSE_PROMPT_CACHE_DEFAULT_TTL_SECONDS", 60),
        **otlp_exporter_options(environ),
        explicit=frozenset(seen),
    )


def otlp_exporter_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """The OTLP exporter variables that are set, as `Settings` fields.

    An unknown compression sends uncompressed with a warning, where OpenTelemetry's exporter raises in
    ``Langfuse(...)``: a typo in a variable must not stop a notebook from tracing.
    """
    found: dict[str, Any] = {}
    for option, name in _OTLP_OPTIONS.items():
        value = environ.get(f"OTEL_EXPORTER_OTLP_TRACES_{name}") or environ.get(f"OTEL_EXPORTER_OTLP_{name}")
        if value and value.strip():
            found[option] = value.strip()
    compression = found.pop("otlp_compression", "none").lower()
    if compression in ("gzip", "deflate"):
        found["otlp_compression"] = compression
    elif compression != "none":
        logger.warning(
            "langfuse_nb: OTEL_EXPORTER_OTLP_COMPRESSION=%r is not gzip, deflate or none", compression
        )
    return found
