"""Header sets sent to a Langfuse server, one function per channel (wire-protocol.md §1.4)."""

from __future__ import annotations

import base64

SDK_NAME = "python"
# The reference SDK version we are wire-compatible with; servers may gate features on it.
SDK_VERSION = "3.11.2"


def sdk_headers(public_key: str | None) -> dict[str, str]:
    """The SDK identification headers common to every channel (OTLP, REST, ingestion)."""
    headers = {"x-langfuse-sdk-name": SDK_NAME, "x-langfuse-sdk-version": SDK_VERSION}
    if public_key is not None:
        headers["x-langfuse-public-key"] = public_key
    return headers


def basic_auth(username: str, password: str) -> str:
    """The value of an ``Authorization: Basic`` header."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def rest_headers(
    public_key: str | None, secret_key: str | None, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Headers of the REST client (channel B): Fern spelling, Basic auth, then ``extra`` overriding."""
    headers = {"X-Fern-Language": "Python"}
    if public_key is not None and secret_key is not None:
        headers["Authorization"] = basic_auth(public_key, secret_key)
    headers["X-Langfuse-Sdk-Name"] = SDK_NAME
    headers["X-Langfuse-Sdk-Version"] = SDK_VERSION
    if public_key is not None:
        headers["X-Langfuse-Public-Key"] = public_key
    return merge_headers(headers, extra)


def merge_headers(base: dict[str, str], extra: dict[str, str] | None) -> dict[str, str]:
    """``base`` updated by ``extra``, matching names case-insensitively (the later spelling wins)."""
    merged = dict(base)
    for name, value in (extra or {}).items():
        for old in [k for k in merged if k.lower() == name.lower()]:
            del merged[old]
        merged[name] = value
    return merged


__all__ = ["SDK_NAME", "SDK_VERSION", "sdk_headers", "basic_auth", "rest_headers", "merge_headers"]
