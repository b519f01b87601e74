"""A recording stand-in for a Langfuse server, shared by both SDKs in the conformance corpus.

Every request is recorded (method, path, query, JSON body, the headers that matter); OTLP span exports are
decoded with the benchmark sink's decoder. REST endpoints answer with small canned Langfuse-shaped payloads
so that prompt, dataset and experiment flows run end to end. Records are grouped by the request's public
key (each scenario uses its own), so one server serves every scenario of both SDKs.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import urllib.parse
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from _sink import OTLP_PATH, decode_spans  # noqa: E402

PROJECT_ID = "proj-conformance"
STAMP = "2025-01-02T03:04:05.000Z"
_KEPT_HEADERS = (
    "content-type",
    "x-langfuse-sdk-name",
    "x-langfuse-sdk-version",
    "x-langfuse-public-key",
    "x-fern-language",
    "x-amz-checksum-sha256",
    "x-ms-blob-type",
)


def _text_prompt(name: str, version: int = 2) -> dict[str, Any]:
    return {
        "name": name,
        "type": "text",
        "version": version,
        "prompt": "Hello {{name}}, {{ mood }} day!",
        "config": {"temperature": 0.1},
        "labels": ["production", "latest"],
        "tags": ["t1"],
        "commitMessage": None,
        "resolutionGraph": None,
    }


def _chat_prompt(name: str, version: int = 1) -> dict[str, Any]:
    messages = [
        {"type": "chatmessage", "role": "system", "content": "You are {{role}}."},
        {"type": "placeholder", "name": "history"},
        {"type": "chatmessage", "role": "user", "content": "{{question}}"},
    ]
    return {
        "name": name,
        "type": "chat",
        "version": version,
        "prompt": messages,
        "config": {},
        "labels": ["production"],
        "tags": [],
        "commitMessage": "c",
        "resolutionGraph": None,
    }


def _dataset(name: str) -> dict[str, Any]:
    return {
        "id": f"ds-{name}",
        "name": name,
        "description": "d",
        "metadata": {"m": 1},
        "projectId": PROJECT_ID,
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }


def _dataset_item(dataset: str, index: int) -> dict[str, Any]:
    return {
        "id": f"item-{dataset}-{index}",
        "status": "ACTIVE",
        "input": {"q": f"question {index}"},
        "expectedOutput": f"answer {index}",
        "metadata": {"i": index},
        "sourceTraceId": None,
        "sourceObservationId": None,
        "datasetId": f"ds-{dataset}",
        "datasetName": dataset,
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }


def _trace(index: int) -> dict[str, Any]:
    return {
        "id": f"{index:032x}",
        "timestamp": f"2025-01-0{index + 1}T00:00:00.000Z",
        "name": f"t{index}",
        "input": {"q": index},
        "output": f"out {index}",
        "metadata": {},
        "tags": [],
        "public": False,
        "environment": "default",
        "htmlPath": f"/project/{PROJECT_ID}/traces/{index:032x}",
        "latency": 1.0,
        "totalCost": 0.0,
        "observations": [],
        "scores": [],
        "sessionId": None,
        "release": None,
        "version": None,
        "userId": None,
        "bookmarked": False,
        "projectId": PROJECT_ID,
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }


def _paged(items: list[Any], page: int, limit: int) -> dict[str, Any]:
    start = (page - 1) * limit
    total = len(items)
    return {
        "data": items[start : start + limit],
        "meta": {"page": page, "limit": limit, "totalItems": total, "totalPages": max(1, -(-total // limit))},
    }


class FakeLangfuse:
    """Thread-safe recorder behind a ThreadingHTTPServer on 127.0.0.1 (free port)."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, list[Any]]] = defaultdict(
            lambda: {"spans": [], "ingestion": [], "requests": []}
        )
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-langfuse")

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeLangfuse:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, key: str, kind: str, value: Any) -> None:
        with self._lock:
            self.by_key[key][kind].append(value)

    def of(self, key: str) -> dict[str, list[Any]]:
        with self._lock:
            found = self.by_key.get(key)
            return (
                {k: list(v) for k, v in found.items()}
                if found
                else {"spans": [], "ingestion": [], "requests": []}
            )

    # -- canned REST answers --------------------------------------------------------------------------------
    def answer(self, method: str, path: str, query: dict[str, Any], body: Any, key: str) -> tuple[int, Any]:
        parts = [urllib.parse.unquote(p) for p in path.split("/") if p][2:]  # after /api/public
        route = (method, *parts[:3])
        if method == "GET" and parts[:1] == ["projects"]:
            return 200, {"data": [{"id": PROJECT_ID, "name": "conformance", "metadata": {}}]}
        if method == "GET" and parts[:1] == ["health"]:
            return 200, {"status": "OK", "version": "3.0.0"}
        if method == "GET" and parts[:2] == ["v2", "prompts"] and len(parts) == 3:
            return self._prompt(parts[2], query)
        if method == "POST" and parts == ["v2", "prompts"]:
            given = {k: v for k, v in body.items() if v is not None}
            return 200, {"version": 1, "labels": [], "tags": [], "config": {}, "commitMessage": None, **given}
        if method == "PATCH" and parts[:2] == ["v2", "prompts"] and len(parts) == 5:
            return 200, {**_text_prompt(parts[2], int(parts[4])), "labels": body.get("newLabels", [])}
        if method == "GET" and parts[:2] == ["v2", "datasets"] and len(parts) == 3:
            if parts[2] == "missing":
                return 404, {"message": "Dataset not found"}
            return 200, _dataset(parts[2])
        if method == "POST" and parts in (["v2", "datasets"], ["datasets"]):
            return 200, {
                **_dataset(body["name"]),
                "description": body.get("description"),
                "metadata": body.get("metadata"),
            }
        if method == "GET" and parts == ["dataset-items"]:
            name = query.get("datasetName", "")
            items = [_dataset_item(name, i) for i in range(3)]
            return 200, _paged(items, int(query.get("page", 1)), int(query.get("limit", 50)))
        if method == "POST" and parts == ["dataset-items"]:
            return 200, {
                **_dataset_item(body.get("datasetName", "x"), 9),
                "id": body.get("id") or "item-new",
                "input": body.get("input"),
                "expectedOutput": body.get("expectedOutput"),
                "metadata": body.get("metadata"),
            }
        if method == "POST" and parts == ["dataset-run-items"]:
            return 200, {
                "id": "dri-1",
                "datasetRunId": "run-1",
                "datasetRunName": body.get("runName"),
                "datasetItemId": body.get("datasetItemId"),
                "traceId": body.get("traceId"),
                "observationId": body.get("observationId"),
                "createdAt": STAMP,
                "updatedAt": STAMP,
            }
        if method == "POST" and parts == ["media"]:
            media_id = _media_id(body.get("sha256Hash", ""))
            return 200, {"uploadUrl": f"{self.url}/upload/{key}/{media_id}", "mediaId": media_id}
        if method == "PATCH" and parts[:1] == ["media"]:
            return 204, None
        if method == "GET" and parts == ["traces"]:
            items = [_trace(i) for i in range(5)]
            return 200, _paged(items, int(query.get("page", 1)), int(query.get("limit", 50)))
        del route
        return 404, {"message": "not found"}

    def _prompt(self, name: str, query: dict[str, Any]) -> tuple[int, Any]:
        if name.startswith("missing"):
            return 404, {"message": "Prompt not found"}
        if name.startswith("broken"):
            return 500, {"message": "Internal error"}
        version = int(query["version"]) if "version" in query else 2
        if name.startswith("chat"):
            return 200, _chat_prompt(name, version)
        return 200, _text_prompt(name, version)


