"""Every name the reference SDK's public modules export is importable from our corresponding module.

The expected names are read from the installed reference package (langfuse 3.11.2): its ``__all__`` where
a module has one, else the module's own public names (imported modules and ``typing``/``abc`` helpers
left out). Names we leave out on purpose are listed in SKIPPED with the reason.
"""

from __future__ import annotations

import functools
import importlib
import json
import subprocess
import sys

import pytest

pytest.importorskip("langfuse")
pytestmark = pytest.mark.reference

MODULES = {
    "langfuse": "langfuse_nb",
    "langfuse.model": "langfuse_nb.model",
    "langfuse.types": "langfuse_nb.types",
    "langfuse.media": "langfuse_nb.media",
    "langfuse.experiment": "langfuse_nb.experiment",
    "langfuse.batch_evaluation": "langfuse_nb.batch_evaluation",
    "langfuse.api": "langfuse_nb.api",
    "langfuse.logger": "langfuse_nb.logger",
    "langfuse.openai": "langfuse_nb.openai",  # needs the openai package (the `openai` extra)
}
# reference modules that cannot be mirrored here, and why
NOT_MIRRORED = {
    "langfuse.langchain": "needs langchain, which langfuse_nb does not depend on; LangChain runs are traced "
    "through their OpenTelemetry instrumentation (docs/llm-calls.md)",
    "langfuse.version": "the reference's own version string; ours is langfuse_nb.__version__",
}
_OPENAI_INTERNALS = (
    "an implementation detail of the reference's OpenAI wrapper module (a helper it imports or an internal "
    "class), not part of its documented API (openai, OpenAI, AsyncOpenAI, AzureOpenAI, AsyncAzureOpenAI)"
)

_NOT_IMPLEMENTED_RESOURCES = (
    "a model of a REST resource langfuse_nb's API client does not offer (annotation queues, blob storage "
    "integrations, comments, LLM connections, metrics, models/pricing, organizations, SCIM, OTel export)"
)
_GENERATED_PACKAGES = (
    "a sub-package of the reference's generated client layout; our resources are modules of "
    "langfuse_nb.api.resources and are reached as attributes of LangfuseAPI (api.prompts, api.trace, ...)"
)
_API_SUBPACKAGES = {
    "annotation_queues",
    "blob_storage_integrations",
    "comments",
    "commons",
    "dataset_items",
    "dataset_run_items",
    "datasets",
    "health",
    "ingestion",
    "llm_connections",
    "media",
    "metrics",
    "metrics_v_2",
    "models",
    "observations",
    "observations_v_2",
    "opentelemetry",
    "organizations",
    "projects",
    "prompt_version",
    "prompts",
    "scim",
    "score",
    "score_configs",
    "score_v_2",
    "sessions",
    "trace",
    "utils",
}
_API_UNIMPLEMENTED = {
    "AnnotationQueue",
    "AnnotationQueueAssignmentRequest",
    "AnnotationQueueItem",
    "AnnotationQueueObjectType",
    "AnnotationQueueStatus",
    "AuthenticationScheme",
    "BlobStorageExportFrequency",
    "BlobStorageExportMode",
    "BlobStorageIntegrationDeletionResponse",
    "BlobStorageIntegrationFileType",
    "BlobStorageIntegrationResponse",
    "BlobStorageIntegrationType",
    "BlobStorageIntegrationsResponse",
    "BulkConfig",
    "Comment",
    "CommentObjectType",
    "CreateAnnotationQueueAssignmentResponse",
    "CreateAnnotationQueueItemRequest",
    "CreateAnnotationQueueRequest",
    "CreateBlobStorageIntegrationRequest",
    "CreateCommentRequest",
    "CreateCommentResponse",
    "CreateModelRequest",
    "DeleteAnnotationQueueAssignmentResponse",
    "DeleteAnnotationQueueItemResponse",
    "DeleteMembershipRequest",
    "EmptyResponse",
    "FilterConfig",
    "GetCommentsResponse",
    "LlmAdapter",
    "LlmConnection",
    "MembershipDeletionResponse",
    "MembershipRequest",
    "MembershipResponse",
    "MembershipRole",
    "MembershipsResponse",
    "MetricsResponse",
    "MetricsV2Response",
    "Model",
    "ModelPrice",
    "ObservationsV2Meta",
    "ObservationsV2Response",
    "OrganizationApiKey",
    "OrganizationApiKeysResponse",
    "OrganizationProject",
    "OrganizationProjectsResponse",
    "OtelAttribute",
    "OtelAttributeValue",
    "OtelResource",
    "OtelResourceSpan",
    "OtelScope",
    "OtelScopeSpan",
    "OtelSpan",
    "OtelTraceResponse",
    "PaginatedAnnotationQueueItems",
    "PaginatedAnnotationQueues",
    "PaginatedLlmConnections",
    "PaginatedModels",
    "PricingTier",
    "PricingTierCondition",
    "PricingTierInput",
    "PricingTierOperator",
    "ResourceMeta",
    "ResourceType",
    "ResourceTypesResponse",
    "SchemaExtension",
    "SchemaResource",
    "SchemasResponse",
    "ScimEmail",
    "ScimFeatureSupport",
    "ScimName",
    "ScimUser",
    "ScimUsersListResponse",
    "ServiceProviderConfig",
    "UpdateAnnotationQueueItemRequest",
    "UpsertLlmConnectionRequest",
    "UserMeta",
}
SKIPPED: dict[tuple[str, str], str] = {
    ("langfuse.media", "T"): "a TypeVar of the reference's own annotations, not an API",
    ("langfuse.batch_evaluation", "logger"): "the reference module's private logger object (ours: "
    "langfuse_nb.logger.langfuse_logger)",
    ("langfuse.logger", "httpx_logger"): "the reference reconfigures httpx's logger on import; we leave "
    "other libraries' logging alone",
    ("langfuse.logger", "console_handler"): "a handler the reference attaches to httpx's logger (see above)",
    ("langfuse.logger", "formatter"): "the format of that handler (see above)",
    **{("langfuse.api", name): _GENERATED_PACKAGES for name in _API_SUBPACKAGES},
    **{("langfuse.api", name): _NOT_IMPLEMENTED_RESOURCES for name in _API_UNIMPLEMENTED},
    **{
        ("langfuse.openai", name): _OPENAI_INTERNALS
        for name in (
            "dataclass",
            "datetime",
            "isclass",
            "NotGiven",
            "Version",
            "BaseModel",
            "wrap_function_wrapper",
            "get_client",
            "LangfuseGeneration",
            "LangfuseMedia",
            "log",
            "OpenAiDefinition",
            "OPENAI_METHODS_V0",
            "OPENAI_METHODS_V1",
            "OpenAiArgsExtractor",
            "register_tracing",
            "LangfuseResponseGeneratorSync",
            "LangfuseResponseGeneratorAsync",
        )
    },
}


