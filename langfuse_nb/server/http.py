"""Request/response plumbing shared by the route modules: JSON in and out, bounded bodies."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from starlette.responses import Response

from langfuse_nb.server.config import ServerConfig
from langfuse_nb.server.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache


class JsonResponse(Response):
    """JSON via orjson (fast, and datetimes/UUIDs never surprise us)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, default=str)
        except orjson.JSONEncodeError:
            # orjson stops at 255 levels of nesting; stored inputs can be deeper (the reference SDK
            # encodes a circular dict as ~500 levels), and one such row must not fail a whole page
            try:
                return json.dumps(content, default=str, allow_nan=False).encode()
            except ValueError:  # a NaN or infinity somewhere: null, as orjson writes it
                return json.dumps(_finite(content), default=str, allow_nan=False).encode()


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def ok(content: Any, status_code: int = 200) -> JsonResponse:
    return JsonResponse(content, status_code=status_code)


def no_content() -> Response:
    return Response(status_code=204)


def config_of(request: Request) -> ServerConfig:
    return request.app.state.config


def db_of(request: Request) -> Database:
    return request.app.state.db


def blobs_of(request: Request) -> BlobCache:
    return request.app.state.blobs


async def raw_body(request: Request) -> bytes:
    """The request body, refusing anything over the configured limit with 413."""
    config = config_of(request)
    # media uploads have their own (larger) limit; every other body uses the general one
    limit = config.max_media_bytes if request.url.path.endswith("/upload") else config.max_body_bytes
    declared = request.headers.get("content-length")
    # isascii: str.isdigit also accepts characters like '²' that int() refuses
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body of {declared} bytes exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request) -> Any:
    """The body parsed as JSON; 415 unless declared JSON, 400 naming the problem when it is not JSON."""
    _require_json_type(request.headers.get("content-type"))
    body = await raw_body(request)
    if not body:
        raise BadRequest("request body is empty; expected JSON")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None


def _require_json_type(content_type: str | None) -> None:
    # an HTML form can only send text/plain, urlencoded or multipart bodies without a CORS preflight;
    # insisting on JSON keeps a cross-site form from ever reaching a JSON write endpoint
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        shown = kind[:100] or "none"
        raise UnsupportedMediaType(f"Content-Type must be application/json for this endpoint, got {shown!r}")


RawBody = Annotated[bytes, Depends(raw_body)]
JsonBody = Annotated[Any, Depends(json_body)]


def json_object(body: Any, what: str = "request body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"{what} must be a JSON object, got {type(body).__name__}")
    return body
