"""SQL of the package binds parameters positionally with plain ``?`` (or by ``:name`` with a mapping).

Numbered placeholders (``?1``) are named parameters to sqlite3: bound from a sequence they warn from Python
3.12 on and raise ``ProgrammingError`` from 3.14, so a statement that works on 3.11 would break there.
"""

from __future__ import annotations

import re
from pathlib import Path

import langfuse_nb

PACKAGE = Path(langfuse_nb.__file__).parent
# a ? followed by a digit inside a string literal of the source: how numbered placeholders are written
NUMBERED = re.compile(r"""["'][^"'\n]*\?\d[^"'\n]*["']""")


def test_no_numbered_sql_placeholders() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if NUMBERED.search(line)
    ]
    assert not found, "numbered SQL placeholders (use ?):\n" + "\n".join(found)
