"""JSON encoding of arbitrary user values, as the reference's event serializer does (plus F16)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import logging
import math
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import Any
from uuid import UUID

logger = logging.getLogger("langfuse_nb")
_MAX_SAFE_INT = 2**53 - 1
_PASSTHROUGH = (str, bool, type(None))
_MAX_DEPTH = 100
_UTC_NAME = dt.timezone.utc.tzname(None)


def _is_asyncio_queue(obj: Any) -> bool:
    # asyncio is only loaded if the user loaded it, so an asyncio.Queue can only exist then
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(obj, asyncio.Queue)


def serialize_datetime(value: dt.datetime) -> str:
    """ISO-8601; UTC as a trailing ``Z``, naive values taken as local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.datetime.now().astimezone().tzinfo)
    tzinfo = value.tzinfo
    if tzinfo is not None and tzinfo.tzname(None) == _UTC_NAME:
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def to_jsonable(obj: Any) -> Any:
    """Turn ``obj`` into plain JSON types; never raises."""
    return _Walker().convert(obj)


def dumps(obj: Any) -> str:
    """``json.dumps`` (default separators, ASCII escapes) of ``to_jsonable(obj)``; never raises."""
    cls = type(obj)
    if cls is int and -_MAX_SAFE_INT <= obj <= _MAX_SAFE_INT:
        return str(obj)  # what json.dumps gives, without building an encoder
    if cls is bool:
        return "true" if obj else "false"
    if cls is float and math.isfinite(obj):
        return float.__repr__(obj)
    try:
        # C encoder first; it defers unknown types to the walker. Non-finite floats, odd keys and
        # cycles raise; ints beyond 2**53 (sent as strings) are found by a fast pre-check.
        if not _has_unsafe_int(obj):
            return _FAST.encode(obj)
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        return json.dumps(_Walker().convert(obj))
    except Exception:
        return f'"<not serializable object of type: {type(obj).__name__}>"'


_FAST = json.JSONEncoder(allow_nan=False, default=lambda o: _Walker().convert(o))

try:  # orjson's strict-integer mode finds ints outside +-(2**53-1) at C speed
    import orjson

    _STRICT = orjson.OPT_STRICT_INTEGER | orjson.OPT_NON_STR_KEYS

    def _has_unsafe_int(obj: Any) -> bool:
        try:
            orjson.dumps(obj, option=_STRICT, default=_ignore)
            return False
        except orjson.JSONEncodeError:
            return True  # an unsafe int, or something orjson cannot walk: take the full walk

except ImportError:  # pragma: no cover - orjson is optional
    _LONG_DIGITS = re.compile(r"[0-9]{16}")

    def _has_unsafe_int(obj: Any) -> bool:
        return _LONG_DIGITS.search(json.dumps(obj, default=_ignore)) is not None


def _ignore(_: Any) -> None:
    return None


class _Walker:
    """One recursive conversion; ``seen`` breaks cycles through objects, a depth cap through containers."""

    __slots__ = ("seen", "depth")

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.depth = 0

    def convert(self, obj: Any) -> Any:
        cls = type(obj)
        if cls in _PASSTHROUGH:
            return obj
        if cls is int:
            return obj if -_MAX_SAFE_INT <= obj <= _MAX_SAFE_INT else str(obj)
        if cls is float:
            return obj if math.isfinite(obj) else ("NaN" if math.isnan(obj) else "Infinity")
        if cls is dict:
            return self._container(obj, self._dict)
        if cls is list or cls is tuple:
            return self._container(obj, self._list)
        try:
            return self._other(obj)
        except Exception:
            logger.debug("langfuse_nb: cannot serialize %s", cls.__name__, exc_info=True)
            return f'"<not serializable object of type: {cls.__name__}>"'

    def _nested(self, obj: Any, convert: Callable[[Any], Any]) -> Any:
        if self.depth >= _MAX_DEPTH:
            return type(obj).__name__  # a cycle through plain containers, or absurd nesting
        self.depth += 1
        try:
            return convert(obj)
        finally:
            self.depth -= 1

    def _container(self, obj: Any, convert: Callable[[Any], Any]) -> Any:
        key = id(obj)
        if key in self.seen:
            return type(obj).__name__  # circular reference
        self.seen.add(key)
        try:
            return self._nested(obj, convert)
        finally:
            self.seen.discard(key)

    def _dict(self, obj: dict[Any, Any]) -> dict[str, Any]:
        conv = self.convert
        out = {}
        for k, v in obj.items():
            out[k if type(k) is str else _key(k)] = conv(v)  # F16: non-string keys become str(key)
        return out

    def _list(self, obj: Sequence[Any]) -> list[Any]:
        conv = self.convert
        return [conv(v) for v in obj]

    def _other(self, obj: Any) -> Any:
        for check, handler in _HANDLERS:
            if check(obj):
                return handler(self, obj)
        return self._fallback(obj)

    def _fallback(self, obj: Any) -> Any:
        if isinstance(obj, Sequence):
            return self._container(obj, self._list)
        if hasattr(obj, "__slots__"):
            slots = obj.__slots__
            slots = (slots,) if isinstance(slots, str) else slots
            return self._container(obj, lambda o: self._dict({s: getattr(o, s, None) for s in slots}))
        if hasattr(obj, "__dict__"):
            return self._container(obj, lambda o: self._dict(dict(vars(o))))
        return f"<{type(obj).__name__}>"


