"""The public surface: resource/method/keyword names as the reference ``langfuse.api``; cheap imports."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import langfuse_nb.api as ours
from langfuse_nb.api import AsyncLangfuseAPI, LangfuseAPI
from langfuse_nb.api.resources import RESOURCES

client_mod = pytest.importorskip("langfuse.api.client")

# reference names that belong to resources outside our scope (comments, models)
OUT_OF_SCOPE = {
    "Comment",
    "CommentObjectType",
    "MapValue",
    "Model",
    "ModelPrice",
    "PricingTier",
    "PricingTierCondition",
    "PricingTierInput",
    "PricingTierOperator",
    "pagination",
}
REFERENCE_MODULES = [
    "commons",
    "health",
    "projects",
    "trace",
    "observations",
    "score",
    "score_v_2",
    "sessions",
    "prompts",
    "prompt_version",
    "datasets",
    "dataset_items",
    "dataset_run_items",
    "media",
    "ingestion",
    "utils",
]


def _public_methods(obj: object) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(getattr(obj, name)) for name in dir(obj) if not name.startswith("_")}


def _shape(signature: inspect.Signature) -> list[tuple[str, object, bool]]:
    return [(p.name, p.kind, p.default is inspect.Parameter.empty) for p in signature.parameters.values()]


@pytest.mark.reference
@pytest.mark.parametrize("async_", [False, True], ids=["sync", "async"])
def test_resources_methods_and_parameters_match_reference(async_: bool) -> None:
    ref_cls = client_mod.AsyncFernLangfuse if async_ else client_mod.FernLangfuse
    reference = ref_cls(base_url="http://x", username="u", password="p")
    mine = (AsyncLangfuseAPI if async_ else LangfuseAPI)(base_url="http://x", username="u", password="p")
    for resource in RESOURCES:
        theirs = _public_methods(getattr(reference, resource))
        own = _public_methods(getattr(mine, resource))
        assert set(own) == set(theirs), resource
        for method, signature in theirs.items():
            assert _shape(own[method]) == _shape(signature), f"{resource}.{method}"
            if async_:
                assert inspect.iscoroutinefunction(getattr(getattr(mine, resource), method))


def test_signatures_show_response_types() -> None:
    api = LangfuseAPI(base_url="http://x")
    assert inspect.signature(api.prompts.get).return_annotation == "Prompt"
    assert inspect.signature(api.trace.list).return_annotation == "Traces"
    assert api.prompts.get.__doc__


@pytest.mark.reference
def test_exports_the_reference_model_and_error_names() -> None:
    wanted = set()
    for module in REFERENCE_MODULES:
        wanted |= set(getattr(importlib.import_module(f"langfuse.api.resources.{module}"), "__all__", []))
    missing = sorted(name for name in wanted - OUT_OF_SCOPE if not hasattr(ours, name))
    assert missing == []
    assert set(ours.__all__) >= (wanted - OUT_OF_SCOPE)


def test_all_is_resolvable_and_pinned_core_names() -> None:
    assert all(hasattr(ours, name) for name in ours.__all__)
    for name in [
        "LangfuseAPI",
        "AsyncLangfuseAPI",
        "RequestOptions",
        "ApiError",
        "NotFoundError",
        "Prompt_Text",
        "Prompt_Chat",
        "DatasetItem",
        "DatasetStatus",
        "TraceWithFullDetails",
        "ObservationsView",
        "ScoreDataType",
        "MediaContentType",
        "IngestionResponse",
        "MetaResponse",
    ]:
        assert name in ours.__all__


def _imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_imports_stay_light() -> None:
    modules = _imported_after("import langfuse_nb.api")
    heavy = {"fastapi", "uvicorn", "opentelemetry", "pandas", "IPython", "ipywidgets", "langfuse"}
    assert {m.split(".")[0] for m in modules} & heavy == set()
    assert "langfuse_nb.api" not in _imported_after("import langfuse_nb")
