"""The ASGI application: route table, auth, and one error-handler table."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from langfuse_nb.server.auth import BasicAuthMiddleware
from langfuse_nb.server.config import ServerConfig
from langfuse_nb.server.errors import ApiError
from langfuse_nb.server.files import secure_data_files
from langfuse_nb.server.guard import SiteGuardMiddleware
from langfuse_nb.server.http import JsonResponse
from langfuse_nb.server.ingest_worker import IngestWorkers
from langfuse_nb.server.read_gate import ReadGate, ReadsFirst
from langfuse_nb.server.redact import redact_logger
from langfuse_nb.server.routes import all_routes
from langfuse_nb.server.store import media
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.models import project_models
from langfuse_nb.server.store.resources import BlobCache

log = logging.getLogger("langfuse_nb.server")
# how long shutdown waits for requests uvicorn gave up on before it closes the database under them
SHUTDOWN_DRAIN_SECONDS = 10.0

_HTTP_ERROR_NAMES = {
    400: "InvalidRequestError",
    401: "UnauthorizedError",
    403: "AccessDeniedError",
    404: "LangfuseNotFoundError",
    405: "MethodNotAllowedError",
    413: "PayloadTooLargeError",
}


def _api_error(_: Request, exc: ApiError) -> JsonResponse:
    return JsonResponse(exc.body(), status_code=exc.status_code)


def _validation_error(_: Request, exc: RequestValidationError) -> JsonResponse:
    problems = [f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg')}" for err in exc.errors()]
    message = "Invalid request data: " + "; ".join(problems)
    return JsonResponse({"message": message, "error": "InvalidRequestError"}, status_code=400)


def _http_error(_: Request, exc: StarletteHTTPException) -> JsonResponse:
    name = _HTTP_ERROR_NAMES.get(exc.status_code, "HttpError")
    return JsonResponse({"message": str(exc.detail), "error": name}, status_code=exc.status_code)


def _number_out_of_range(_: Request, exc: OverflowError) -> JsonResponse:
    # SQLite stores 64-bit integers; a larger number anywhere in a body ends up here
    message = f"a number in the request is out of range (at most 64-bit integers are supported): {exc}"
    return JsonResponse({"message": message, "error": "InvalidRequestError"}, status_code=400)


def _database_busy(request: Request, exc: sqlite3.OperationalError) -> JsonResponse:
    if not any(word in str(exc).lower() for word in ("locked", "busy", "disk", "unable to open")):
        return _unexpected_error(request, exc)  # anything else is a bug, not an outage
    log.warning("database error: %s", exc)
    return JsonResponse(
        {"message": f"database unavailable: {exc}", "error": "ServiceUnavailableError"}, status_code=503
    )


def _unexpected_error(request: Request, exc: Exception) -> JsonResponse:
    # the last resort: logged with its traceback, reported without internals
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JsonResponse({"message": "Internal server error", "error": "InternalServerError"}, status_code=500)


class InFlight:
    """Counts requests being handled, so shutdown can wait for them before closing the database."""

    def __init__(self) -> None:
        self.count = 0

    async def drained(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return not self.count


class _LastResort:
    """Answers an unexpected exception with the 500 JSON body itself, and a cancelled request with 503.

    Starlette's own last-resort path re-raises after responding, which makes uvicorn drop the keep-alive
    connection; the client's next request on that connection then fails with a reset. Uvicorn cancels
    requests still running when its graceful-shutdown time is up and answers them 500 - although a sync
    endpoint's thread has finished its (committed) write by the time the cancellation lands.
    """

    def __init__(self, app: Any, in_flight: InFlight | None = None) -> None:
        self.app = app
        self.in_flight = in_flight or InFlight()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        self.in_flight.count += 1
        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if started:
                raise
            # shutting down: a retry is safe (writes are idempotent by id) and 503 says to make one
            await _shutting_down()(scope, receive, send)
        except Exception as exc:
            if started:
                raise  # too late for a clean answer
            response = _unexpected_error(Request(scope), exc)
            await response(scope, receive, send)
        finally:
            self.in_flight.count -= 1


def _shutting_down() -> JsonResponse:
    message = "the server is shutting down; retry the request"
    return JsonResponse({"message": message, "error": "ServiceUnavailableError"}, status_code=503)


ERROR_HANDLERS: dict[type[Exception], Callable[[Request, Any], JsonResponse]] = {
    ApiError: _api_error,
    RequestValidationError: _validation_error,
    StarletteHTTPException: _http_error,
    OverflowError: _number_out_of_range,
    sqlite3.OperationalError: _database_busy,
    Exception: _unexpected_error,
}


# FastAPI >= 0.16x records its own OTel spans, metrics and logs through the global providers. In a kernel
# that hosts the server in-thread those would be exported back into this very server, one batch begetting
# the next; the server must stay invisible to the user's tracing.
_NO_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters
    else {}
)


def create_app(config: ServerConfig, db: Database | None = None) -> FastAPI:
    """Build the app; it opens (and migrates) the database unless one is passed in."""
    redact_logger(log.name, [config.secret_key])
    if db is None:
        secure_data_files(Path(config.db_path), config.media_dir)
    database = db or Database(config.db_path)

    in_flight = InFlight()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        # uvicorn runs this right after cancelling overdue requests, whose threads may still be writing
        if not await in_flight.drained(SHUTDOWN_DRAIN_SECONDS):
            log.warning("closing the database with %d request(s) still running", in_flight.count)
        ingest.close()  # before the database: a worker commits its job in hand, then lets go of the file
        database.close()
        if gate is not None:
            gate.close()

    app = FastAPI(
        title="langfuse_nb",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        exception_handlers=ERROR_HANDLERS,  # type: ignore[arg-type]  # sync handlers work at runtime
        **_NO_TELEMETRY,
    )
    app.state.config = config
    app.state.db = database
    app.state.blobs = BlobCache()
    gate = ReadGate.create()  # ingest workers pause while a read is answered (read_gate.py)
    # started on the first ingest request, so a server that never ingests never pays for a process
    ingest = IngestWorkers(
        database,
        app.state.blobs,
        workers=config.ingest_workers,
        timeout=config.ingest_timeout_seconds,
        nice=config.ingest_worker_nice,
        gate=gate,
    )
    app.state.ingest = ingest
    with database.write() as conn:
        app.state.media_key = media.secret(conn)
        # the observation read path prices rows from the known project models: know them from the start,
        # or a restarted server reads back null prices until someone lists the models
        project_models(conn)
    for route in all_routes():
        app.add_api_route(route.path, route.endpoint, methods=[route.method], response_class=JsonResponse)
    if gate is not None:  # innermost: only reads that reach a route hold the gate
        app.add_middleware(ReadsFirst, gate=gate)
    app.add_middleware(_LastResort, in_flight=in_flight)  # inside auth: wraps the routes only
    app.add_middleware(BasicAuthMiddleware, public_key=config.public_key, secret_key=config.secret_key)
    # outermost: a cross-site or rebinding request is refused before auth (cached credentials must not help)
    app.add_middleware(SiteGuardMiddleware, allowed_hosts=config.allowed_hosts)
    return app
