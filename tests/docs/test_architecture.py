"""The layer table in docs/CONTRACTS.md is the rule: every import of ours between layers is listed there."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "langfuse_nb"
CONTRACTS = ROOT / "docs" / "CONTRACTS.md"


def allowed_imports(text: str) -> dict[str, set[str]]:
    """``| `a`, `b` | `x`, `y` |`` rows of the "module | may import" table."""
    table: dict[str, set[str]] = {}
    rows = text.split("| module | may import |", 1)[1].splitlines()[2:]
    for row in rows:
        if not row.startswith("|"):
            break
        modules, targets = (cell.strip() for cell in row.strip("|").split("|"))
        for module in re.findall(r"`([\w.]+)`", modules):
            table[module] = set(re.findall(r"`([\w.]+)`", targets))
    return table


def _layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def actual_imports() -> dict[str, dict[str, str]]:
    """layer -> {imported layer: first file:line}, for imports between different top-level modules."""
    edges: dict[str, dict[str, str]] = defaultdict(dict)
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _layer(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                parts = module.split(".")
                if parts[0] != "langfuse_nb":
                    continue
                target = parts[1] if len(parts) > 1 else "__init__"
                if target != source:
                    edges[source].setdefault(target, f"{path.relative_to(ROOT)}:{node.lineno}")
    return edges


def test_every_module_has_a_row_in_the_layer_table() -> None:
    table = allowed_imports(CONTRACTS.read_text())
    modules = {_layer(path) for path in PACKAGE.rglob("*.py")}
    missing = sorted(modules - set(table))
    assert not missing, f"add these to the layer table in docs/CONTRACTS.md: {missing}"


def test_imports_follow_the_layer_table() -> None:
    table = allowed_imports(CONTRACTS.read_text())
    wrong = {
        f"{source} -> {target}": where
        for source, targets in actual_imports().items()
        for target, where in targets.items()
        if target not in table.get(source, set())
    }
    assert not wrong, f"imports the layer table in docs/CONTRACTS.md does not allow: {wrong}"


def test_the_table_parser_reads_multi_module_rows() -> None:
    text = "| module | may import |\n|---|---|\n| `a`, `b` | `x` |\n| `c` | – |\n\nafter"
    assert allowed_imports(text) == {"a": {"x"}, "b": {"x"}, "c": set()}
