"""Prompt management methods of the Langfuse client: get (cached), create, update labels."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, overload

from langfuse_nb._retry import (
    RetryPolicy,
    is_retryable_error,
    is_transport_error,
    mark_unreachable,
    unreachable,
)
from langfuse_nb.errors import Error, NotFoundError
from langfuse_nb.sdk.prompts.cache import PromptCache, shared_cache
from langfuse_nb.sdk.prompts.clients import (
    ChatMessageDict,
    ChatMessageWithPlaceholdersDict,
    ChatPromptClient,
    PromptClient,
    TextPromptClient,
    fallback_prompt,
    normalize_chat_messages,
    prompt_client_from_api,
)

if TYPE_CHECKING:
    from langfuse_nb.api import LangfuseAPI, RequestOptions
    from langfuse_nb.wire.models import Prompt

logger = logging.getLogger("langfuse_nb")

NO_LIGHT: Any = object()  # `_light_get_json`'s "use the REST client" answer
DEFAULT_MAX_RETRIES = 2
MAX_RETRIES_BOUND = 4
_BACKOFF_BASE, _BACKOFF_CAP = 0.5, 10.0
_sleep: Callable[[float], None] = time.sleep  # patched by tests to keep retries instant


def bounded_retries(max_retries: int | None) -> int:
    """``None`` -> 2, else clamped to 0..4."""
    if max_retries is None:
        return DEFAULT_MAX_RETRIES
    return min(max(int(max_retries), 0), MAX_RETRIES_BOUND)


def is_retryable(exc: BaseException) -> bool:
    """Network errors, 429 and 5xx are worth another try; a 404 or other 4xx is final (DEVIATIONS F14)."""
    return is_retryable_error(exc)


def call_with_retries(call: Callable[[], Any], retries: int) -> Any:
    """Run ``call`` up to ``retries + 1`` times with the SDK's backoff between retryable failures."""
    return _policy(retries, None).call(call, retryable=is_retryable, sleep=_sleep)


def _policy(retries: int, budget: float | None) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=retries + 1, budget=budget, initial_delay=_BACKOFF_BASE, max_delay=_BACKOFF_CAP
    )


class _PromptQuery:
    """What one get_prompt call asks the server for, and how.

    A plain class, not a dataclass: building a dataclass costs ~2 ms of ``import langfuse_nb`` + client.
    """

    __slots__ = ("name", "version", "label", "ttl_seconds", "max_retries", "timeout", "has_fallback")

    def __init__(
        self,
        name: str,
        version: int | None,
        label: str | None,
        ttl_seconds: float | None,
        max_retries: int | None,
        timeout: float | None,
        has_fallback: bool = False,
    ) -> None:
        self.name, self.version, self.label = name, version, label
        self.ttl_seconds, self.max_retries, self.timeout = ttl_seconds, max_retries, timeout
        self.has_fallback = has_fallback


