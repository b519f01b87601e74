"""Pure ``key=value`` argument parsing for the magics (declared once, also used to generate help)."""

from __future__ import annotations

import ast
import json
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
    example: str = ""  # shown with a bad value, e.g. 'metadata={"step": 2}'


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
    """``a,b`` or a JSON array ``["a", "b"]``."""
    if value.startswith("["):
        parsed = _structured(value)
        if not isinstance(parsed, list):
            raise ValueError("expected a list")
        return [str(item) for item in parsed]
    return [item.strip() for item in value.split(",") if item.strip()]


def _structured(value: str) -> Any:
    """JSON, or failing that a Python literal (people paste ``{'k': 1}`` too)."""
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        error = f"not valid JSON ({exc.msg} at column {exc.colno})"
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise ValueError(error) from None


def json_object(value: str) -> dict[str, Any]:
    parsed = _structured(value)
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed


_QUOTES = "'\""
_OPEN = {"{": "}", "[": "]"}


class _Scanner:
    """Splits a magic line into tokens the way people type them.

    Shell-like quoting (``name='two words'``) plus JSON typed as JSON: a value that starts with ``{`` or
    ``[`` runs to its matching bracket, spaces and quotes inside kept verbatim, so
    ``metadata={"notebook": "quick start", "step": 2}`` is one token.
    """

    def __init__(self, line: str) -> None:
        self.line = line
        self.pos = 0

    def tokens(self) -> list[str]:
        found: list[str] = []
        while True:
            while self.pos < len(self.line) and self.line[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(self.line):
                return found
            found.append(self._token())

    def _token(self) -> str:
        parts: list[str] = []
        at_value = True  # a bracket opens JSON only at the start of a token or right after "="
        while self.pos < len(self.line) and not self.line[self.pos].isspace():
            char = self.line[self.pos]
            if char in _QUOTES:
                parts.append(self._quoted(char))
            elif char in _OPEN and at_value:
                parts.append(self._bracketed())
            elif char == "\\" and self.pos + 1 < len(self.line):
                parts.append(self.line[self.pos + 1])
                self.pos += 2
            else:
                parts.append(char)
                self.pos += 1
            at_value = char == "="
        return "".join(parts)

    def _quoted(self, quote: str) -> str:
        end = self.line.find(quote, self.pos + 1)
        while quote == '"' and end > 0 and self.line[end - 1] == "\\":
            end = self.line.find(quote, end + 1)
        if end < 0:
            raise ArgumentError(f"cannot parse arguments: no closing quotation ({quote}) in {self.line!r}")
        text = self.line[self.pos + 1 : end]
        self.pos = end + 1
        return text.replace('\\"', '"') if quote == '"' else text

    def _bracketed(self) -> str:
        """From an opening bracket to its match, skipping brackets inside JSON strings."""
        start, depth, in_string = self.pos, 0, False
        while self.pos < len(self.line):
            char = self.line[self.pos]
            self.pos += 1
            if in_string:
                if char == "\\":
                    self.pos += 1
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char in "{[":
                depth += 1
            elif char in "}]":
                depth -= 1
                if depth == 0:
                    return self.line[start : self.pos]
        return self.line[start:]  # unbalanced: the converter names the problem


def _split(line: str) -> list[str]:
    return _Scanner(line).tokens()


def _convert(param: Param, raw: str) -> Any:
    try:
        return param.convert(raw)
    except ValueError as exc:
        hint = f" (example: {param.example})" if param.example else ""
        raise ArgumentError(f"bad value for {param.name}={raw!r}: {exc}{hint}") from None


def parse(line: str, params: Sequence[Param], *, positional: str | None = None) -> dict[str, Any]:
    """Parse ``key=value`` tokens (shell quoting, JSON as typed); one bare token may fill ``positional``."""
    table = {p.name: p for p in params}
    result: dict[str, Any] = {}
    for token in _split(line):
        key, sep, raw = token.partition("=")
        if not sep:
            key, raw = _positional(token, positional, result, params)
        param = table.get(key)
        if param is None:
            raise ArgumentError(f"unknown argument {key!r} (expected: {', '.join(table)}){_example(params)}")
        if key in result:
            raise ArgumentError(f"{key} given twice")
        result[key] = _convert(param, raw)
    return result


def _example(params: Sequence[Param]) -> str:
    first = next((p.example for p in params if p.example), "")
    return f"; e.g. {first}" if first else ""


def _positional(
    token: str, positional: str | None, seen: Mapping[str, Any], params: Sequence[Param]
) -> tuple[str, str]:
    if positional is None or positional in seen:
        raise ArgumentError(f"expected key=value, got {token!r}{_example(params)}")
    return positional, token


def describe(params: Sequence[Param]) -> str:
    """Help text for a docstring: one line per key."""
    width = max(len(p.name) for p in params)
    return "\n".join(f"    {p.name.ljust(width)}  {p.help}" for p in params)


TRACE_PARAMS: tuple[Param, ...] = (
    Param(
        "name",
        text,
        "observation and trace name (default: 'cell <execution count>')",
        "name=summarize or name='my step'",
    ),
    Param(
        "as_type",
        choice(*OBSERVATION_TYPES),
        "observation type: " + ", ".join(OBSERVATION_TYPES),
        "as_type=generation",
    ),
    Param("user_id", text, "trace user id", "user_id=alice"),
    Param("session_id", text, "trace session id (default: one session per kernel)", "session_id=s-1"),
    Param("tags", csv_list, 'trace tags: tags=a,b or tags=["a", "b"]', "tags=a,b"),
    Param(
        "metadata",
        json_object,
        'JSON object merged into the metadata, e.g. metadata={"step": 2, "notebook": "quickstart"}',
        'metadata={"step": 2}',
    ),
    Param("capture_output", boolean, "true|false: add captured stdout to the output", "capture_output=false"),
    Param("display", choice(*DISPLAY_MODES), "inline|link|none: what to show after the cell", "display=link"),
)

TRACES_PARAMS: tuple[Param, ...] = (
    Param("name", text, "only traces with this name", "name=hello"),
    Param("user_id", text, "only traces of this user", "user_id=alice"),
    Param("session_id", text, "only traces of this session", "session_id=s-1"),
    Param("tags", csv_list, "only traces with all these tags", "tags=a,b"),
    Param("limit", positive_int, "how many traces (default 20)", "limit=50"),
)

PROMPT_PARAMS: tuple[Param, ...] = (
    Param("name", text, "prompt name (may also be given first, without name=)", "%langfuse_prompt greeting"),
    Param("version", positive_int, "open this version", "version=2"),
    Param(
        "label", text, "open the version with this label (default: production, else latest)", "label=staging"
    ),
)
