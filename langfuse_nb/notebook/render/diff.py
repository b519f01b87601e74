"""Pure side-by-side line diff of two texts (used to compare prompt versions)."""

from __future__ import annotations

from difflib import SequenceMatcher
from itertools import zip_longest

from langfuse_nb.views.html import esc, page, tag

_CLASS = {"replace": "lfnb-chg", "delete": "lfnb-del", "insert": "lfnb-add", "equal": ""}


def _cell(line: str | None, cls: str) -> str:
    if line is None:
        return "<td></td>"
    return f'<td class="{cls}">{esc(line)}</td>' if cls else f"<td>{esc(line)}</td>"


def diff_rows(left: str, right: str) -> list[tuple[str, str | None, str | None]]:
    """(kind, left line, right line) per displayed row; kind is an opcode of SequenceMatcher."""
    a, b = left.splitlines(), right.splitlines()
    rows: list[tuple[str, str | None, str | None]] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        rows.extend((op, x, y) for x, y in zip_longest(a[i1:i2], b[j1:j2]))
    return rows


def render_diff(left: str, right: str, left_title: str, right_title: str) -> str:
    rows = diff_rows(left, right)
    body = "".join("<tr>" + _cell(x, _CLASS[op]) + _cell(y, _CLASS[op]) + "</tr>" for op, x, y in rows)
    same = (
        ""
        if any(op != "equal" for op, _, _ in rows)
        else tag("div", "The two versions are identical.", "lfnb-dim")
    )
    head = f"<thead><tr><th>{esc(left_title)}</th><th>{esc(right_title)}</th></tr></thead>"
    return page(same + f'<table class="lfnb-table lfnb-diff">{head}<tbody>{body}</tbody></table>')
