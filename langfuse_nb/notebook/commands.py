"""The I/O behind the magics and widgets: read traces and prompts through the client (``client.api``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from langfuse_nb.notebook.records import ObservationRecord, trace_records_from_api
from langfuse_nb.notebook.store import STORE

logger = logging.getLogger("langfuse_nb")
REQUEST = {"timeout_in_seconds": 5, "max_retries": 0}


# The public key of the connection %load_ext made: the magics use that client even when the user made
# clients for other keys (where get_client() without a key would give a disabled one).
_BOUND: dict[str, str] = {}


def _registered(public_key: str) -> Any:
    from langfuse_nb.sdk import registry

    return registry.registered_client(public_key)


def bind(connection: Any) -> None:
    """Make the magics use the connection's client; replace a registered one that cannot trace.

    A client built while the endpoint was unreachable has tracing off (or points elsewhere); after the
    user fixes LANGFUSE_* and reloads the extension, a fresh client from the environment replaces it.
    """
    _BOUND.clear()
    key = connection.public_key
    if not connection.tracing or not key:
        return
    _BOUND["public_key"] = key
    client = _registered(key)
    if client is None:
        return  # built on first use, so the user's own Langfuse(...) settings are not pre-empted
    enabled = bool(getattr(client, "_enabled", False))
    same_url = (client._settings.base_url or "").rstrip("/") == connection.base_url
    if enabled and same_url:
        return
    from langfuse_nb.sdk.client import Langfuse

    if enabled:  # export resources are shared per key: close the old ones so the new URL applies
        client.shutdown(timeout=1.0)
    Langfuse()  # from the environment connect() checked; registers itself for this key


def unbind() -> None:
    _BOUND.clear()


def get_client() -> Any:
    from langfuse_nb.sdk.registry import get_client as registry_get_client

    key = _BOUND.get("public_key")
    client = _registered(key) if key else None
    return client if client is not None else registry_get_client()


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
    """Link to the trace's page (Langfuse UI, or the embedded server's read-only trace page)."""
    try:
        return client.get_trace_url(trace_id=trace_id)
    except Exception:  # noqa: BLE001 - a link is optional
        logger.debug("no trace url", exc_info=True)
        return None


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
