"""Pin the public surface owned by the tracing core."""

from __future__ import annotations

import inspect
import subprocess
import sys
from typing import Any

import pytest

import langfuse_nb

CORE_NAMES = [
    "Langfuse",
    "get_client",
    "observe",
    "propagate_attributes",
    "ObservationTypeLiteral",
    "LangfuseSpan",
    "LangfuseGeneration",
    "LangfuseEvent",
    "LangfuseOtelSpanAttributes",
    "LangfuseAgent",
    "LangfuseTool",
    "LangfuseChain",
    "LangfuseEmbedding",
    "LangfuseEvaluator",
    "LangfuseRetriever",
    "LangfuseGuardrail",
]
CLIENT_METHODS = [
    "start_span",
    "start_as_current_span",
    "start_observation",
    "start_as_current_observation",
    "start_generation",
    "start_as_current_generation",
    "create_event",
    "update_current_generation",
    "update_current_span",
    "update_current_trace",
    "get_current_trace_id",
    "get_current_observation_id",
    "create_trace_id",
    "get_trace_url",
    "auth_check",
    "flush",
    "shutdown",
    "create_score",
    "score_current_span",
    "score_current_trace",
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
        for name in (
            "update",
            "update_trace",
            "score",
            "score_trace",
            "end",
            "start_observation",
            "start_as_current_observation",
            "start_span",
            "start_generation",
            "create_event",
        ):
            if not hasattr(ref_cls, name):
                continue
            ref_params = inspect.signature(getattr(ref_cls, name)).parameters
            ours = inspect.signature(getattr(our_cls, name)).parameters
            missing = set(ref_params) - set(ours) - {"kwargs"}
            assert not missing, f"{cls}.{name}: {missing}"


def test_import_is_light() -> None:
    code = (
        "import sys, langfuse_nb; from langfuse_nb import Langfuse, observe; "
        "print(any(m in sys.modules for m in ('pandas', 'ipywidgets', 'IPython')))"
    )
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


# -- one definition: the runtime signature is what the typed definition (``Unpack[TypedDict]``) says ---
V3_MODULES = {
    "langfuse_nb.sdk.client",
    "langfuse_nb.sdk.tracing_mixin",
    "langfuse_nb.sdk.observations",
    "langfuse_nb.sdk.scores",
    "langfuse_nb.sdk.experiments.mixin",
}


def _unpacked_methods() -> list[tuple[str, Any]]:
    """Every public callable whose source declares ``**params: Unpack[...]``."""
    from langfuse_nb import experiment  # noqa: F401  (the lazy names resolve)
    from langfuse_nb.sdk import observations as O

    owners = [langfuse_nb.Langfuse, *(cls for cls in O.OBSERVATION_CLASSES.values())]
    found = []
    for owner in owners:
        for name in dir(owner):
            fn = getattr(owner, name)
            if getattr(fn, "__module__", "") not in V3_MODULES:
                continue
            raw = getattr(fn, "__annotations__", {}) if callable(fn) else {}
            if any(isinstance(a, str) and a.startswith("Unpack[") for a in raw.values()):
                found.append((f"{owner.__name__}.{name}", fn))
    return found


def _declared(fn: Any) -> tuple[list[str], type]:
    """The explicit parameter names and the TypedDict of ``**params``, read from the source annotations."""
    code = fn.__code__
    explicit = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    kwargs_name = code.co_varnames[code.co_argcount + code.co_kwonlyargcount]
    fields = eval(fn.__annotations__[kwargs_name][len("Unpack[") : -1], fn.__globals__)
    return explicit, fields


def test_runtime_signatures_are_derived_from_the_typed_definitions() -> None:
    methods = _unpacked_methods()
    assert len(methods) >= 40, [name for name, _ in methods]
    for name, fn in methods:
        explicit, fields = _declared(fn)
        sig = inspect.signature(fn)
        assert all(p.kind is not p.VAR_KEYWORD for p in sig.parameters.values()), f"{name}: **params shown"
        assert list(sig.parameters) == [*explicit, *fields.__annotations__], name
        assert fn.__allowed_params__ == frozenset(fields.__annotations__), name


def test_overloads_stay_within_the_implementation() -> None:
    import typing

    if not hasattr(typing, "get_overloads"):  # Python 3.10: overloads are not recorded at runtime
        pytest.skip("typing.get_overloads needs Python 3.11+")
    from langfuse_nb.sdk.observations import LangfuseSpan

    for fn in (
        langfuse_nb.Langfuse.start_observation,
        langfuse_nb.Langfuse.start_as_current_observation,
        LangfuseSpan.start_observation,
        LangfuseSpan.start_as_current_observation,
    ):
        implementation = set(inspect.signature(fn).parameters)
        overloads = typing.get_overloads(fn)
        assert len(overloads) >= 9
        for overload in overloads:
            explicit, fields = _declared(overload)
            assert {*explicit, *fields.__annotations__} <= implementation, fn.__qualname__


def test_positional_start_span_matches_span_fields() -> None:
    from langfuse_nb.sdk.observations import LangfuseSpan
    from langfuse_nb.sdk.params import SpanFields

    expected = ["self", "name", *SpanFields.__annotations__]
    assert list(inspect.signature(LangfuseSpan.start_span).parameters) == expected


def test_constructor_and_async_twins_have_one_parameter_list() -> None:
    from langfuse_nb._settings import ClientOptions

    client = langfuse_nb.Langfuse
    assert list(inspect.signature(client.__init__).parameters)[1:] == list(ClientOptions.__annotations__)
    for sync, async_ in (
        ("run_experiment", "run_experiment_async"),
        ("run_batched_evaluation", "run_batched_evaluation_async"),
    ):
        assert inspect.signature(getattr(client, sync)) == inspect.signature(getattr(client, async_))


def test_unknown_keywords_fail_like_a_plain_signature(server_env: Any) -> None:
    client = langfuse_nb.Langfuse()
    with pytest.raises(TypeError, match="'nmae'"):
        client.start_span(name="a", nmae="b")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'public_keyy'"):
        langfuse_nb.Langfuse(public_keyy="pk")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="evaluatorss"):
        client.run_experiment(name="e", data=[], task=lambda **_: None, evaluatorss=[])  # type: ignore[call-arg]
    client.shutdown()


def test_dataset_run_experiment_takes_the_experiment_options_but_data() -> None:
    from langfuse_nb.sdk.datasets import DatasetClient
    from langfuse_nb.sdk.experiments.mixin import ExperimentOptions

    expected = set(ExperimentOptions.__annotations__) - {"data"}
    for method in (DatasetClient.run_experiment, DatasetClient.run_experiment_async):
        assert set(inspect.signature(method).parameters) - {"self"} == expected
