"""What langfuse_nb imports (read with ast), and which installed distribution provides each import."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "langfuse_nb"
_OPTIONAL_ERRORS = {"ImportError", "ModuleNotFoundError"}


@dataclass(frozen=True)
class Import:
    module: str  # dotted name as written
    where: str  # file:line
    optional: bool  # inside ``try: ... except ImportError``: the code copes when it is missing


def normalize(name: str) -> str:
    """PEP 503 project name: case and runs of ``-_.`` do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(kind, ast.Name) and kind.id in _OPTIONAL_ERRORS for kind in kinds)


def _optional_nodes(tree: ast.AST) -> set[int]:
    """ids of import nodes directly guarded by an ``except ImportError``."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            for stmt in node.body:
                guarded.update(
                    id(sub) for sub in ast.walk(stmt) if isinstance(sub, ast.Import | ast.ImportFrom)
                )
    return guarded


def third_party_imports(root: Path = PACKAGE) -> list[Import]:
    """Every absolute import of a module outside the standard library and langfuse_nb itself."""
    found: list[Import] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        optional = _optional_nodes(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # the name may be a submodule: ``from opentelemetry import trace`` is opentelemetry-api
                modules = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top != "langfuse_nb":
                    where = f"{path.relative_to(root.parent)}:{node.lineno}"
                    found.append(Import(module, where, id(node) in optional))
    return found


@cache
def _files_of(distribution: str) -> frozenset[str]:
    return frozenset(str(file) for file in metadata.distribution(distribution).files or ())


@cache
def _top_level_owners() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())  # scans every installed distribution: once


@cache
def distribution_of(module: str) -> str | None:
    """The installed distribution providing ``module`` (namespace packages resolved by their files)."""
    candidates = _top_level_owners().get(module.split(".")[0], [])
    if len(set(candidates)) <= 1:
        return normalize(candidates[0]) if candidates else None
    parts = module.split(".")
    for size in range(len(parts), 1, -1):  # the longest prefix that one distribution owns
        prefix = "/".join(parts[:size])
        owners = {
            normalize(dist)
            for dist in candidates
            if any(f.startswith(prefix + "/") or f == prefix + ".py" for f in _files_of(dist))
        }
        if len(owners) == 1:
            return owners.pop()
    return None


def requirement_name(requirement: str) -> str:
    """``"uvicorn[standard]>=0.29; python_version<'3.12'"`` -> ``"uvicorn"`` (normalized)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return normalize(match.group(1))
