"""Media: upload-URL negotiation, upload report (PATCH) and read-back."""

from __future__ import annotations

import enum

from ._base import Datetime, WireModel

# member name -> MIME type, as the Langfuse API enumerates them
_CONTENT_TYPES = """
IMAGE_PNG image/png
IMAGE_JPEG image/jpeg
IMAGE_JPG image/jpg
IMAGE_WEBP image/webp
IMAGE_GIF image/gif
IMAGE_SVG_XML image/svg+xml
IMAGE_TIFF image/tiff
IMAGE_BMP image/bmp
IMAGE_AVIF image/avif
IMAGE_HEIC image/heic
AUDIO_MPEG audio/mpeg
AUDIO_MP_3 audio/mp3
AUDIO_WAV audio/wav
AUDIO_OGG audio/ogg
AUDIO_OGA audio/oga
AUDIO_AAC audio/aac
AUDIO_MP_4 audio/mp4
AUDIO_FLAC audio/flac
AUDIO_OPUS audio/opus
AUDIO_WEBM audio/webm
VIDEO_MP_4 video/mp4
VIDEO_WEBM video/webm
VIDEO_OGG video/ogg
VIDEO_MPEG video/mpeg
VIDEO_QUICKTIME video/quicktime
VIDEO_X_MSVIDEO video/x-msvideo
VIDEO_X_MATROSKA video/x-matroska
TEXT_PLAIN text/plain
TEXT_HTML text/html
TEXT_CSS text/css
TEXT_CSV text/csv
TEXT_MARKDOWN text/markdown
TEXT_X_PYTHON text/x-python
APPLICATION_JAVASCRIPT application/javascript
TEXT_X_TYPESCRIPT text/x-typescript
APPLICATION_X_YAML application/x-yaml
APPLICATION_PDF application/pdf
APPLICATION_MSWORD application/msword
APPLICATION_MS_EXCEL application/vnd.ms-excel
APPLICATION_OPENXML_SPREADSHEET application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
APPLICATION_ZIP application/zip
APPLICATION_JSON application/json
APPLICATION_XML application/xml
APPLICATION_OCTET_STREAM application/octet-stream
APPLICATION_OPENXML_WORD application/vnd.openxmlformats-officedocument.wordprocessingml.document
APPLICATION_OPENXML_PRESENTATION application/vnd.openxmlformats-officedocument.presentationml.presentation
APPLICATION_RTF application/rtf
APPLICATION_X_NDJSON application/x-ndjson
APPLICATION_PARQUET application/vnd.apache.parquet
APPLICATION_GZIP application/gzip
APPLICATION_X_TAR application/x-tar
APPLICATION_X_7_Z_COMPRESSED application/x-7z-compressed
"""

MediaContentType = enum.Enum(  # type: ignore[misc]
    "MediaContentType",
    [tuple(line.split(" ")) for line in _CONTENT_TYPES.strip().splitlines()],
    type=str,
    module=__name__,
)
MediaContentType.__doc__ = "The MIME types the Langfuse API accepts for media."


class GetMediaUploadUrlRequest(WireModel):
    trace_id: str
    observation_id: str | None = None
    content_type: MediaContentType  # type: ignore[valid-type]
    content_length: int
    sha_256_hash: str
    field: str


class GetMediaUploadUrlResponse(WireModel):
    upload_url: str | None = None
    media_id: str


class PatchMediaBody(WireModel):
    uploaded_at: Datetime
    upload_http_status: int
    upload_http_error: str | None = None
    upload_time_ms: int | None = None


class GetMediaResponse(WireModel):
    media_id: str
    content_type: str
    content_length: int
    uploaded_at: Datetime
    url: str
    url_expiry: str


__all__ = [
    "GetMediaResponse",
    "GetMediaUploadUrlRequest",
    "GetMediaUploadUrlResponse",
    "MediaContentType",
    "PatchMediaBody",
]
