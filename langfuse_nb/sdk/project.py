"""``ProjectMixin`` of the ``Langfuse`` client: the project its keys belong to (a cached lookup that never
waits on an endpoint known not to answer), trace links into the Langfuse UI, and ``auth_check``.
``client.py`` composes it into ``Langfuse``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from langfuse_nb._retry import REMEMBER_UNREACHABLE_SECONDS, is_transport_error, mark_unreachable, unreachable
from langfuse_nb._settings import Settings
from langfuse_nb.sdk.prompts.mixin import NO_LIGHT
from langfuse_nb.tracing.exporter import auth_header

if TYPE_CHECKING:
    from langfuse_nb.api import LangfuseAPI

logger = logging.getLogger("langfuse_nb")


class ProjectMixin:
    """The project of the keys: its id, trace URLs and the auth check."""

    _settings: Settings
    _project_id: str | None

    if TYPE_CHECKING:  # provided by Langfuse and its other mixins

        def get_current_trace_id(self) -> str | None: ...
        def _light_get_json(self, target: str, timeout: float | None = None) -> Any: ...

        api: LangfuseAPI

    def get_trace_url(self, *, trace_id: str | None = None) -> str | None:
        """Link to the trace in the Langfuse UI (the active trace when no id is given)."""
        trace_id = trace_id or self.get_current_trace_id()
        project_id = self._get_project_id() if trace_id else None
        if not (project_id and trace_id):
            return None
        return f"{self._settings.base_url}/project/{project_id}/traces/{trace_id}"

    def _get_project_id(self) -> str | None:
        """Project id of the keys (cached ``GET /api/public/projects``).

        Never waits for an endpoint remembered as not answering (langfuse_nb/_retry.py), and a failed
        lookup is not repeated for 30 s: a trace link must not cost every notebook cell a timeout.
        """
        if self._project_id is not None or not self._settings.has_keys:
            return self._project_id
        failed_at = self.__dict__.get("_project_lookup_failed_at")
        if unreachable(self._settings.base_url) or (
            failed_at is not None and time.monotonic() - failed_at < REMEMBER_UNREACHABLE_SECONDS
        ):
            return None
        try:
            ids = self._project_ids()
            self._project_id = ids[0] if ids else None
        except Exception as exc:
            self._project_lookup_failed_at = time.monotonic()
            if is_transport_error(exc):
                mark_unreachable(self._settings.base_url, f"project lookup: {type(exc).__name__}")
            logger.warning(
                "langfuse_nb: could not fetch the project id (%s); trace links are skipped for %.0f s",
                type(exc).__name__,
                REMEMBER_UNREACHABLE_SECONDS,
            )
        return self._project_id

    def auth_check(self) -> bool:
        """True when the keys are valid for a project; API errors propagate (blocking call)."""
        if not self._settings.has_keys:  # as the reference's disabled client: False, no request
            logger.warning(
                "langfuse_nb: Auth check failed: Client not properly initialized. Error: "
                "no public_key or secret_key"
            )
            return False
        if not self._project_ids():
            raise Exception("Auth check failed, no project found for the keys provided.")
        return True

    def _project_ids(self) -> list[str]:
        found = self._light_get_json("api/public/projects")  # while there is no REST client yet
        if found is not NO_LIGHT:
            return [p.get("id") for p in found.get("data") or [] if p]
        try:
            api = self.api
        except ImportError:  # REST client unavailable: one plain GET does the job
            return [p.get("id") for p in self._get_json("/api/public/projects").get("data") or [] if p]
        return [p.id for p in api.projects.get().data]

    def _get_json(self, path: str) -> dict[str, Any]:
        s = self._settings
        headers = {
            "Authorization": auth_header(s.public_key or "", s.secret_key or ""),
            **(s.additional_headers or {}),
        }
        url = f"{s.base_url.rstrip('/')}{path}"
        import httpx

        if s.httpx_client is not None:
            response = s.httpx_client.get(url, headers=headers, timeout=s.timeout)
        else:
            response = httpx.get(url, headers=headers, timeout=s.timeout)
        response.raise_for_status()
        return response.json()
