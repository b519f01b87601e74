"""A small OpenAI-compatible HTTP server for tests and benchmarks: deterministic answers and usage.

Endpoints: ``/v1/chat/completions`` (plain, tools, SSE streaming with a final usage chunk),
``/v1/completions``, ``/v1/embeddings``, ``/v1/responses`` (plain and streaming). A request whose model is
``fail-model`` gets a 400 error body like OpenAI's. `start()` serves it on a free loopback port.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER = "Hello from the fake model."
# usage the server reports, so tests can compute the expected cost by hand
CHAT_USAGE = {
    "prompt_tokens": 20,
    "completion_tokens": 10,
    "total_tokens": 30,
    "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0},
}
COMPLETION_USAGE = {"prompt_tokens": 8, "completion_tokens": 6, "total_tokens": 14}
EMBEDDING_USAGE = {"prompt_tokens": 5, "total_tokens": 5}
RESPONSES_USAGE = {
    "input_tokens": 30,
    "output_tokens": 12,
    "total_tokens": 42,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens_details": {"reasoning_tokens": 2},
}
TOOL_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}
FAIL_MODEL = "fail-model"


def _chat(body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": ANSWER, "refusal": None}
    finish = "stop"
    if body.get("tools"):
        message = {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL], "refusal": None}
        finish = "tool_calls"
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": CHAT_USAGE,
    }


def _chat_chunks(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time())}
    base["model"] = body.get("model")
    words = ANSWER.split(" ")
    for index, word in enumerate(words):
        delta: dict[str, Any] = {"content": word if index == 0 else " " + word}
        if index == 0:
            delta["role"] = "assistant"
        yield {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": CHAT_USAGE}


def _completion(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "cmpl-fake",
        "object": "text_completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "text": ANSWER, "finish_reason": "stop", "logprobs": None}],
        "usage": COMPLETION_USAGE,
    }


def _embedding(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body.get("input")
    count = len(inputs) if isinstance(inputs, list) else 1
    return {
        "object": "list",
        "model": body.get("model"),
        "data": [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]} for i in range(count)],
        "usage": EMBEDDING_USAGE,
    }


def _response(body: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    return {
        "id": "resp_fake",
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": body.get("model"),
        "output": [
            {
                "type": "message",
                "id": "msg_fake",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": ANSWER, "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": RESPONSES_USAGE,
    }


def _response_events(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield {"type": "response.created", "sequence_number": 0, "response": {**_response(body, "in_progress")}}
    for number, word in enumerate(ANSWER.split(" "), start=1):
        yield {
            "type": "response.output_text.delta",
            "sequence_number": number,
            "item_id": "msg_fake",
            "output_index": 0,
            "content_index": 0,
            "delta": word + " ",
            "logprobs": [],
        }
    yield {"type": "response.completed", "sequence_number": 99, "response": _response(body)}


_ROUTES = {
    "/v1/chat/completions": (_chat, _chat_chunks),
    "/v1/completions": (_completion, None),
    "/v1/embeddings": (_embedding, None),
    "/v1/responses": (_response, _response_events),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small writes must not wait for delayed ACKs (40 ms per call)

    def log_message(self, *args: Any) -> None:  # quiet: tests read results, not access logs
        pass

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        self.server.requests.append((self.path, body))  # type: ignore[attr-defined]
        path = self.path.split("?")[0]  # Azure: /openai/deployments/<name>/chat/completions?api-version=
        route = next((r for suffix, r in _ROUTES.items() if path.endswith(suffix[3:])), None)
        if route is None:
            return self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
        if body.get("model") == FAIL_MODEL:
            error = {"message": "The model fail-model does not exist", "type": "invalid_request_error"}
            return self._json(400, {"error": {**error, "param": None, "code": "model_not_found"}})
        plain, streamed = route
        if body.get("stream") and streamed is not None:
            return self._sse(streamed(body), named=path.endswith("/responses"))
        return self._json(200, plain(body))

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, events: Iterator[dict[str, Any]], *, named: bool) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for event in events:
            prefix = f"event: {event['type']}\n" if named else ""
            self._chunk(f"{prefix}data: {json.dumps(event)}\n\n".encode())
        if not named:
            self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


@dataclass
class FakeOpenAI:
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def requests(self) -> list[tuple[str, dict[str, Any]]]:
        return self.server.requests  # type: ignore[attr-defined,no-any-return]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start() -> FakeOpenAI:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="fake-openai", daemon=True)
    thread.start()
    return FakeOpenAI(server, thread)


if __name__ == "__main__":  # a separate process for benchmarks: prints its base URL, serves until killed
    fake = start()
    print(fake.base_url, flush=True)
    fake.thread.join()