class PromptsMixin:
    """get_prompt / create_prompt / update_prompt / clear_prompt_cache for ``Langfuse``."""

    api: LangfuseAPI
    _settings: Any

    # -- cache -------------------------------------------------------------------------------------------
    @functools.cached_property
    def _prompt_cache(self) -> PromptCache:
        # Shared per (server, public key); assigning the attribute (tests: a fake clock) replaces it.
        return shared_cache(str(self._settings.base_url), str(self._settings.public_key))

    def clear_prompt_cache(self) -> None:
        """Forget every cached prompt of this client's server and public key."""
        self._prompt_cache.clear()

    # -- get ---------------------------------------------------------------------------------------------
    @overload
    def get_prompt(
        self,
        name: str,
        *,
        version: int | None = None,
        label: str | None = None,
        type: Literal["chat"],
        cache_ttl_seconds: int | None = None,
        fallback: list[ChatMessageDict] | None = None,
        max_retries: int | None = None,
        fetch_timeout_seconds: int | None = None,
    ) -> ChatPromptClient: ...

    @overload
    def get_prompt(
        self,
        name: str,
        *,
        version: int | None = None,
        label: str | None = None,
        type: Literal["text"] = "text",
        cache_ttl_seconds: int | None = None,
        fallback: str | None = None,
        max_retries: int | None = None,
        fetch_timeout_seconds: int | None = None,
    ) -> TextPromptClient: ...

    def get_prompt(
        self,
        name: str,
        *,
        version: int | None = None,
        label: str | None = None,
        type: Literal["chat", "text"] = "text",
        cache_ttl_seconds: int | None = None,
        fallback: list[ChatMessageDict] | str | None = None,
        max_retries: int | None = None,
        fetch_timeout_seconds: int | None = None,
    ) -> PromptClient:
        """Get a prompt version by ``version`` or ``label`` (default ``production``), cached for 60 s.

        An expired entry is served at once while one background refresh runs. When the fetch fails and
        no cached copy exists, ``fallback`` (a text or a list of chat messages) is returned as a client
        with ``is_fallback=True``; without a fallback the error is raised.
        """
        if version is not None and label is not None:
            raise ValueError("Cannot specify both version and label at the same time.")
        if not name:
            raise ValueError("Prompt name cannot be empty.")
        # the key inline (same shape as cache_key()): this path is the one callers hit per request
        if version is not None:
            key = f"{name}-version:{version}"
        else:
            key = f"{name}-label:{label if label is not None else 'production'}"
        if not getattr(self._settings, "has_keys", True):  # disabled, as the reference's: no request at all
            return _keyless_prompt(key, name, type, version, label, fallback)
        cache = self._prompt_cache
        fresh = cache.fresh_value(key) if cache_ttl_seconds != 0 else None
        if fresh is not None:  # the hot path: no closures, no locks
            return fresh

        query = _PromptQuery(
            name, version, label, cache_ttl_seconds, max_retries, fetch_timeout_seconds, bool(fallback)
        )
        fetch = functools.partial(self._fetch_prompt, cache, key, query)
        try:
            return fetch() if cache_ttl_seconds == 0 else _cached(cache, key, fetch)
        except Exception as exc:
            if not fallback:
                raise
            logger.warning("Returning fallback prompt for '%s' due to fetch error: %s", key, exc)
            return fallback_prompt(name=name, prompt=fallback, type=type, version=version, label=label)

    def _fetch_prompt(self, cache: PromptCache, key: str, query: _PromptQuery) -> PromptClient:
        """Fetch with retries (F14) and store under ``key``; a 404 also evicts the key.

        With a fallback the whole fetch, retries included, is bounded by ``fetch_timeout_seconds`` (default:
        the client's ``timeout``), and an endpoint remembered as not answering is not asked at all.
        """
        base_url = str(self._settings.base_url)
        budget = None
        if query.has_fallback:
            budget = float(query.timeout if query.timeout is not None else self._settings.timeout)
            reason = unreachable(base_url)
            if reason is not None:
                raise ConnectionError(f"{base_url} is not answering ({reason})")
        try:
            prompt = prompt_client_from_api(self._request_prompt(query, budget))
        except NotFoundError:
            cache.delete(key)  # the prompt (or that version/label) is gone: do not serve it stale
            logger.warning("langfuse_nb: Prompt '%s' not found during refresh, evicting from cache.", key)
            raise
        except Exception as exc:
            logger.error("langfuse_nb: Error while fetching prompt '%s': %s", key, exc)  # reference text
            if is_transport_error(exc) and query.has_fallback:
                mark_unreachable(base_url, f"prompt fetch: {type(exc).__name__}")
            raise
        cache.set(key, prompt, query.ttl_seconds)
        return prompt

    def _request_prompt(self, query: _PromptQuery, budget: float | None) -> Any:
        """GET the prompt under the one retry policy; each attempt's timeout fits in what is left."""
        state = _policy(bounded_retries(query.max_retries), budget).start()
        while True:
            options: RequestOptions = {"max_retries": 0}  # retries happen here, with the F14 rules
            timeout, left = query.timeout, state.remaining()
            if left is not None:
                timeout = max(0.05, left if timeout is None else min(timeout, left))
            if timeout is not None:
                options["timeout_in_seconds"] = timeout
            try:
                return self._get_prompt_data(query, options)
            except Exception as exc:
                delay = state.next_delay() if is_retryable(exc) else None
                if delay is None:
                    raise
            _sleep(delay)

    def _get_prompt_data(self, query: _PromptQuery, options: RequestOptions) -> Any:
        """One attempt: the prompt as JSON over the light path, else as a model from the REST client."""
        from langfuse_nb.api._light import prompt_target

        target = prompt_target(query.name, version=query.version, label=query.label)
        found = self._light_get_json(target, options.get("timeout_in_seconds"))
        if found is not NO_LIGHT:
            return found
        return self.api.prompts.get(
            query.name, version=query.version, label=query.label, request_options=options
        )

    def _light_get_json(self, target: str, timeout: float | None = None) -> Any:
        """``GET base_url/target`` over the light path (`langfuse_nb.api._light`), or `NO_LIGHT`.

        ``timeout`` defaults to the client's, as the REST client's does.

        `NO_LIGHT` when the REST client exists (built by an earlier call or given by the caller: its
        connections are warm and its imports paid) or the light path cannot behave like it (a caller's
        ``httpx_client``, a proxy, a redirect). Otherwise one GET must not cost the ~0.4 s of CPU that
        importing httpx, pydantic and the models costs in a fresh process.
        """
        if "api" in getattr(self, "__dict__", {}):
            return NO_LIGHT
        from langfuse_nb.api import _light

        s = self._settings
        if not _light.usable(str(s.base_url), s.httpx_client):
            return NO_LIGHT
        if timeout is None:
            timeout = s.timeout
        try:
            return _light.get_json(
                str(s.base_url),
                target,
                self._rest_headers,
                _light.DEFAULT_TIMEOUT if timeout is None else timeout,
            )
        except _light.NeedsFullClient:
            return NO_LIGHT  # e.g. a redirect: the REST client follows it

    @functools.cached_property
    def _rest_headers(self) -> dict[str, str]:
        """The REST client's headers (auth, SDK identification, the caller's extra headers)."""
        from langfuse_nb.api.headers import rest_headers

        s = self._settings
        return rest_headers(s.public_key or "", s.secret_key or "", dict(s.additional_headers or {}))

    # -- create / update ---------------------------------------------------------------------------------
    @overload
    def create_prompt(
        self,
        *,
        name: str,
        prompt: list[ChatMessageDict | ChatMessageWithPlaceholdersDict],
        labels: list[str] = ...,
        tags: list[str] | None = None,
        type: Literal["chat"] | None,
        config: Any | None = None,
        commit_message: str | None = None,
    ) -> ChatPromptClient: ...

    @overload
    def create_prompt(
        self,
        *,
        name: str,
        prompt: str,
        labels: list[str] = ...,
        tags: list[str] | None = None,
        type: Literal["text"] | None = "text",
        config: Any | None = None,
        commit_message: str | None = None,
    ) -> TextPromptClient: ...

    def create_prompt(
        self,
        *,
        name: str,
        prompt: str | list[ChatMessageDict | ChatMessageWithPlaceholdersDict],
        labels: list[str] | None = None,
        tags: list[str] | None = None,
        type: Literal["chat", "text"] | None = "text",
        config: Any | None = None,
        commit_message: str | None = None,
    ) -> PromptClient:
        """Create a new version of a text or chat prompt (chat items may be ``{"type": "placeholder"}``)."""
        body = _create_body(name, prompt, type, labels, tags, config, commit_message)
        created = self.api.prompts.create(request=body)
        self._prompt_cache.invalidate(name)
        return ChatPromptClient(created) if body["type"] == "chat" else TextPromptClient(created)

    def update_prompt(self, *, name: str, version: int, new_labels: list[str] | None = None) -> Prompt:
        """Set labels on an existing version (labels move from other versions); returns the API prompt."""
        updated = self.api.prompt_version.update(
            name=name, version=version, new_labels=list(new_labels or [])
        )
        self._prompt_cache.invalidate(name)
        return updated


