"""Who may talk to the server: no cross-site browser requests, no DNS rebinding (pure ASGI middleware).

The SDKs send neither ``Origin`` nor ``Sec-Fetch-*`` headers, so they pass untouched. A browser sends
them on every request a web page makes; a request one site makes to another is refused, whatever
credentials it carries (a signed-in browser attaches its cached Basic credentials to those too).
Top-level GET navigations stay allowed: links from a notebook open the read-only pages.

The ``Host`` check stops DNS rebinding: a hostile name that re-resolves to 127.0.0.1 makes the browser
treat this server as same-origin with the attacker's page, but its ``Host`` header still names the
attacker's domain. IP literals are always fine (a page served from an IP literal is this machine).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

import orjson

_SAFE_SITES = frozenset({b"same-origin", b"none"})  # "none": typed into the address bar, a bookmark
_READ_METHODS = frozenset({"GET", "HEAD"})


def host_name(value: str) -> str:
    """The name part of a ``Host`` header (``[::1]:3939`` -> ``::1``), lower case, no trailing dot."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    name, sep, port = value.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        value = name
    return value.rstrip(".")


def is_allowed_host(name: str, allowed: Iterable[str] = ()) -> bool:
    """Loopback names, any IP literal, and the names the server was told to serve."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name in {host_name(a) for a in allowed}
    return True


def cross_site_reason(method: str, headers: dict[bytes, bytes], host: bytes | None) -> str | None:
    """Why a browser request comes from another site, or None when it does not."""
    if method in _READ_METHODS and headers.get(b"sec-fetch-mode") == b"navigate":
        return None  # a link or the address bar: pages are read-only, and the opener cannot read them
    site = headers.get(b"sec-fetch-site")
    if site is not None and site not in _SAFE_SITES:
        return f"Sec-Fetch-Site is {site.decode('latin-1')!r}"
    origin = headers.get(b"origin")
    if origin is not None and (host is None or origin not in (b"http://" + host, b"https://" + host)):
        return f"Origin {origin.decode('latin-1')[:200]!r} is not this server"
    return None


class SiteGuardMiddleware:
    """Refuses foreign ``Host`` names (400) and cross-site browser requests (403) before anything else."""

    def __init__(self, app: Any, *, allowed_hosts: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed_hosts = frozenset(host_name(h) for h in allowed_hosts)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host")
        name = host_name(host.decode("latin-1")) if host else None
        if name is not None and not is_allowed_host(name, self.allowed_hosts):
            message = (
                f"Host {name[:200]!r} is not served here (DNS rebinding protection); use localhost or an "
                "IP address, or start the server with --allow-host NAME"
            )
            await _refuse(send, 400, "InvalidRequestError", message)
            return
        reason = cross_site_reason(scope["method"], headers, host)
        if reason is not None:
            message = (
                f"cross-site request refused ({reason}): the local server accepts requests from its own "
                "pages and from SDKs, not from other web pages"
            )
            await _refuse(send, 403, "AccessDeniedError", message)
            return
        await self.app(scope, receive, send)


async def _refuse(send: Any, status: int, error: str, message: str) -> None:
    body = orjson.dumps({"message": message, "error": error})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"vary", b"Origin, Sec-Fetch-Site"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
