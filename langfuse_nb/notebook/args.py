"""Pure ``key=value`` argument parsing for the magics (declared once, also used to generate help)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

OBSERVATION_TYPES = (
    "span",
    "generation",
    "event",
    "agent",
    "tool",
    "chain",
    "retriever",
    "evaluator",
    "embedding",
    "guardrail",
)
DISPLAY_MODES = ("inline", "link", "none")


class ArgumentError(ValueError):
    """A magic line that cannot be parsed; the message is one line naming the problem."""


@dataclass(frozen=True)
class Param:
    """One accepted key: how to convert its text and what to say about it in help."""

    name: str
    convert: Callable[[str], Any]
    help: str


def text(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be a positive integer")
    return number


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    raise ValueError("expected true or false")


def choice(*options: str) -> Callable[[str], str]:
    def convert(value: str) -> str:
        if value not in options:
            raise ValueError("expected one of " + ", ".join(options))
        return value

    return convert


def csv_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def json_object(value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:  # e.g. an unclosed quote
        raise ArgumentError(f"cannot parse arguments: {exc}") from None


def _convert(param: Param, raw: str) -> Any:
    try:
        return param.convert(raw)
    except ValueError as exc:
        raise ArgumentError(f"bad value for {param.name}={raw!r}: {exc}") from None


def parse(line: str, params: Sequence[Param], *, positional: str | None = None) -> dict[str, Any]:
    """Parse ``key=value`` tokens (quoted with shell rules); at most one bare token fills ``positional``."""
    table = {p.name: p for p in params}
    result: dict[str, Any] = {}
    for token in _split(line):
        key, sep, raw = token.partition("=")
        if not sep:
            key, raw = _positional(token, positional, result)
        param = table.get(key)
        if param is None:
            raise ArgumentError(f"unknown argument {key!r} (expected: {', '.join(table)})")
        if key in result:
            raise ArgumentError(f"{key} given twice")
        result[key] = _convert(param, raw)
    return result


def _positional(token: str, positional: str | None, seen: Mapping[str, Any]) -> tuple[str, str]:
    if positional is None or positional in seen:
        raise ArgumentError(f"expected key=value, got {token!r}")
    return positional, token


def describe(params: Sequence[Param]) -> str:
    """Help text for a docstring: one line per key."""
    width = max(len(p.name) for p in params)
    return "\n".join(f"    {p.name.ljust(width)}  {p.help}" for p in params)


TRACE_PARAMS: tuple[Param, ...] = (
    Param("name", text, "observation and trace name (default: 'cell <execution count>')"),
    Param("as_type", choice(*OBSERVATION_TYPES), "observation type: " + ", ".join(OBSERVATION_TYPES)),
    Param("user_id", text, "trace user id"),
    Param("session_id", text, "trace session id (default: one session per kernel)"),
    Param("tags", csv_list, "comma-separated trace tags, e.g. tags=a,b"),
    Param("metadata", json_object, "JSON object merged into the metadata, e.g. metadata='{\"k\": 1}'"),
    Param("capture_output", boolean, "true|false: add captured stdout to the output"),
    Param("display", choice(*DISPLAY_MODES), "inline|link|none: what to show after the cell"),
)

TRACES_PARAMS: tuple[Param, ...] = (
    Param("name", text, "only traces with this name"),
    Param("user_id", text, "only traces of this user"),
    Param("session_id", text, "only traces of this session"),
    Param("tags", csv_list, "only traces with all these tags"),
    Param("limit", positive_int, "how many traces (default 20)"),
)

PROMPT_PARAMS: tuple[Param, ...] = (
    Param("name", text, "prompt name (may also be given first, without name=)"),
    Param("version", positive_int, "open this version"),
    Param("label", text, "open the version with this label (default: production, else latest)"),
)
