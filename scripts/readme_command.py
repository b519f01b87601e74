#!/usr/bin/env python3
"""Print one of README.md's two set-up commands, so CI runs exactly what a reader types.

    python3 scripts/readme_command.py main    # the main job (fresh install + demo)
    python3 scripts/readme_command.py test    # the test command

The command is the ```bash block right after the line ``<!-- ci: main-command -->`` (or ``test-command``).
"""

from __future__ import annotations

import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
MARKERS = {"main": "<!-- ci: main-command -->", "test": "<!-- ci: test-command -->"}


def readme_command(which: str, text: str | None = None) -> str:
    """The body of the fenced block after the marker, as one line of shell."""
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    marker = MARKERS[which]
    if marker not in (line.strip() for line in lines):
        raise LookupError(f"README.md has no {marker} line")
    start = [line.strip() for line in lines].index(marker) + 1
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines) or not lines[start].startswith("```"):
        raise LookupError(f"README.md: {marker} is not followed by a fenced block")
    body: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("```"):
            break
        body.append(line.strip())
    command = " ".join(part for part in body if part)
    if not command:
        raise LookupError(f"README.md: the block after {marker} is empty")
    return command


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in MARKERS:
        print(f"usage: {Path(__file__).name} {{{'|'.join(MARKERS)}}}", file=sys.stderr)
        return 2
    try:
        print(readme_command(argv[0]))
    except LookupError as exc:
        print(f"readme_command: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
