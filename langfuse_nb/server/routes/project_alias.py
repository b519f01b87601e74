"""Project-scoped page routes answer to the configured project id (LANGFUSE_INIT_PROJECT_ID) as well."""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any

from langfuse_nb.server.config import PROJECT_ID

if TYPE_CHECKING:
    from langfuse_nb.server.routes import Route


def with_project_alias(route: Route) -> Route:
    """Wrap a ``/project/{projectId}/...`` endpoint so the configured id reaches it as the built-in one.

    The page handlers compare ``projectId`` with the built-in id; a server started with another project id
    (what ``get_trace_url()`` then puts in its links) must serve those pages too.
    """
    if "{projectId}" not in route.path or inspect.iscoroutinefunction(route.endpoint):
        return route  # (a coroutine endpoint would need an async wrapper; none exists today)
    endpoint = route.endpoint

    @functools.wraps(endpoint)
    def aliased(**kwargs: Any) -> Any:
        request = kwargs.get("request")
        configured = request.app.state.config.project_id if request is not None else PROJECT_ID
        if kwargs.get("projectId") == configured:
            kwargs["projectId"] = PROJECT_ID
        return endpoint(**kwargs)

    # resolved annotations: FastAPI then needs no access to the endpoint module's globals
    aliased.__signature__ = inspect.signature(endpoint, eval_str=True)  # type: ignore[attr-defined]
    return type(route)(route.method, route.path, aliased)
