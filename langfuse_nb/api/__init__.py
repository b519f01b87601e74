"""The Langfuse public REST API: `LangfuseAPI` / `AsyncLangfuseAPI`, their models and errors.

Mirrors the reference SDK's ``langfuse.api`` names: ``from langfuse_nb.api import Prompt_Text, Dataset, ...``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import langfuse_nb.logger  # noqa: F401  (our logger answers to "langfuse" too, also for API-only use)
from langfuse_nb.errors import (
    AccessDeniedError as AccessDeniedError,
)
from langfuse_nb.errors import (
    ApiError as ApiError,
)
from langfuse_nb.errors import (
    Error as Error,
)
from langfuse_nb.errors import (
    MethodNotAllowedError as MethodNotAllowedError,
)
from langfuse_nb.errors import (
    NotFoundError as NotFoundError,
)
from langfuse_nb.errors import (
    ServiceUnavailableError as ServiceUnavailableError,
)
from langfuse_nb.errors import (
    UnauthorizedError as UnauthorizedError,
)
from langfuse_nb.wire import models as _models
from langfuse_nb.wire.models import __all__ as _model_names

from . import resources as _resources
from .resources import __all__ as _resource_names

if TYPE_CHECKING:
    from langfuse_nb.wire.models import *  # noqa: F403

    from ._spec import RequestOptions as RequestOptions
    from .client import AsyncLangfuseAPI as AsyncLangfuseAPI
    from .client import LangfuseAPI as LangfuseAPI
    from .resources import *  # noqa: F403

# served on first use, like the models: importing this package must not import httpx or pydantic (the light
# prompt fetch in `_light` lives here and runs before either is loaded)
_OWN_NAMES = {"LangfuseAPI": "client", "AsyncLangfuseAPI": "client", "RequestOptions": "_spec"}


def __getattr__(name: str) -> Any:
    """Clients, resources and models resolve on first use; each loads only the modules it needs."""
    if name in _OWN_NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_OWN_NAMES[name]}"), name)
    elif name in _resource_names:
        value = getattr(_resources, name)
    elif name in _models._OWNER:
        value = getattr(_models, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


_ERRORS = [
    "AccessDeniedError",
    "ApiError",
    "Error",
    "MethodNotAllowedError",
    "NotFoundError",
    "ServiceUnavailableError",
    "UnauthorizedError",
]

__all__ = [  # built from the sub-modules' own lists
    "AsyncLangfuseAPI",
    "LangfuseAPI",
    "RequestOptions",
    *_ERRORS,
    *[name for name in _resource_names if name != "RESOURCES"],
    *[
        name
        for name in _model_names
        if not name.startswith("_")
        and name not in {"WireModel", "SnakeModel", "Datetime", "serialize_datetime"}
    ],
]
