"""The I/O behind the magics and widgets: read traces and prompts through the client (``client.api``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from langfuse_nb.notebook.records import ObservationRecord, trace_records_from_api
from langfuse_nb.notebook.store import STORE
from langfuse_nb.views.records import trace_records_from_json

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
    return server_records(client, trace_id, REQUEST), "server"


def server_records(client: Any, trace_id: str, options: Any) -> list[ObservationRecord]:
    """The records of ``client.api.trace.get(trace_id)``, read from its JSON without building the models
    when every field the view draws is plain (the same records; see `trace_records_from_json`)."""
    resource = client.api.trace
    if not hasattr(resource, "_executor"):  # not our REST client: its own models
        return trace_records_from_api(resource.get(trace_id, request_options=options))
    from langfuse_nb.api._http import send_raw

    data = send_raw(resource, "get", trace_id, request_options=options)
    records = trace_records_from_json(data)
    if records is None:  # something only the models can read (or refuse): exactly the old path
        from langfuse_nb.api._spec import parse
        from langfuse_nb.wire.models import TraceWithFullDetails

        records = trace_records_from_api(parse(TraceWithFullDetails, data))
    return records


# the inline view waits at most this long for the server's computed costs after a traced cell
COST_REQUEST = {"timeout_in_seconds": 1.5, "max_retries": 0}
PRICED_TYPES = ("generation", "embedding")


def add_server_costs(client: Any, records: list[ObservationRecord]) -> None:
    """Fill in the cost the server computed (from its model price table) for generations that recorded
    usage but no cost, so the inline view shows the same numbers as the server. Best effort, bounded."""
    missing = {r.id for r in records if r.type in PRICED_TYPES and r.usage and not r.cost}
    if not missing:
        return
    try:
        priced = server_records(client, records[0].trace_id, COST_REQUEST)
    except Exception:  # noqa: BLE001 - the view still shows usage without cost
        logger.debug("no server costs for the inline view", exc_info=True)
        return
    costs = {rec.id: rec.cost for rec in priced if rec.id in missing and rec.cost}
    for rec in records:
        rec.cost = costs.get(rec.id, rec.cost)


def trace_url(client: Any, trace_id: str) -> str | None:
    """Link to the trace's page (Langfuse UI, or the embedded server's read-only trace page)."""
    try:
        return client.get_trace_url(trace_id=trace_id)
    except Exception:  # noqa: BLE001 - a link is optional
        logger.debug("no trace url", exc_info=True)
        return None


ERRORS_ONLY = json.dumps([{"type": "number", "column": "errorCount", "operator": ">", "value": 0}])


def list_traces(client: Any, *, limit: int = 20, **filters: Any) -> list[dict[str, Any]]:
    """Recent traces as dicts; ``has_error`` marks those with an ERROR observation (when known)."""
    response = client.api.trace.list(limit=limit, request_options=REQUEST, **filters)
    rows = [as_dict(t) for t in response.data]
    failed = _error_trace_ids(client, limit, filters)
    for row in rows:
        row["has_error"] = row.get("id") in failed
    return rows


def _error_trace_ids(client: Any, limit: int, filters: dict[str, Any]) -> set[str]:
    """Ids of the newest ``limit`` traces with an error: every error trace of the shown page is among
    them (both lists are newest first). Empty when the server cannot filter on errors."""
    try:
        response = client.api.trace.list(
            limit=limit, filter=ERRORS_ONLY, fields="core", request_options=REQUEST, **filters
        )
    except Exception:  # noqa: BLE001 - the marks are a nicety
        logger.debug("no error filter on this server", exc_info=True)
        return set()
    return {str(as_dict(t).get("id")) for t in response.data}


def load_error(trace_id: str, exc: BaseException) -> str:
    """One line for a trace that cannot be loaded (a 404 is "no such trace", not an HTTP body)."""
    if getattr(exc, "status_code", None) == 404:
        return f"no trace with id {trace_id} on this server (check the id, or wait a moment and retry)"
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"cannot load trace {trace_id}: {first[:200]}"


def list_prompts(client: Any, limit: int = 100, **filters: Any) -> list[dict[str, Any]]:
    response = client.api.prompts.list(limit=limit, request_options=REQUEST, **filters)
    return [as_dict(p) for p in response.data]


def prompt_history(client: Any, name: str) -> tuple[list[int], dict[int, list[str]]]:
    """Versions of a prompt (ascending) and the labels on each: one list call plus one call per label."""
    meta = next((p for p in list_prompts(client, name=name) if p.get("name") == name), None)
    if meta is None:
        return [], {}
    versions = sorted(meta.get("versions") or [])
    return versions, labels_by_version(client, name, meta.get("labels") or (), versions)


def labels_by_version(
    client: Any, name: str, labels: Iterable[str], versions: Iterable[int]
) -> dict[int, list[str]]:
    """Which version carries each label (the list API gives a prompt's labels, not where they sit).

    ``latest`` always sits on the highest version; every other label costs one request.
    """
    newest = max(versions, default=None)
    found: dict[int, list[str]] = {}
    for label in labels:
        if label == "latest" and newest is not None:
            found.setdefault(newest, []).append(label)
            continue
        found.setdefault(get_prompt_version(client, name, label=label).version, []).append(label)
    return found


def get_prompt_version(client: Any, name: str, version: int | None = None, label: str | None = None) -> Any:
    return client.api.prompts.get(name, version=version, label=label, request_options=REQUEST)
