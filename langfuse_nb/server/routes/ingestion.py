"""``POST /api/public/ingestion``: batched legacy events and scores, answered with 207.

Mapped and stored by a ``BatchJob`` in the server's ingest worker when one is ready, else here.
"""

from __future__ import annotations

from fastapi import Request

from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.http import JsonBody, JsonResponse, ok
from langfuse_nb.server.ingest_jobs import BatchJob
from langfuse_nb.server.routes import Route


def ingest_batch(request: Request, body: JsonBody) -> JsonResponse:
    if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
        raise BadRequest("Invalid request data: body must be an object with a 'batch' array")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("Invalid request data: 'metadata' must be an object or null")
    return ok(request.app.state.ingest.run(BatchJob(body["batch"])), 207)


ROUTES = [Route("POST", "/api/public/ingestion", ingest_batch)]
