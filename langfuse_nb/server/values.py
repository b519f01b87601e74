"""Pure helpers for the server's value formats: JSON text, ISO timestamps, ids."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import orjson
import zstandard

_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S"


# Deepest nesting stored as JSON: below orjson's 255-level limit (for writing and for serving it back),
# and shallow enough that the bounded copy below stays far from Python's recursion limit.
MAX_DEPTH = 200
TRUNCATED = f"[langfuse_nb: truncated, nested deeper than {MAX_DEPTH} levels]"
# set by ``note_truncations`` for one request, so a route can tell its client that values were cut
_truncations: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("truncations", default=None)


def dumps(value: Any) -> str:
    """Compact JSON text; non-native values fall back to ``str``, over-deep values are truncated."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        # orjson refuses integers beyond 64 bits and nesting deeper than 255 levels (both as TypeError);
        # a bounded copy fixes either, so one odd value never fails the request it arrived in
        return orjson.dumps(bounded(value), default=str, option=orjson.OPT_NON_STR_KEYS).decode()


_INT64 = (-(2**63), 2**64 - 1)  # orjson writes signed and unsigned 64-bit integers


def bounded(value: Any, depth: int = MAX_DEPTH) -> Any:
    """A copy orjson can write: wide integers as floats (or text), containers below ``depth`` truncated."""
    if isinstance(value, bool) or not isinstance(value, int | dict | list | tuple):
        return value
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else _wide_int(value)
    if depth <= 0:
        note_truncated()
        return TRUNCATED
    if isinstance(value, dict):
        return {k: bounded(v, depth - 1) for k, v in value.items()}
    return [bounded(v, depth - 1) for v in value]


def _wide_int(value: int) -> float | str:
    # stored as a float, like JSON parsers on the way back would read it; beyond floats, as text
    try:
        return float(value)
    except OverflowError:
        return "<integer too large>" if abs(value).bit_length() > 14_000 else str(value)


def note_truncated() -> None:
    """Record one truncated value for the current request (no-op outside ``count_truncations``)."""
    counter = _truncations.get()
    if counter is not None:
        counter.append(1)


@contextlib.contextmanager
def count_truncations() -> Iterator[list[int]]:
    """Collect truncations made while the block runs (one list entry per truncated value)."""
    counter: list[int] = []
    token = _truncations.set(counter)
    try:
        yield counter
    finally:
        _truncations.reset(token)


def dumps_or_none(value: Any) -> str | None:
    return None if value is None else dumps(value)


def loads(text: str | bytes | None) -> Any:
    return None if text is None else orjson.loads(text)


# Inputs and outputs are stored compressed once they are long enough to gain from it: a BLOB holding a
# format byte and a compressed frame. Shorter values, and every row written before this encoding, stay
# TEXT, so readers take both (``unpack_io``). Only inputs/outputs are packed: no SQL filter or json_extract
# ever reads those columns. zstd (level 1) compresses ~1 KB of chat JSON about 3x faster than deflate's
# fastest level, to the same size; deflate blobs (format 1) are still read.
PACKED_DEFLATE, PACKED_ZSTD = 1, 2
_PACK_MIN = 200  # characters: below this the frame header eats most of the saving
_codecs = threading.local()  # zstandard's (de)compressor objects must not be shared between threads


def _zstd() -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    found = getattr(_codecs, "zstd", None)
    if found is None:
        found = _codecs.zstd = (
            zstandard.ZstdCompressor(level=1, write_checksum=False),  # SQLite already guards its pages
            zstandard.ZstdDecompressor(),
        )
    return found


def pack_io(text: Any) -> Any:
    """The stored form of an input/output text: compressed bytes when that is smaller, else the value."""
    if not isinstance(text, str) or len(text) < _PACK_MIN:
        return text
    raw = text.encode("utf-8", "surrogatepass")
    packed = _zstd()[0].compress(raw)
    if len(packed) + 1 >= len(raw):
        return text
    return bytes((PACKED_ZSTD,)) + packed


def unpack_io(value: str | bytes | None) -> str | None:
    """The text of a stored input/output, whichever form it was stored in."""
    if value is None or isinstance(value, str):
        return value
    kind = value[:1]
    if kind == bytes((PACKED_ZSTD,)):
        raw = _zstd()[1].decompress(value[1:])
    elif kind == bytes((PACKED_DEFLATE,)):
        raw = zlib.decompress(value[1:], -zlib.MAX_WBITS)
    else:  # a BLOB some other writer stored as is: shown as text, never an error on read
        return bytes(value).decode("utf-8", "replace")
    return raw.decode("utf-8", "surrogatepass")


def parse_lenient(text: str | bytes | None) -> Any:
    """JSON-decode when the text is JSON, else return it unchanged (how stored I/O is returned)."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = unpack_io(text) or ""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def io_text(value: Any) -> str | None:
    """Store input/output: a string as is, anything else as JSON text."""
    if value is None or isinstance(value, str):
        return value
    return dumps(value)


def ns_to_iso(ns: int) -> str:
    """OTLP nanoseconds -> fixed-width ISO UTC with millisecond precision (sub-ms truncated)."""
    secs, rem = divmod(int(ns), 1_000_000_000)
    return f"{second_prefix(secs)}.{rem // 1_000_000:03d}000Z"


@functools.lru_cache(maxsize=4096)
def second_prefix(secs: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` of Unix seconds (UTC), cached."""
    # spans of one batch share a handful of seconds; formatting each second once is much cheaper
    return time.strftime(_ISO_FORMAT, time.gmtime(secs))


def dt_to_iso(value: datetime) -> str:
    """A datetime -> fixed-width ISO UTC (microseconds, trailing Z); sortable as text."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    return value.strftime(_ISO_FORMAT) + f".{value.microsecond:06d}Z"


def parse_iso(text: Any) -> str:
    """Normalise an ISO-8601 string to the stored form; raises ValueError on anything else."""
    if isinstance(text, datetime):
        return dt_to_iso(text)
    if not isinstance(text, str) or not text:
        raise ValueError(f"not an ISO-8601 datetime: {text!r}")
    try:
        return dt_to_iso(datetime.fromisoformat(_py310_iso(text.strip())))
    except OverflowError:  # e.g. year 1 with a positive offset: not representable in UTC
        raise ValueError(f"ISO-8601 datetime out of range: {text!r}") from None


def _py310_iso(text: str) -> str:
    # fromisoformat before 3.11 rejects 'Z' and odd fraction widths; normalise both
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$", text)
    if match:
        text = f"{match.group(1)}.{match.group(2)[:6].ljust(6, '0')}{match.group(3)}"
    return text


def iso_to_seconds(text: str | None) -> float | None:
    if text is None:
        return None
    if len(text) == 27 and text[-1] == "Z":  # the stored fixed-width form: skip normalisation
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc).timestamp()
    return datetime.fromisoformat(_py310_iso(text)).timestamp()


def now_iso() -> str:
    return dt_to_iso(datetime.now(timezone.utc))


def new_id() -> str:
    return str(uuid.uuid4())


def is_safe_id(value: Any) -> bool:
    """A user-chosen key: 1-500 printable characters (it is only ever a bound SQL parameter)."""
    return isinstance(value, str) and 0 < len(value) <= 500 and value.isprintable()
