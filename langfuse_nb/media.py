"""LangfuseMedia: wrap bytes, a file or a base64 data URI so traces carry a reference, not the payload.

The serialized form is ``@@@langfuseMedia:type=<mime>|id=<mediaId>|source=<source>@@@`` where the media id
is the URL-safe base64 SHA-256 of the content cut to 22 characters (wire-protocol §8.1); the bytes are
uploaded in the background by the client.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import logging
import re
from pathlib import Path
from typing import Any, Literal, TypedDict

__all__ = ["LangfuseMedia", "ParsedMediaReference", "MEDIA_CONTENT_TYPES"]  # + MediaContentType (lazy)

logger = logging.getLogger("langfuse_nb")

REFERENCE_PATTERN = re.compile(r"@@@langfuseMedia:.+?@@@")
_REFERENCE_PREFIX = "@@@langfuseMedia:"

# The MediaContentType values the Langfuse API accepts (langfuse-openapi.yml).
MEDIA_CONTENT_TYPES = frozenset(
    [
        "image/png",
        "image/jpeg",
        "image/jpg",
        "image/webp",
        "image/gif",
        "image/svg+xml",
        "image/tiff",
        "image/bmp",
        "image/avif",
        "image/heic",
        "audio/mpeg",
        "audio/mp3",
        "audio/wav",
        "audio/ogg",
        "audio/oga",
        "audio/aac",
        "audio/mp4",
        "audio/flac",
        "audio/opus",
        "audio/webm",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/mpeg",
        "video/quicktime",
        "video/x-msvideo",
        "video/x-matroska",
        "text/plain",
        "text/html",
        "text/css",
        "text/csv",
        "text/markdown",
        "text/x-python",
        "application/javascript",
        "text/x-typescript",
        "application/x-yaml",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/zip",
        "application/json",
        "application/xml",
        "application/octet-stream",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/rtf",
        "application/x-ndjson",
        "application/vnd.apache.parquet",
        "application/gzip",
        "application/x-tar",
        "application/x-7z-compressed",
    ]
)


class ParsedMediaReference(TypedDict):
    media_id: str
    source: str
    content_type: str


class LangfuseMedia:
    """Media content for a trace: give ``base64_data_uri``, or ``content_bytes`` or ``file_path`` with
    ``content_type``.

    Example::

        LangfuseMedia(content_bytes=png_bytes, content_type="image/png")
    """

    obj: object
    _content_bytes: bytes | None
    _content_type: str | None
    _source: Literal["base64_data_uri", "bytes", "file"] | None
    _media_id: str | None
    _content_sha256_hash: str | None

    def __init__(
        self,
        *,
        obj: object | None = None,
        base64_data_uri: str | None = None,
        content_type: str | None = None,
        content_bytes: bytes | None = None,
        file_path: str | Path | None = None,
    ) -> None:
        self.obj = obj
        self._content_bytes, self._content_type, self._source = _load(
            base64_data_uri, content_type, content_bytes, file_path
        )
        self._content_sha256_hash = _sha256_base64(self._content_bytes)
        self._media_id = _media_id(self._content_sha256_hash)

    @property
    def _content_length(self) -> int | None:
        return len(self._content_bytes) if self._content_bytes else None

    @property
    def _reference_string(self) -> str | None:
        if self._content_type is None or self._source is None or self._media_id is None:
            return None
        return f"@@@langfuseMedia:type={self._content_type}|id={self._media_id}|source={self._source}@@@"

    def __repr__(self) -> str:
        ref = self._reference_string
        return f"LangfuseMedia({ref})" if ref else f"LangfuseMedia(<invalid, type={self._content_type}>)"

    @staticmethod
    def parse_reference_string(reference_string: str) -> ParsedMediaReference:
        """Split a reference string into media id, source and content type; ValueError when malformed."""
        if not isinstance(reference_string, str) or not reference_string:
            raise ValueError("Reference string is empty or not a string")
        if not reference_string.startswith(_REFERENCE_PREFIX + "type="):
            raise ValueError("Reference string does not start with '@@@langfuseMedia:type='")
        if not reference_string.endswith("@@@"):
            raise ValueError("Reference string does not end with '@@@'")
        body = reference_string[len(_REFERENCE_PREFIX) : -3]
        fields = dict(pair.split("=", 1) for pair in body.split("|") if "=" in pair)
        if not {"type", "id", "source"} <= fields.keys():
            raise ValueError("Missing required fields in reference string")
        return {"media_id": fields["id"], "source": fields["source"], "content_type": fields["type"]}

    @staticmethod
    def resolve_media_references(
        *,
        obj: Any,
        langfuse_client: Any,
        resolve_with: Literal["base64_data_uri"] = "base64_data_uri",
        max_depth: int = 10,
        content_fetch_timeout_seconds: float = 10,
    ) -> Any:
        """Replace reference strings in ``obj`` with data URIs fetched through ``langfuse_client``."""
        from langfuse_nb.sdk.media import resolve_media_references

        return resolve_media_references(
            obj,
            api=langfuse_client.api,
            resolve_with=resolve_with,
            max_depth=max_depth,
            timeout=content_fetch_timeout_seconds,
        )


def parse_data_uri(data_uri: str) -> tuple[bytes, str]:
    """``data:<mime>[;...];base64,<payload>`` -> (bytes, mime); ValueError when it is not such a URI."""
    if not isinstance(data_uri, str) or not data_uri.startswith("data:"):
        raise ValueError("Data URI does not start with 'data:'")
    header, sep, payload = data_uri[5:].partition(",")
    if not sep or not header or not payload:
        raise ValueError("Invalid data URI")
    parts = header.split(";")
    if "base64" not in parts:
        raise ValueError("Data URI is not base64 encoded")
    if not parts[0]:
        raise ValueError("Data URI has no content type")
    try:
        return base64.b64decode(payload), parts[0]
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"Data URI payload is not valid base64: {exc}") from exc


def _load(
    data_uri: str | None, content_type: str | None, content_bytes: bytes | None, file_path: str | Path | None
) -> tuple[bytes | None, str | None, Any]:
    """(bytes, content type, source) from whichever input was given; (None, None, None) when unusable."""
    try:
        if data_uri is not None:
            content, mime = parse_data_uri(data_uri)
            return content, mime, "base64_data_uri"
        if content_bytes is not None and content_type is not None:
            return bytes(content_bytes), content_type, "bytes"
        if file_path is not None and content_type is not None:
            content = Path(file_path).read_bytes()
            return (content, content_type, "file") if content else (None, None, None)
    except (ValueError, OSError) as exc:
        logger.warning("LangfuseMedia: could not load media content: %s", exc)
        return None, None, None
    logger.warning(
        "LangfuseMedia needs base64_data_uri, or content_bytes or file_path together with content_type"
    )
    return None, None, None


def _sha256_base64(content: bytes | None) -> str | None:
    if content is None:
        return None
    return base64.b64encode(hashlib.sha256(content).digest()).decode("ascii")


def _media_id(sha256_base64: str | None) -> str | None:
    """URL-safe form of the base64 hash, first 22 characters (must match the server's derivation)."""
    if sha256_base64 is None:
        return None
    return sha256_base64.replace("+", "-").replace("/", "_")[:22]


def __getattr__(name: str) -> Any:
    """``MediaContentType`` (the API's enum, as ``langfuse.media`` exposes it), loaded on first use."""
    if name != "MediaContentType":
        raise AttributeError(f"module 'langfuse_nb.media' has no attribute {name!r}")
    value = importlib.import_module("langfuse_nb.wire.models.media").MediaContentType
    globals()[name] = value
    return value
