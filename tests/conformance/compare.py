"""Normalise what one SDK produced for one scenario, so the two SDKs' outputs can be compared with ``==``.

Random ids are replaced by stable labels: a trace id or span id that both SDKs produced (seeded ids, ids
given by the scenario) is kept as is, any other becomes the name of its span (or ``<random>``). Timing
fields are dropped; span order is by name and tree position, not by clock.
"""

from __future__ import annotations

import json
import re
from typing import Any

# The reference's start_as_current_* path records a longer stack trace in the exception event.
IGNORED_EVENT_KEYS = {"exception.stacktrace"}
_INGESTION_VOLATILE = {"id", "timestamp"}
_BODY_VOLATILE = {"id", "timestamp"}
_ID_FIELDS = ("traceId", "observationId")
_REQUEST_VOLATILE = {"uploadedAt", "uploadTimeMs"}  # media upload reports: clock readings


def ids_in(records: dict[str, list[Any]]) -> set[str]:
    """Every trace and span id that occurs in one SDK's records (spans and score bodies)."""
    found: set[str] = set()
    for span in records["spans"]:
        found.update(filter(None, (span["trace_id"], span["span_id"], span["parent_span_id"])))
    for batch in records["ingestion"]:
        for event in batch.get("batch", []):
            body = event.get("body", {})
            found.update(filter(None, (body.get("traceId"), body.get("observationId"))))
    return found


def spans(
    records: dict[str, list[Any]], shared_ids: set[str], *, with_resource: bool
) -> list[dict[str, Any]]:
    """The spans of one scenario as comparable dicts, sorted."""
    raw = records["spans"]
    by_id = {s["span_id"]: s for s in raw}
    trace_label = _trace_labels(raw, by_id)
    out = []
    for span in raw:
        parent = by_id.get(span["parent_span_id"])
        if parent is not None:
            parent_ref: Any = {"span": parent["name"]}
        elif span["parent_span_id"] is None:
            parent_ref = None
        else:
            parent_ref = {"remote": _keep(span["parent_span_id"], shared_ids)}
        item = {
            "name": span["name"],
            "trace": _keep(span["trace_id"], shared_ids, trace_label[span["trace_id"]]),
            "parent": parent_ref,
            "attributes": _ids_named(without_timestamps(span["attributes"]), by_id, shared_ids),
            "status": span["status"],
            "events": [
                {
                    "name": e["name"],
                    **{k: v for k, v in e["attributes"].items() if k not in IGNORED_EVENT_KEYS},
                }
                for e in span["events"]
            ],
            "zero_duration": span["start"] == span["end"],
            "scope": [span["scope"]["name"], span["scope"]["version"]],
        }
        if with_resource:
            item["resource"] = {k: v for k, v in span["resource"].items() if k.startswith("langfuse.")}
        out.append(item)
    return sorted(out, key=lambda s: json.dumps(s, sort_keys=True, default=str))


def _ids_named(attributes: dict[str, Any], by_id: dict[str, Any], shared: set[str]) -> dict[str, Any]:
    """Attribute values that are random span ids of this scenario (e.g. an experiment's root observation
    id) become ``<id:span name>``."""
    return {
        k: (f"<id:{by_id[v]['name']}>" if isinstance(v, str) and v in by_id and v not in shared else v)
        for k, v in attributes.items()
    }


def _trace_labels(raw: list[dict[str, Any]], by_id: dict[str, Any]) -> dict[str, str]:
    """A trace is labelled by the sorted names of its spans (stable across SDKs when the trees match)."""
    names: dict[str, list[str]] = {}
    for span in raw:
        names.setdefault(span["trace_id"], []).append(span["name"])
    return {trace: "trace:" + ",".join(sorted(members)) for trace, members in names.items()}


def _keep(value: str, shared: set[str], label: str = "<random>") -> str:
    return value if value in shared else label


def ingestion(records: dict[str, list[Any]], shared_ids: set[str]) -> list[dict[str, Any]]:
    """Ingestion events (score-create, ...) without their random ids and timestamps, sorted."""
    out = []
    for batch in records["ingestion"]:
        for event in batch.get("batch", []):
            body = {k: v for k, v in event.get("body", {}).items() if k not in _BODY_VOLATILE}
            for key in ("traceId", "observationId"):
                if body.get(key) is not None:
                    body[key] = _keep(body[key], shared_ids)
            out.append(
                {
                    "type": event.get("type"),
                    "body": body,
                    **{k: v for k, v in event.items() if k not in _INGESTION_VOLATILE | {"type", "body"}},
                }
            )
    return sorted(out, key=lambda e: json.dumps(e, sort_keys=True, default=str))


def ingestion_metadata(records: dict[str, list[Any]]) -> list[Any]:
    return sorted({json.dumps(b.get("metadata"), sort_keys=True) for b in records["ingestion"]})


def requests(records: dict[str, list[Any]], shared_ids: set[str]) -> list[dict[str, Any]]:
    """REST requests (ids inside bodies and the scenario's key normalised), sorted: concurrent experiment
    items send theirs in any order."""
    out = []
    for request in records["requests"]:
        body = request["body"]
        if isinstance(body, dict):
            body = {
                k: (_keep(v, shared_ids) if k in _ID_FIELDS and isinstance(v, str) else v)
                for k, v in body.items()
                if k not in _REQUEST_VOLATILE
            }
        headers = {k: ("<key>" if k == "x-langfuse-public-key" else v) for k, v in request["headers"].items()}
        path = request["path"]
        if path.startswith("/upload/"):  # /upload/<public key>/<media id>
            path = "/upload/<key>/" + path.rsplit("/", 1)[-1]
        out.append({**request, "path": path, "body": body, "headers": headers})
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True, default=str))


_ISO_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?")


def without_timestamps(value: Any) -> Any:
    """Run names embed the current time ("name - 2025-...Z"); replace such stamps by ``<time>``."""
    if isinstance(value, str):
        return _ISO_STAMP.sub("<time>", value)
    if isinstance(value, dict):
        return {k: without_timestamps(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_timestamps(v) for v in value]
    return value


def warnings(records: list[dict[str, str]]) -> list[dict[str, str]]:
    """Warnings a user would see; ResourceWarnings (ignored by Python's default filters) are left out."""
    return sorted((w for w in records if w["category"] != "ResourceWarning"), key=lambda w: json.dumps(w))


def logs(records: list[dict[str, str]]) -> list[dict[str, str]]:
    """Log records with our ``langfuse_nb: `` prefix removed (the logger name already says whose), sorted:
    concurrent experiment items log in any order."""
    out = [{"level": r["level"], "message": r["message"].removeprefix("langfuse_nb: ")} for r in records]
    return sorted(out, key=lambda r: json.dumps(r))