def _key(value: Any) -> str:
    """Keys json.dumps accepts keep its spelling ("true", "1"); any other key is ``str(key)``."""
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)
    return str(value)


def _is_streaming(obj: Any) -> bool:
    return "Streaming" in type(obj).__name__


def _is_media(obj: Any) -> bool:
    return type(obj).__name__ == "LangfuseMedia" and hasattr(obj, "_reference_string")


def _media(_: _Walker, obj: Any) -> str:
    ref = getattr(obj, "_reference_string", None)
    return ref or f"<Upload handling failed for LangfuseMedia of type {getattr(obj, '_content_type', None)}>"


def _numpy(obj: Any) -> bool:
    mod = type(obj).__module__
    return mod == "numpy" and hasattr(obj, "tolist")


def _bytes(obj: bytes) -> str:
    try:
        return obj.decode("utf-8")
    except UnicodeDecodeError:
        return "<not serializable bytes>"


def _pydantic(walker: _Walker, obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None) or obj.dict
    return walker.convert(dump())


def _int(_: _Walker, obj: int) -> Any:
    value = int(obj)
    return value if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT else str(value)


def _is_pydantic(obj: Any) -> bool:
    return hasattr(type(obj), "model_fields") or hasattr(type(obj), "__fields__") and hasattr(obj, "dict")


# The SDK's own objects that hold the keys (F32). The reference walks their attributes, so a client or a
# span passed to (or returned from) a traced function put the secret key into the trace.
_CREDENTIAL_CARRIERS = frozenset(
    {
        ("langfuse_nb.sdk.client", "Langfuse"),
        ("langfuse_nb.sdk.observations", "LangfuseObservationWrapper"),
        ("langfuse_nb.sdk.starting", "ObservationContext"),
        ("langfuse_nb._settings", "Settings"),
        ("langfuse_nb.api.client", "LangfuseAPI"),
        ("langfuse_nb.api.client", "AsyncLangfuseAPI"),
    }
)
_SAFE_REPR = frozenset({"Langfuse", "LangfuseObservationWrapper"})  # reprs naming ids and the public key only


def _carries_credentials(obj: Any) -> bool:
    cls = type(obj)
    if not cls.__module__.startswith("langfuse_nb."):  # user objects: one string check
        return False
    return any((c.__module__, c.__qualname__) in _CREDENTIAL_CARRIERS for c in cls.__mro__)


def _credential_carrier(_: _Walker, obj: Any) -> str:
    """``<Langfuse public_key=... base_url=... enabled>``, ``<LangfuseSpan id=... trace_id=...>``, or just
    the type's name: never the secret key."""
    mro = type(obj).__mro__
    if any(c.__qualname__ in _SAFE_REPR and c.__module__.startswith("langfuse_nb.sdk.") for c in mro):
        return repr(obj)
    return f"<{type(obj).__name__}>"


# Order matters (it mirrors the reference): first match wins.
_HANDLERS: list[tuple[Callable[[Any], bool], Callable[[_Walker, Any], Any]]] = [
    (_carries_credentials, _credential_carrier),
    (lambda o: isinstance(o, dt.datetime), lambda w, o: serialize_datetime(o)),
    (_is_media, _media),
    (_numpy, lambda w, o: w.convert(o.tolist())),
    (lambda o: isinstance(o, float), lambda w, o: w.convert(float(o))),
    (lambda o: isinstance(o, BaseException), lambda w, o: f"{type(o).__name__}: {o}"),
    (_is_streaming, lambda w, o: str(o)),
    (lambda o: isinstance(o, enum.Enum), lambda w, o: w.convert(o.value)),
    (_is_asyncio_queue, lambda w, o: type(o).__name__),
    (
        lambda o: dataclasses.is_dataclass(o) and not isinstance(o, type),
        lambda w, o: w._container(o, lambda x: w.convert(dataclasses.asdict(x))),
    ),
    (lambda o: isinstance(o, UUID), lambda w, o: str(o)),
    (lambda o: isinstance(o, (bytes, bytearray)), lambda w, o: _bytes(bytes(o))),
    (lambda o: isinstance(o, dt.date), lambda w, o: o.isoformat()),
    # F16: exact decimal text, ISO time, timedelta as seconds
    (lambda o: isinstance(o, decimal.Decimal), lambda w, o: str(o)),
    (lambda o: isinstance(o, dt.time), lambda w, o: o.isoformat()),
    (lambda o: isinstance(o, dt.timedelta), lambda w, o: o.total_seconds()),
    (_is_pydantic, _pydantic),
    (lambda o: isinstance(o, PurePath), lambda w, o: str(o)),
    (
        lambda o: hasattr(o, "to_json") and type(o).__name__ != "type" and _is_langchain(o),
        lambda w, o: w.convert(o.to_json()),
    ),
    (lambda o: isinstance(o, int), _int),
    (lambda o: isinstance(o, str), lambda w, o: str(o)),
    (lambda o: isinstance(o, (tuple, set, frozenset)), lambda w, o: w._container(o, w._list)),
    (lambda o: isinstance(o, dict), lambda w, o: w._container(o, w._dict)),
]


def _is_langchain(obj: Any) -> bool:
    mro = type(obj).__mro__
    return any(c.__name__ == "Serializable" and c.__module__.startswith("langchain") for c in mro)
