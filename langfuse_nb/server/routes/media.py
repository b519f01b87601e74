"""Media: upload URL, tokenised PUT/GET of the bytes, upload status, metadata with a download URL."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.responses import Response

from langfuse_nb.server.errors import ApiError, BadRequest, NotFound, PayloadTooLarge
from langfuse_nb.server.http import (
    JsonBody,
    JsonResponse,
    RawBody,
    config_of,
    db_of,
    json_object,
    no_content,
    ok,
)
from langfuse_nb.server.routes import Route
from langfuse_nb.server.store import media as store
from langfuse_nb.server.values import dt_to_iso, now_iso, parse_iso

# the API's MediaContentType enum: Langfuse answers 400 for any other type
CONTENT_TYPES = frozenset(
    {
        *("image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif", "image/svg+xml", "image/tiff"),
        *("image/bmp", "image/avif", "image/heic"),
        *("audio/mpeg", "audio/mp3", "audio/wav", "audio/ogg", "audio/oga", "audio/aac", "audio/mp4"),
        *("audio/flac", "audio/opus", "audio/webm"),
        *("video/mp4", "video/webm", "video/ogg", "video/mpeg", "video/quicktime", "video/x-msvideo"),
        "video/x-matroska",
        *("text/plain", "text/html", "text/css", "text/csv", "text/markdown", "text/x-python"),
        *("application/javascript", "text/x-typescript", "application/x-yaml", "application/pdf"),
        *("application/msword", "application/vnd.ms-excel", "application/zip", "application/json"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        *("application/xml", "application/octet-stream", "application/rtf", "application/x-ndjson"),
        *("application/vnd.apache.parquet", "application/gzip", "application/x-tar"),
        "application/x-7z-compressed",
    }
)
_FIELDS = ("input", "output", "metadata")


class Forbidden(ApiError):
    status_code = 403
    error = "AccessDeniedError"


def _key(request: Request) -> bytes:
    return request.app.state.media_key


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _parse_upload_request(body: Any, max_bytes: int) -> dict[str, Any]:
    spec = json_object(body)
    for key in ("traceId", "contentType", "sha256Hash", "field"):
        if not isinstance(spec.get(key), str) or not spec[key]:
            raise BadRequest(f"'{key}' is required and must be a non-empty string")
    if spec.get("observationId") is not None and not isinstance(spec["observationId"], str):
        raise BadRequest("'observationId' must be a string or null")
    if spec["contentType"] not in CONTENT_TYPES:
        raise BadRequest(
            f"'contentType' {spec['contentType']!r} is not a supported media type "
            "(see the MediaContentType enum of the Langfuse API, e.g. image/png, application/pdf)"
        )
    length = spec.get("contentLength")
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise BadRequest("'contentLength' must be a non-negative integer")
    if length > max_bytes:
        raise BadRequest(f"'contentLength' {length} exceeds the media size limit of {max_bytes} bytes")
    if not re.fullmatch(r"[A-Za-z0-9+/]{43}=", spec["sha256Hash"]):
        raise BadRequest("'sha256Hash' must be the base64-encoded SHA-256 of the content (44 characters)")
    if spec["field"] not in _FIELDS:
        raise BadRequest(f"'field' must be one of {list(_FIELDS)}")
    return spec


def get_upload_url(request: Request, body: JsonBody) -> JsonResponse:
    spec = _parse_upload_request(body, config_of(request).max_media_bytes)
    with db_of(request).write() as conn:
        media_id, done = store.register(conn, spec)
    if done:
        return ok({"mediaId": media_id, "uploadUrl": None})
    query, _ = store.signed_query(_key(request), "upload", media_id)
    url = f"{_base(request)}/api/public/media/{media_id}/upload?{query}"
    return ok({"mediaId": media_id, "uploadUrl": url})


def _upload_authorized(
    request: Request, mediaId: str, token: str | None = None, expires: int | None = None
) -> None:
    """Runs before the body is read: an unauthorized client must not make us buffer up to the media limit."""
    store.check_media_id(mediaId)
    if not store.token_valid(_key(request), "upload", mediaId, token, expires):
        raise Forbidden("invalid, missing or expired upload token; request a new upload URL")


def upload(
    request: Request,
    mediaId: str,
    _authorized: Annotated[None, Depends(_upload_authorized)],
    body: RawBody,
) -> Response:
    db = db_of(request)
    record = store.get(db.reader, mediaId)
    if record is None:
        raise NotFound(f"Media {mediaId} not found")
    _verify_upload(request, record, body)
    store.save_bytes(config_of(request).media_dir, mediaId, body)
    with db.write() as conn:
        store.record_upload(conn, mediaId, 200, None, now_iso(), None)
    return Response(status_code=200)


def _verify_upload(request: Request, record: dict[str, Any], body: bytes) -> None:
    if len(body) > config_of(request).max_media_bytes:
        raise PayloadTooLarge("media exceeds the size limit")
    if len(body) != record["content_length"]:
        raise BadRequest(
            f"content length {len(body)} does not match the announced {record['content_length']}"
        )
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
    if content_type and content_type != record["content_type"]:
        raise BadRequest(
            f"Content-Type {content_type!r} does not match the announced {record['content_type']!r}"
        )
    actual = store.sha256_b64(body)
    declared = request.headers.get("x-amz-checksum-sha256")
    if declared is not None and declared != actual:
        raise BadRequest("x-amz-checksum-sha256 does not match the uploaded bytes")
    if actual != record["sha256_hash"]:
        raise BadRequest("the SHA-256 of the uploaded bytes does not match the announced sha256Hash")


def patch_media(request: Request, mediaId: str, body: JsonBody) -> Response:
    store.check_media_id(mediaId)
    spec = json_object(body)
    status = spec.get("uploadHttpStatus")
    if isinstance(status, bool) or not isinstance(status, int):
        raise BadRequest("'uploadHttpStatus' is required and must be an integer")
    try:
        uploaded_at = parse_iso(spec["uploadedAt"]) if spec.get("uploadedAt") is not None else None
    except ValueError:
        raise BadRequest("'uploadedAt' must be an ISO-8601 datetime") from None
    time_ms = spec.get("uploadTimeMs")
    if time_ms is not None and (isinstance(time_ms, bool) or not isinstance(time_ms, int)):
        raise BadRequest("'uploadTimeMs' must be an integer")
    error = spec.get("uploadHttpError")
    with db_of(request).write() as conn:
        record = store.get(conn, mediaId)
        if record is None:
            raise NotFound(f"Media {mediaId} not found")
        # the SDK reports its PUT; never let a client claim success for bytes this server has not verified
        if status == 200 and record["upload_http_status"] != 200:
            status, error = 400, error or "bytes were not uploaded to this server"
        store.record_upload(
            conn, mediaId, status, error if isinstance(error, str) else None, uploaded_at, time_ms
        )
    return no_content()


def get_media(request: Request, mediaId: str) -> JsonResponse:
    store.check_media_id(mediaId)
    record = store.get(db_of(request).reader, mediaId)
    if record is None or record["upload_http_status"] != 200 or record["uploaded_at"] is None:
        raise NotFound(f"Media {mediaId} not found or not uploaded")
    query, expires = store.signed_query(_key(request), "download", mediaId)
    expiry = dt_to_iso(datetime.fromtimestamp(expires, timezone.utc))
    return ok(
        {
            "mediaId": mediaId,
            "contentType": record["content_type"],
            "contentLength": record["content_length"],
            "uploadedAt": record["uploaded_at"],
            "url": f"{_base(request)}/api/public/media/{mediaId}/download?{query}",
            "urlExpiry": expiry,
        }
    )


def download(
    request: Request, mediaId: str, token: str | None = None, expires: int | None = None
) -> Response:
    store.check_media_id(mediaId)
    if not store.token_valid(_key(request), "download", mediaId, token, expires):
        raise Forbidden("invalid, missing or expired download link; fetch the media again for a new one")
    record = store.get(db_of(request).reader, mediaId)
    path = store.file_path(config_of(request).media_dir, mediaId)
    if record is None or not path.is_file():
        raise NotFound(f"Media {mediaId} not found")
    # user-supplied bytes served from the API's own origin: never sniffed, and an HTML/SVG upload opened in a
    # browser runs sandboxed (no script access to this origin, where cached Basic credentials may apply)
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
    return Response(path.read_bytes(), media_type=record["content_type"], headers=headers)


ROUTES = [
    Route("POST", "/api/public/media", get_upload_url),
    Route("PUT", "/api/public/media/{mediaId}/upload", upload),
    Route("GET", "/api/public/media/{mediaId}/download", download),
    Route("GET", "/api/public/media/{mediaId}", get_media),
    Route("PATCH", "/api/public/media/{mediaId}", patch_media),
]