def _media_id(sha256_base64: str) -> str:
    """The id Langfuse derives from a media hash: URL-safe base64 of the SHA-256, 22 characters."""
    try:
        digest = base64.b64decode(sha256_base64)
    except ValueError:
        return "bad-hash"
    return base64.urlsafe_b64encode(digest).decode()[:22]


def _public_key(headers: dict[str, str], path: str) -> str:
    """Whose request this is; an upload is filed under the key in its URL, another request without
    credentials under its base-url prefix."""
    if path.startswith("/upload/"):
        return path.split("/")[2]
    if headers.get("x-langfuse-public-key"):
        return headers["x-langfuse-public-key"]
    auth = headers.get("authorization", "")
    if auth.startswith("Basic "):
        try:
            return base64.b64decode(auth[6:]).decode().split(":", 1)[0]
        except ValueError:
            return "<bad-auth>"
    return "<no-auth>" + path.split("/api/", 1)[0]


def _handler_for(fake: FakeLangfuse) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, payload: Any) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            url = urllib.parse.urlsplit(self.path)
            key = _public_key(headers, url.path)
            if self.command == "POST" and url.path.endswith(OTLP_PATH):
                for span in decode_spans(raw):
                    fake.record(span["scope"]["attributes"].get("public_key") or key, "spans", span)
                self._reply(200, {})
                return
            body = _json(raw)
            if self.command == "POST" and url.path.endswith("/api/public/ingestion"):
                fake.record(key, "ingestion", body)
                ids = [e.get("id") for e in body.get("batch", [])]
                self._reply(207, {"successes": [{"id": i, "status": 201} for i in ids], "errors": []})
                return
            # repeated parameters (tags=a&tags=b) stay lists, so their encoding is compared too
            query = {
                k: v[0] if len(v) == 1 else v
                for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()
            }
            fake.record(
                key,
                "requests",
                {
                    "method": self.command,
                    "path": url.path,
                    "query": query,
                    "body": body,
                    "auth": "authorization" in headers,
                    "headers": {h: headers[h] for h in _KEPT_HEADERS if h in headers},
                },
            )
            if self.command == "PUT" and url.path.startswith("/upload/"):
                self._reply(200, None)
                return
            status, payload = fake.answer(self.command, url.path, query, body, key)
            self._reply(status, payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    return Handler


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return {"<non-json>": len(raw)}
