"""``POST /api/public/otel/v1/traces``: OTLP/HTTP span ingest; a bad span is rejected alone.

The work (decode, map, store) is an ``OtlpJob``, run by the server's ingest worker when one is ready
(``ingest_worker.py``), else here; the answer is the same either way.
"""

from __future__ import annotations

import re

from fastapi import Request

from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.http import JsonResponse, RawBody, config_of, ok
from langfuse_nb.server.ingest_jobs import OtlpJob
from langfuse_nb.server.routes import Route
from langfuse_nb.server.store import ingest  # noqa: F401  # the storage step, where tests inject faults

_VERSION = re.compile(r"[0-9]{1,6}")
_LATEST_VERSION = 4


def export_traces(request: Request, body: RawBody) -> JsonResponse:
    _check_version(request.headers.get("x-langfuse-ingestion-version"))
    job = OtlpJob(
        body=body,
        content_type=request.headers.get("content-type"),
        content_encoding=request.headers.get("content-encoding"),
        max_body_bytes=config_of(request).max_body_bytes,
    )
    return ok(request.app.state.ingest.run(job))


def _check_version(version: str | None) -> None:
    if version is None:
        return
    if not _VERSION.fullmatch(version.strip()) or int(version) > _LATEST_VERSION:
        shown = version if len(version) <= 20 else version[:20] + "..."
        raise BadRequest(f"unsupported x-langfuse-ingestion-version {shown!r}; use 1-{_LATEST_VERSION}")


ROUTES = [Route("POST", "/api/public/otel/v1/traces", export_traces)]
