"""HTTP Basic auth for ``/api/public`` and the HTML pages under ``/project/`` (pure ASGI middleware)."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from typing import Any

import orjson

_SLASHES = re.compile(r"/{2,}")
# paths reachable without keys: health, and media transfer URLs that carry their own token
_OPEN_PATHS = re.compile(r"^/api/public/(health/?|media/[^/]+/(upload|download)/?)$")
# the read-only HTML pages live at the UI paths the SDK links to; a browser gets an HTML 401
_PAGE_PREFIX = "/project/"


def expected_header(public_key: str, secret_key: str) -> bytes:
    token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()
    return f"Basic {token}".encode()


def credentials_match(header: bytes | None, public_key: str, secret_key: str) -> bool:
    if not header or header[:6].lower() != b"basic ":
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True)
    except binascii.Error:
        return False
    user, _, password = decoded.partition(b":")
    # compare both halves in constant time so timing reveals nothing about either key; as bytes,
    # because compare_digest refuses non-ASCII str (a non-ASCII key must be a 401, not a crash)
    return hmac.compare_digest(user, public_key.encode()) & hmac.compare_digest(password, secret_key.encode())


class BasicAuthMiddleware:
    """Rejects unauthenticated ``/api/public`` requests with a 401 JSON body, pages with a 401 HTML one."""

    def __init__(self, app: Any, *, public_key: str, secret_key: str) -> None:
        self.app = app
        self.public_key = public_key
        self.secret_key = secret_key

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            # a base URL with a trailing slash makes clients send //api/...; route it like /api/...
            scope = {**scope, "path": _SLASHES.sub("/", scope["path"])}
        if scope["type"] != "http" or not self._needs_auth(scope["path"]):
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization")
        if credentials_match(header, self.public_key, self.secret_key):
            await self.app(scope, receive, send)
            return
        reason = "missing authorization header" if header is None else "invalid credentials"
        if scope["path"].startswith(_PAGE_PREFIX):
            await _reject_page(send, _page_401(self.public_key, self.secret_key))
        else:
            await _reject(send, reason)

    @staticmethod
    def _needs_auth(path: str) -> bool:
        if path.startswith(_PAGE_PREFIX):
            return True
        return path.startswith("/api/public") and not _OPEN_PATHS.match(path)


async def _reject(send: Any, reason: str) -> None:
    body = orjson.dumps(
        {
            "message": f"Unauthorized: {reason}. Use HTTP Basic auth with your public and secret key.",
            "error": "UnauthorizedError",
        }
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", b'Basic realm="langfuse_nb"'),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def sign_in_hint(public_key: str, secret_key: str) -> str:
    """How to sign in to the pages, in one sentence (the default local keys are public knowledge)."""
    from langfuse_nb.server.config import DEFAULT_PUBLIC_KEY, DEFAULT_SECRET_KEY

    if (public_key, secret_key) == (DEFAULT_PUBLIC_KEY, DEFAULT_SECRET_KEY):
        return f"sign in with user name {public_key} and password {secret_key} (the local default keys)"
    return (
        f"sign in with user name {public_key} (the public key) and your secret key as the password "
        "(LANGFUSE_SECRET_KEY of the notebook, or the key `langfuse-nb serve` printed)"
    )


def _page_401(public_key: str, secret_key: str) -> bytes:
    from html import escape

    hint = escape(sign_in_hint(public_key, secret_key))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in - langfuse_nb</title>'
        f"</head><body><h1>Sign in required</h1><p>This is the local Langfuse UI of langfuse_nb: {hint}."
        "</p><p>Reload the page to get the sign-in prompt again.</p></body></html>"
    ).encode()


async def _reject_page(send: Any, page: bytes) -> None:
    """401 for the HTML pages: the Basic challenge makes a browser ask for the keys."""
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(page)).encode()),
        (b"www-authenticate", b'Basic realm="langfuse_nb", charset="UTF-8"'),
        (b"content-security-policy", b"default-src 'none'"),
        (b"x-content-type-options", b"nosniff"),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": page})
