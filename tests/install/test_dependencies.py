"""Dependencies are honest: what langfuse_nb imports is declared in pyproject.toml, and nothing more.

Runtime imports must be runtime dependencies; an import the code guards with ``except ImportError`` that is
not a runtime dependency must be installable through an extra; every runtime dependency must be imported
somewhere (or be listed below with the reason it is needed without an import).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.install.imports import distribution_of, normalize, requirement_name, third_party_imports

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+ (tomllib)")

ROOT = Path(__file__).resolve().parents[2]
# needed at runtime without an import statement of ours
USED_WITHOUT_IMPORT = {
    "httptools": "uvicorn's HTTP parser: uvicorn picks it (http='auto') when installed, else slower h11",
}


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def _runtime() -> set[str]:
    return {requirement_name(req) for req in _project()["dependencies"]}


def _extras() -> dict[str, set[str]]:
    groups = _project().get("optional-dependencies", {})
    return {extra: {requirement_name(req) for req in reqs} for extra, reqs in groups.items()}


def _imports_by_distribution(optional: bool) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for imp in third_party_imports():
        if imp.optional == optional:
            dist = distribution_of(imp.module)
            if dist is None and optional:  # an extra that is not installed: its project name, by convention
                dist = normalize(imp.module.split(".")[0])
            found[dist or f"<no installed distribution provides {imp.module}>"].append(imp.where)
    return found


def test_every_runtime_import_is_a_declared_dependency() -> None:
    missing = {
        dist: where for dist, where in _imports_by_distribution(False).items() if dist not in _runtime()
    }
    assert not missing, f"imported but not in [project].dependencies: {missing}"


def test_every_declared_dependency_is_imported() -> None:
    imported = set(_imports_by_distribution(False)) | set(_imports_by_distribution(True))
    unused = _runtime() - imported - set(USED_WITHOUT_IMPORT)
    assert not unused, f"in [project].dependencies but never imported by langfuse_nb: {sorted(unused)}"
    stale = {name for name in USED_WITHOUT_IMPORT if name not in _runtime()}
    assert not stale, f"USED_WITHOUT_IMPORT lists packages that are not dependencies: {stale}"


def test_optional_imports_are_in_an_extra() -> None:
    """A guarded import of something that is not a runtime dependency must have an extra that installs it."""
    in_extras = set().union(*(deps for extra, deps in _extras().items() if extra not in ("test", "docs")))
    optional = _imports_by_distribution(True)
    undeclared = {d: where for d, where in optional.items() if d not in in_extras and d not in _runtime()}
    assert not undeclared, f"optional imports with no extra to install them: {undeclared}"


def test_nest_asyncio_is_not_a_runtime_dependency() -> None:
    """Loops are driven by langfuse_nb.sdk.aio.run_sync; nest_asyncio only appears in a coexistence test."""
    assert "nest-asyncio" not in _runtime()
    assert not [imp for imp in third_party_imports() if imp.module.startswith("nest_asyncio")]


def test_the_resolver_sees_namespace_packages_per_distribution() -> None:
    assert distribution_of("opentelemetry.sdk.trace") == "opentelemetry-sdk"
    assert distribution_of("opentelemetry.trace") == "opentelemetry-api"
    assert distribution_of("google.protobuf.message") == "protobuf"
    assert normalize("Typing_Extensions") == "typing-extensions"


def test_license_file_matches_the_declared_license() -> None:
    assert _project()["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "langfuse_nb authors" in text
