"""Pure prompt-template functions: variable discovery, compilation, LangChain conversion.

Semantics follow the reference SDK (DEVIATIONS K6): a variable is the text between the first ``{{`` and
the next ``}}``, stripped of surrounding whitespace; unknown variables stay as written; substituted
values are never re-scanned; ``None`` becomes the empty string.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

# Non-greedy up to the first closing braces: the same span the reference finds with str.find.
_VARIABLE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_LANGCHAIN_VARIABLE = re.compile(r"{{\s*(\w+)\s*}}")
# Pairs first, so "{{" is consumed as one token exactly as a left-to-right scan would.
_BRACE = re.compile(r"\{\{|\}\}|\{|\}")
_NON_SPACE = re.compile(r"\S")


def find_variables(template: str) -> list[str]:
    """Names of the ``{{ variable }}`` slots in ``template``, in order (duplicates kept)."""
    if "{{" not in template:
        return []
    return [name.strip() for name in _VARIABLE.findall(template)]


def compile_template(template: str, variables: Mapping[str, Any] | None) -> str:
    """Fill ``{{ name }}`` slots from ``variables``; unknown names are left untouched."""
    if not variables or "{{" not in template:
        return template
    head, slots = _parse(template)
    out = [head]
    for name, written, literal in slots:
        if name in variables:
            value = variables[name]
            out.append("" if value is None else str(value))
        else:
            out.append(written)
        out.append(literal)
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _parse(template: str) -> tuple[str, tuple[tuple[str, str, str], ...]]:
    """The template split once: the text before the first slot, then per slot (stripped name, the slot
    as written, the text up to the next slot).

    A prompt is compiled many times with the same template (the cached prompt client's text), so the
    scan is paid once, not per call (a regex callback per slot made compile() twice the reference's time).
    """
    # str.find, not a regex: a first compile() of a template costs the split, so it is kept cheap too.
    # The same spans as _VARIABLE finds: the first "{{", then the first "}}" after it.
    start = template.find("{{")
    end = template.find("}}", start + 2) if start >= 0 else -1
    if end < 0:
        return template, ()
    head = template[:start]
    slots: list[tuple[str, str, str]] = []
    while end >= 0:
        after = end + 2
        name, written = template[start + 2 : end].strip(), template[start:after]
        start = template.find("{{", after)
        end = template.find("}}", start + 2) if start >= 0 else -1
        slots.append((name, written, template[after:start] if end >= 0 else template[after:]))
    return head, tuple(slots)


def to_langchain_template(template: str) -> str:
    """Turn ``{{var}}`` into LangChain's ``{var}`` after doubling braces that belong to JSON literals."""
    return _LANGCHAIN_VARIABLE.sub(r"{\g<1>}", escape_json_braces(template))


def escape_json_braces(text: str) -> str:
    """Double every single brace that opens (or closes) a JSON object; ``{{``/``}}`` pairs are kept.

    A ``{`` belongs to JSON when the next non-space character is a quote; its matching ``}`` is
    doubled with it, tracked by a stack of open braces.
    """
    if "{" not in text and "}" not in text:
        return text
    out: list[str] = []
    open_is_json: list[bool] = []
    last = 0
    for match in _BRACE.finditer(text):
        start, token = match.start(), match.group(0)
        out.append(text[last:start])
        last = match.end()
        if len(token) == 2:  # an existing template brace pair passes through
            out.append(token)
        elif token == "{":
            is_json = _next_non_space(text, last) in ("'", '"')
            open_is_json.append(is_json)
            out.append("{{" if is_json else "{")
        else:
            is_json = open_is_json.pop() if open_is_json else False
            out.append("}}" if is_json else "}")
    out.append(text[last:])
    return "".join(out)


def _next_non_space(text: str, start: int) -> str:
    match = _NON_SPACE.search(text, start)
    return match.group(0) if match else ""


class TemplateParser:
    """The template functions under the names ``langfuse.model.TemplateParser`` offers."""

    @staticmethod
    def find_variable_names(content: str) -> list[str]:
        """Names of the ``{{ variable }}`` slots in ``content``, in order."""
        return find_variables(content)

    @staticmethod
    def compile_template(content: str, data: Mapping[str, Any] | None = None) -> str:
        """``content`` with the slots named in ``data`` filled in (others left as written)."""
        return compile_template(content, data)
