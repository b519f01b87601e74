"""Health and project endpoints."""

from __future__ import annotations

import os

from fastapi import Request

from langfuse_nb.server.config import SERVER_VERSION
from langfuse_nb.server.http import JsonResponse, config_of, db_of, ok
from langfuse_nb.server.routes import Route

# lets a launcher tell whether the healthy server on a port is the process it spawned or another one
PID_HEADER = "x-langfuse-nb-pid"


def health(request: Request) -> JsonResponse:
    if not db_of(request).ping():
        return ok({"status": "ERROR", "version": SERVER_VERSION, "message": "database unavailable"}, 503)
    response = ok({"status": "OK", "version": SERVER_VERSION})
    response.headers[PID_HEADER] = str(os.getpid())
    return response


def projects(request: Request) -> JsonResponse:
    config = config_of(request)
    organization = {"id": config.org_id, "name": config.org_name}
    # the database path lets a kernel that reuses this server say where its traces are stored
    metadata = {"langfuseNbDatabase": str(config.db_path)}
    project = {
        "id": config.project_id,
        "name": config.project_name,
        "organization": organization,
        "metadata": metadata,
    }
    return ok({"data": [project]})


ROUTES = [
    Route("GET", "/api/public/health", health),
    Route("GET", "/api/public/projects", projects),
]
