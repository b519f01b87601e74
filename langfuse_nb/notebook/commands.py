"""The I/O behind the magics and widgets: read traces and prompts through the client (``client.api``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from langfuse_nb.notebook.records import ObservationRecord, trace_records_from_api
from langfuse_nb.notebook.store import STORE

logger = logging.getLogger("langfuse_nb")
REQUEST = {"timeout_in_seconds": 5, "max_retries": 0}


def get_client() -> Any:
    from langfuse_nb.sdk.registry import get_client as registry_get_client

    return registry_get_client()


def as_dict(obj: Any) -> dict[str, Any]:
    """A plain snake_case dict of an API model (pydantic) or mapping."""
    if isinstance(obj, Mapping):
        return dict(obj)
    dump = getattr(obj, "model_dump", None)
    return dump() if dump is not None else dict(vars(obj))


def trace_records(client: Any, trace_id: str) -> tuple[list[ObservationRecord], str]:
    """(records, source) of a trace: from this kernel's recorder, else from the server."""
    if trace_id in STORE:
        return STORE.records(trace_id), "kernel"
    trace = client.api.trace.get(trace_id, request_options=REQUEST)
    return trace_records_from_api(trace), "server"


def trace_url(client: Any, trace_id: str) -> str | None:
    """Link to the trace in a Langfuse UI; None for the embedded server, which has no UI."""
    from langfuse_nb.server.config import PROJECT_ID

    try:
        url = client.get_trace_url(trace_id=trace_id)
    except Exception:  # noqa: BLE001 - a link is optional
        logger.debug("no trace url", exc_info=True)
        return None
    return None if url is None or f"/project/{PROJECT_ID}/" in url else url


def list_traces(client: Any, *, limit: int = 20, **filters: Any) -> list[dict[str, Any]]:
    response = client.api.trace.list(limit=limit, request_options=REQUEST, **filters)
    return [as_dict(t) for t in response.data]


def list_prompts(client: Any, limit: int = 100, **filters: Any) -> list[dict[str, Any]]:
    response = client.api.prompts.list(limit=limit, request_options=REQUEST, **filters)
    return [as_dict(p) for p in response.data]


def prompt_history(client: Any, name: str) -> tuple[list[int], dict[int, list[str]]]:
    """Versions of a prompt (ascending) and the labels on each: one list call plus one call per label."""
    meta = next((p for p in list_prompts(client, name=name) if p.get("name") == name), None)
    if meta is None:
        return [], {}
    labels: dict[int, list[str]] = {}
    for label in meta.get("labels") or []:
        labels.setdefault(get_prompt_version(client, name, label=label).version, []).append(label)
    return sorted(meta.get("versions") or []), labels


def get_prompt_version(client: Any, name: str, version: int | None = None, label: str | None = None) -> Any:
    return client.api.prompts.get(name, version=version, label=label, request_options=REQUEST)