# The reference's modules are imported in a subprocess: `langfuse.openai` patches the openai package for
# the whole process on import, which would change what every later test of our own drop-in sees.
_EXPORTS_SCRIPT = r"""
import abc, importlib, inspect, json, sys, typing
out = {}
for name in sys.argv[1:]:
    try:
        module = importlib.import_module(name)
    except ImportError:
        out[name] = None
        continue
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items() if not n.startswith("_") and not inspect.ismodule(v)
                 and getattr(typing, n, None) is not v and getattr(abc, n, None) is not v]
    out[name] = list(names)
print(json.dumps(out))
"""


@functools.cache
def _reference_exports() -> dict[str, list[str] | None]:
    """Exported names of each reference module (None when its optional dependency is missing)."""
    done = subprocess.run(
        [sys.executable, "-c", _EXPORTS_SCRIPT, *MODULES, *NOT_MIRRORED],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _exported_by(reference: str) -> list[str]:
    return _reference_exports().get(reference) or []


def _provided(ours: str, name: str) -> bool:
    return getattr(importlib.import_module(ours), name, None) is not None


# a skipped name we provide after all (e.g. a resource added later) is checked like any other
CASES = [
    pytest.param(reference, ours, name, id=f"{reference}.{name}")
    for reference, ours in MODULES.items()
    for name in _exported_by(reference)
    if (reference, name) not in SKIPPED or _provided(ours, name)
]


@pytest.mark.parametrize(("reference", "ours", "name"), CASES)
def test_name_is_importable(reference: str, ours: str, name: str) -> None:
    module = importlib.import_module(ours)
    assert getattr(module, name, None) is not None, f"from {ours} import {name}"


def test_every_public_reference_module_is_mirrored_or_explained() -> None:
    import pkgutil

    import langfuse

    public = {
        f"langfuse.{module.name}"
        for module in pkgutil.iter_modules(langfuse.__path__)
        if not module.name.startswith("_")
    }
    assert public <= set(MODULES) | set(NOT_MIRRORED)


def test_skips_name_real_exports() -> None:
    """A skip that no longer matches an export (the reference changed, or we added it) is removed."""
    available = [ref for ref in MODULES if _reference_exports().get(ref) is not None]
    exported = {(ref, name) for ref in available for name in _exported_by(ref)}
    assert {key for key in SKIPPED if key[0] in available} <= exported


def test_prompt_models_accept_the_reference_message_objects() -> None:
    from langfuse_nb.api import ChatMessage, PlaceholderMessage, Prompt_Chat

    prompt = Prompt_Chat(
        name="p",
        version=1,
        labels=[],
        tags=[],
        config={},
        prompt=[
            ChatMessage(role="user", content="hi"),
            PlaceholderMessage(name="history"),
            {"role": "assistant", "content": "ok"},
        ],
    )
    assert [m.type for m in prompt.prompt] == ["chatmessage", "placeholder", "chatmessage"]
    assert prompt.prompt[0].role == "user" and prompt.prompt[1].name == "history"


def test_template_parser_matches_the_reference() -> None:
    from langfuse.model import TemplateParser as Reference

    from langfuse_nb.model import TemplateParser

    templates = [
        ("Hi {{name}}, {{ mood }} {{missing}}", {"name": "Ada", "mood": None}),
        ("{{ {{inner}} }} {{a}}{{a}}", {"inner": 1, "a": "x"}),
        ("plain", None),
        ("{{open", {}),
    ]
    for template, data in templates:
        assert TemplateParser.compile_template(template, data) == Reference.compile_template(template, data)
        assert TemplateParser.find_variable_names(template) == Reference.find_variable_names(template)
