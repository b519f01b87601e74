"""`langfuse_nb.wire.models` loads one submodule per name on first use, and still serves every name."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import langfuse_nb.wire.models as models

_SUBMODULES = sorted(models._MODULE_NAMES)


def _fresh(code: str) -> dict[str, list[str]]:
    """Run ``code`` in a new interpreter; it prints a JSON object."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_table_lists_each_submodules_names() -> None:
    served: set[str] = set()
    for name in _SUBMODULES:
        module = importlib.import_module(f"langfuse_nb.wire.models.{name}")
        assert set(models._MODULE_NAMES[name]) <= set(module.__all__), name
        served |= set(module.__all__)
    assert set(models.__all__) == served  # no public name of any submodule is missing


def test_every_name_resolves_to_its_defining_module() -> None:
    for name in models.__all__:
        value = getattr(models, name)
        owner = importlib.import_module(f"langfuse_nb.wire.models.{models._OWNER[name]}")
        assert value is getattr(owner, name), name


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        models.NoSuchModel  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchModel" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_prompt_loads_only_what_it_needs() -> None:
    loaded = _fresh(
        "import json, sys\n"
        "from langfuse_nb.wire.models import Prompt\n"
        "mods = sorted(m for m in sys.modules if m.startswith('langfuse_nb.wire.models.'))\n"
        "print(json.dumps({'mods': mods}))"
    )["mods"]
    assert "langfuse_nb.wire.models.prompts" in loaded
    assert "langfuse_nb.wire.models.ingestion" not in loaded
    assert "langfuse_nb.wire.models.scores" not in loaded


def test_api_package_reexports_models_lazily() -> None:
    got = _fresh(
        "import json, sys\n"
        "import langfuse_nb.api as api\n"
        "from langfuse_nb.api import Prompt_Text, TraceWithFullDetails\n"
        "from langfuse_nb.api import *\n"
        "print(json.dumps({'mods': [Prompt_Text.__module__, TraceWithFullDetails.__module__,"
        " str('ScoreBody' in dir()), str('Prompt_Chat' in dir())]}))"
    )["mods"]
    assert got == ["langfuse_nb.wire.models.prompts", "langfuse_nb.wire.models.trace", "True", "True"]


def test_submodule_attribute_still_works() -> None:
    assert models.scores.ScoreDataType is models.ScoreDataType  # type: ignore[attr-defined]
