"""A JSON GET with the standard library (`langfuse_nb._stdhttp`), for the first REST call of a process.

The full REST client (`LangfuseAPI`) sends with httpx and answers with pydantic models; importing those
costs ~0.4 s of CPU in a fresh process (httpx, httpcore and the ``trio`` it imports when installed,
pydantic, the models). ``get_prompt`` needs one GET and the decoded JSON, which ``http.client`` and
``json`` do for ~5 ms of imports (``socket``, ``ssl`` and ``email`` are loaded by then).

It is used only where it behaves like the full client:

- no ``httpx_client`` of the caller (its transport, proxies and hooks are the caller's choice), no proxy
  in the environment (httpx would honour one), no credentials in the URL: `usable` says so;
- TLS verifies like httpx's default (`_tls.LazyTrustContext`: ``SSL_CERT_FILE``, ``SSL_CERT_DIR``, else
  certifi; host names checked);
- the timeout applies to connecting and to each read, as httpx's does;
- a redirect is not followed here: `NeedsFullClient` tells the caller to send with the full client;
- failures raise what the full client raises: the `ApiError` subclass of the status, and for transport
  failures the httpx exception httpx would have raised (httpx is imported only then);
- retries stay with the caller (the SDK's one policy, `_retry`); a refused connection to a local server
  that is being launched waits for it once, as the full client does.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

import langfuse_nb._stdhttp as _stdhttp
from langfuse_nb._retry import wait_for_startup
from langfuse_nb.errors import ApiError, error_for_status

from ._url import PROMPT_PATH, path

DEFAULT_TIMEOUT = 5.0  # httpx's default, which the full client falls back to without a timeout
USER_AGENT = "langfuse-nb"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class NeedsFullClient(Exception):  # noqa: N818 - a signal to the caller, not an error for users
    """The answer needs what only the full client does (following a redirect)."""


def usable(base_url: str, httpx_client: object | None) -> bool:
    """True when a GET to ``base_url`` over this path behaves as the full client's would."""
    return httpx_client is None and _stdhttp.usable(base_url, https=True)


def prompt_target(name: str, *, version: int | None, label: str | None) -> str:
    """The path and query of ``GET /api/public/v2/prompts/{name}`` (what ``api.prompts.get`` sends)."""
    pairs = (("version", version), ("label", label))
    query = [(key, str(value)) for key, value in pairs if value is not None]
    return path(PROMPT_PATH, name) + ("?" + urllib.parse.urlencode(query) if query else "")


def get_prompt_json(
    base_url: str,
    headers: Mapping[str, str],
    name: str,
    *,
    version: int | None,
    label: str | None,
    timeout: float | None,
) -> Any:
    """``GET /api/public/v2/prompts/{name}`` as decoded JSON (what ``api.prompts.get`` validates)."""
    return get_json(base_url, prompt_target(name, version=version, label=label), headers, timeout)


def get_json(base_url: str, target: str, headers: Mapping[str, str], timeout: float | None) -> Any:
    """GET ``base_url/target``; the decoded 2xx body, else the `ApiError` its status maps to."""
    url = urllib.parse.urlsplit(base_url)
    prefix = urllib.parse.quote(url.path.rstrip("/"), safe="/%:@!$&'()*+,;=~")
    fields = {"Accept": "application/json", "User-Agent": USER_AGENT, **headers}
    for name, value in fields.items():
        if any(c in f"{name}{value}" for c in "\r\n\0") or ":" in name:
            raise ValueError(f"invalid HTTP header {name!r}")  # never split a request by a header value
    answer = _exchange(base_url, f"{prefix}/{target}", fields, timeout)
    if answer.status_code in _REDIRECTS:
        raise NeedsFullClient(f"HTTP {answer.status_code}")
    try:
        data = json.loads(answer.body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(status_code=answer.status_code, body=answer.text) from None
    if not 200 <= answer.status_code < 300:
        raise error_for_status(answer.status_code, data)
    return data


def _exchange(
    base_url: str, target: str, headers: Mapping[str, str], timeout: float | None
) -> _stdhttp.Response:
    """One GET; a refused connection to a server being launched is retried once it answers."""
    waited = False
    while True:
        try:
            return _stdhttp.request(base_url, "GET", target, headers, timeout=timeout, tls=_tls_context)
        except _stdhttp.ConnectFailed as exc:
            refused = isinstance(exc.__cause__, ConnectionRefusedError)
            if not waited and refused and wait_for_startup(base_url):
                waited = True  # the local server %load_ext launched answers now
                continue
            raise _httpx_error(exc.__cause__ or exc, connecting=True) from exc
        except Exception as exc:
            if not _stdhttp.is_transport_failure(exc):
                raise
            raise _httpx_error(exc, connecting=False) from exc


def _httpx_error(error: BaseException, *, connecting: bool) -> Exception:
    """The httpx exception the full client raises for this failure (so callers catch the same types)."""
    import httpx

    message = str(error) or type(error).__name__
    if isinstance(error, TimeoutError):
        return httpx.ConnectTimeout(message) if connecting else httpx.ReadTimeout(message)
    if connecting:
        return httpx.ConnectError(message)
    if not isinstance(error, OSError):  # http.client could not read the answer as HTTP/1.x
        return httpx.RemoteProtocolError(message)
    return httpx.ReadError(message)


_tls_lock = threading.Lock()
_tls: Any = None


def _tls_context() -> Any:
    """One verifying context per process: its CA bundle is read once, on the first handshake."""
    global _tls
    with _tls_lock:
        if _tls is None:
            from ._tls import LazyTrustContext

            _tls = LazyTrustContext()
        return _tls


__all__ = [
    "DEFAULT_TIMEOUT",
    "NeedsFullClient",
    "get_json",
    "get_prompt_json",
    "prompt_target",
    "usable",
]
