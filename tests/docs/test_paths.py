"""Every repository file that the docs or a code comment points at exists.

Paths are recognised by their first folder (``langfuse_nb/``, ``tests/``, ``docs/`` ...) or, inside the
package, as a module path such as ``api/_http.py``. Patterns (``*``, ``{a,b}``, ``<name>``) are not paths.
Code is read through comments and docstrings only: string literals are data, not pointers.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "langfuse_nb"
ROOTS = ("langfuse_nb", "tests", "docs", "benchmarks", "notebooks", "binder", "scripts", ".ci")
_ROOTED = re.compile(rf"(?<![\w/.~$-])((?:{'|'.join(re.escape(r) for r in ROOTS)})/[\w./-]*)")
_MODULE = re.compile(r"(?<![\w/.~$-])((?:[a-z_]+/)+[a-z_0-9]+\.py)\b")
_NOT_A_PATH = re.compile(r"[*{}<>]|\.\.\.")
# files the test suite or a tool creates when it runs; named in docs, absent from a clean clone
GENERATED = {"tests/artifacts", "benchmarks/results", "benchmarks/.venv-ref"}


def _candidates(text: str) -> set[str]:
    found = {m.group(1).rstrip(".,:;)'\"`") for m in _ROOTED.finditer(text)}
    found |= {m.group(1) for m in _MODULE.finditer(text)}
    return {path for path in found if path and not _NOT_A_PATH.search(path) and path.rstrip("/") not in ROOTS}


def _exists(path: str, near: Path) -> bool:
    if any(path.rstrip("/") == g or path.startswith(g + "/") for g in GENERATED):
        return True
    if any((base / path).exists() for base in (ROOT, PACKAGE, near.parent)):
        return True
    # a module path inside the package, named from the section that introduces its folder
    return path.endswith(".py") and any(PACKAGE.rglob(path))


def _python_prose(path: Path) -> str:
    """Comments and docstrings of a Python file."""
    source = path.read_text(encoding="utf-8")
    parts = [
        tok.string
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            parts.append(ast.get_docstring(node) or "")
    return "\n".join(parts)


def _ours(path: Path) -> bool:
    """Our files, not a virtualenv or cache that happens to live in the tree (benchmarks/.venv-ref)."""
    parts = path.relative_to(ROOT).parts
    return not any(part.startswith(".") or part in ("site-packages", "__pycache__") for part in parts)


def _sources() -> list[Path]:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    folders = ("langfuse_nb", "tests", "scripts", "benchmarks")
    code = [path for folder in folders for path in (ROOT / folder).rglob("*.py") if _ours(path)]
    return docs + sorted(code) + [ROOT / "scripts" / "check"]


@pytest.mark.parametrize("source", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_paths_named_in_docs_and_comments_exist(source: Path) -> None:
    text = _python_prose(source) if source.suffix == ".py" or source.name == "check" else source.read_text()
    missing = sorted(path for path in _candidates(text) if not _exists(path, source))
    assert not missing, f"{source.relative_to(ROOT)} names files that do not exist: {missing}"


def test_the_path_finder_sees_what_it_should() -> None:
    text = "see `langfuse_nb/sdk/aio.py`, tests/docs/, api/_http.py and docs/{a,b}.md or *.py, a/b"
    assert _candidates(text) == {"langfuse_nb/sdk/aio.py", "tests/docs/", "api/_http.py"}
    assert not _exists("langfuse_nb/nowhere.py", ROOT / "README.md")
