"""compile() splits a template once and reuses the split; results are those of a plain left-to-right scan."""

from __future__ import annotations

import random
import re
from typing import Any

from langfuse.model import TemplateParser as ReferenceParser

from langfuse_nb.sdk.prompts import compile as compile_module
from langfuse_nb.sdk.prompts.compile import compile_template

_SLOT = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def _scan(template: str, variables: dict[str, Any]) -> str:
    """The rule (DEVIATIONS K6) written the slow, obvious way: each slot substituted as it is found."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name not in variables:
            return match.group(0)
        return "" if variables[name] is None else str(variables[name])

    return _SLOT.sub(substitute, template)


def test_random_templates_compile_as_the_scan_does() -> None:
    rng = random.Random(15)
    pieces = ["{{", "}}", "{", "}", " ", "a", "b", "x y", "\n", "{{a}}", "{{ b }}", "{{c}}", "é"]
    values: dict[str, Any] = {"a": "A", "b": 2, "x y": None, "c": "{{a}}"}
    for _ in range(3000):
        template = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert compile_template(template, values) == _scan(template, values), template


def test_same_as_the_reference_for_ordinary_templates() -> None:
    template = "You are {{persona}}. Answer {{question}} in {{ language }}; {{unknown}} stays. " * 3
    values = {"persona": "a pirate", "question": "why?", "language": "English"}
    assert compile_template(template, values) == ReferenceParser.compile_template(template, values)


def test_a_template_is_split_once() -> None:
    template = "Hello {{name}}, unique text for this test: 7f3a"
    before = compile_module._parse.cache_info()
    for name in ("a", "b", "c"):
        assert compile_template(template, {"name": name}) == f"Hello {name}, unique text for this test: 7f3a"
    after = compile_module._parse.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)