def _keyless_prompt(
    key: str,
    name: str,
    type: Literal["chat", "text"],
    version: int | None,
    label: str | None,
    fallback: list[ChatMessageDict] | str | None,
) -> PromptClient:
    """What ``get_prompt`` gives without keys: the reference's error; a given fallback is returned instead
    (DEVIATIONS: the reference raises even then)."""
    error = Error("SDK is not correctly initialized. Check the init logs for more details.")
    if not fallback:
        raise error
    logger.warning("Returning fallback prompt for '%s' due to fetch error: %s", key, error)
    return fallback_prompt(name=name, prompt=fallback, type=type, version=version, label=label)


def _cached(cache: PromptCache, key: str, fetch: Callable[[], PromptClient]) -> PromptClient:
    """Serve from the cache; a miss fetches once even when many threads ask at the same moment."""
    entry = cache.get(key)
    if entry is None:
        with cache.fetch_lock(key):
            entry = cache.get(key)
            if entry is None:
                return fetch()
    if cache.is_expired(entry):
        cache.refresh_in_background(key, fetch)
    return entry.value


def _create_body(
    name: str,
    prompt: Any,
    type: str | None,
    labels: list[str] | None,
    tags: list[str] | None,
    config: Any,
    commit_message: str | None,
) -> dict[str, Any]:
    """The POST /api/public/v2/prompts body; explicit ``None``s go out as JSON null (wire-protocol §4.2)."""
    if type == "chat":
        if not isinstance(prompt, list):
            raise ValueError(
                "For 'chat' type, 'prompt' must be a list of chat messages with role and content attributes."
            )
        content: Any = [_wire_chat_item(item) for item in normalize_chat_messages(prompt)]
    else:
        if not isinstance(prompt, str):
            raise ValueError("For 'text' type, 'prompt' must be a string.")
        content, type = prompt, "text"
    return {
        "name": name,
        "type": type,
        "prompt": content,
        "labels": list(labels or []),
        "tags": tags,
        "config": config or {},
        "commitMessage": commit_message,
    }


def _wire_chat_item(item: ChatMessageWithPlaceholdersDict) -> dict[str, Any]:
    if item["type"] == "placeholder":
        return {"type": "placeholder", "name": item["name"]}  # type: ignore[typeddict-item]
    return {"role": item["role"], "content": item["content"]}  # type: ignore[typeddict-item]
