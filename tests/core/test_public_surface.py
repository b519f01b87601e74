"""Pin the public surface owned by the tracing core."""

from __future__ import annotations

import inspect
import subprocess
import sys

import langfuse_nb

CORE_NAMES = [
    "Langfuse", "get_client", "observe", "propagate_attributes", "ObservationTypeLiteral", "LangfuseSpan",
    "LangfuseGeneration", "LangfuseEvent", "LangfuseOtelSpanAttributes", "LangfuseAgent", "LangfuseTool",
    "LangfuseChain", "LangfuseEmbedding", "LangfuseEvaluator", "LangfuseRetriever", "LangfuseGuardrail",
]
CLIENT_METHODS = [
    "start_span", "start_as_current_span", "start_observation", "start_as_current_observation",
    "start_generation", "start_as_current_generation", "create_event", "update_current_generation",
    "update_current_span", "update_current_trace", "get_current_trace_id", "get_current_observation_id",
    "create_trace_id", "get_trace_url", "auth_check", "flush", "shutdown", "create_score",
    "score_current_span", "score_current_trace",
]


def test_core_names_importable() -> None:
    assert set(CORE_NAMES) <= set(langfuse_nb.__all__)
    for name in CORE_NAMES:
        assert getattr(langfuse_nb, name) is not None


def test_client_methods_match_reference_signatures() -> None:
    reference = __import__("pytest").importorskip("langfuse")
    for name in CLIENT_METHODS:
        ours = inspect.signature(getattr(langfuse_nb.Langfuse, name))
        ref = inspect.signature(getattr(reference.Langfuse, name))
        ref_params = {p: v for p, v in ref.parameters.items()}
        for pname, p in ref_params.items():
            assert pname in ours.parameters, f"{name}: missing {pname}"
            assert ours.parameters[pname].default == p.default, f"{name}.{pname}"


def test_constructor_arguments_match_reference() -> None:
    reference = __import__("pytest").importorskip("langfuse")
    ours = inspect.signature(langfuse_nb.Langfuse.__init__).parameters
    ref = inspect.signature(reference.Langfuse.__init__).parameters
    assert list(ours) == list(ref)
    for name, p in ref.items():
        assert ours[name].default == p.default, name


def test_span_methods_match_reference() -> None:
    reference = __import__("pytest").importorskip("langfuse")
    for cls in ("LangfuseSpan", "LangfuseGeneration", "LangfuseEvent"):
        ref_cls, our_cls = getattr(reference, cls), getattr(langfuse_nb, cls)
        for name in ("update", "update_trace", "score", "score_trace", "end", "start_observation",
                     "start_as_current_observation", "start_span", "start_generation", "create_event"):
            if not hasattr(ref_cls, name):
                continue
            ref_params = inspect.signature(getattr(ref_cls, name)).parameters
            ours = inspect.signature(getattr(our_cls, name)).parameters
            missing = set(ref_params) - set(ours) - {"kwargs"}
            assert not missing, f"{cls}.{name}: {missing}"


def test_import_is_light() -> None:
    code = ("import sys, langfuse_nb; from langfuse_nb import Langfuse, observe; "
            "print(any(m in sys.modules for m in ('pandas', 'ipywidgets', 'IPython')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_observation_ids_match_the_reference() -> None:
    import re

    import langfuse

    from langfuse_nb import Langfuse

    ref = langfuse.Langfuse._create_observation_id
    assert Langfuse._create_observation_id(seed="item-1") == ref(None, seed="item-1")  # type: ignore[arg-type]
    assert Langfuse.create_observation_id(seed="item-1") == ref(None, seed="item-1")  # type: ignore[arg-type]
    assert re.fullmatch(r"[0-9a-f]{16}", Langfuse.create_observation_id())
