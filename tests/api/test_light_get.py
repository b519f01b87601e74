"""The light prompt fetch (`langfuse_nb.api._light`) and the lazily built REST client.

The first ``get_prompt`` of a process fetches over a plain socket instead of importing httpx, pydantic and
the API models; these tests check it behaves as the full client would (answers, errors, TLS trust, keep-
alive, redirects, proxies) against real servers: the embedded one, and small socket servers that answer
with exactly the bytes a test needs (chunked bodies, closed connections, redirects).
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_testkit import self_signed_tls

from langfuse_nb.api import _light
from langfuse_nb.api.resources import RESOURCE_TABLE, RESOURCES
from langfuse_nb.errors import ApiError, NotFoundError, UnauthorizedError
from langfuse_nb.sdk import registry
from langfuse_nb.server.runner import ServerHandle

PROMPT = {
    "type": "text",
    "name": "p",
    "version": 1,
    "prompt": "Hi {{x}}",
    "config": {},
    "labels": [],
    "tags": [],
}
Answer = Callable[[bytes], bytes]  # request bytes -> raw response bytes


@pytest.fixture(autouse=True)
def registered_clients_restored() -> Iterator[None]:
    """These tests make clients under other public keys (and the session server's key with a wrong secret);
    left registered, a later test's ``get_client()`` sees several projects and answers with a disabled
    client (the notebook tests failed after this file when run in one session)."""
    before = dict(registry._instances)
    yield
    with registry._lock:
        registry._instances.clear()
        registry._instances.update(before)
        registry._default = None


class RawServer:
    """A loopback server answering each request with ``answer(request)``; records what it received."""

    def __init__(self, answer: Answer, *, close_after: bool = False, port: int = 0) -> None:
        self.answer, self.close_after = answer, close_after
        self.requests: list[bytes] = []
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", port))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                request, _, buffer = buffer.partition(b"\r\n\r\n")
                self.requests.append(request)
                conn.sendall(self.answer(request))
                if self.close_after:
                    return

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    made: list[RawServer] = []

    def make(answer: Answer, **kwargs: Any) -> RawServer:
        made.append(RawServer(answer, **kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()


def _json_answer(body: Any, status: str = "200 OK", extra: str = "") -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n{extra}\r\n"
    )
    return head.encode() + data


def _get(url: str, **kwargs: Any) -> Any:
    return _light.get_prompt_json(
        url, {"Authorization": "Basic eA=="}, "p", version=None, label=None, timeout=2, **kwargs
    )


# -- against the embedded server -------------------------------------------------------------------------
def test_first_get_prompt_imports_neither_httpx_nor_pydantic(server: ServerHandle) -> None:
    """The defect: a fresh process's first get_prompt imported httpx, httpcore, trio, pydantic (~0.4 s)."""
    name = f"light-{uuid.uuid4().hex[:8]}"
    code = f"""
import sys
from langfuse_nb import Langfuse
lf = Langfuse(public_key={server.public_key!r}, secret_key={server.secret_key!r}, base_url={server.url!r},
              tracing_enabled=False)
lf.api.prompts.create(request={{"name": {name!r}, "prompt": "Hello {{{{who}}}}", "labels": ["production"],
                                "type": "text"}})
fresh = Langfuse(public_key={server.public_key!r}, secret_key={server.secret_key!r}, base_url={server.url!r},
                 tracing_enabled=False)
fresh.clear_prompt_cache()
for mod in [m for m in sys.modules if m.split(".")[0] in ("httpx", "httpcore", "pydantic", "trio")]:
    del sys.modules[mod]  # the setup client loaded them; the fetch below must not need them again
prompt = fresh.get_prompt({name!r})
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & {{"httpx", "httpcore", "pydantic", "trio"}})
print(prompt.compile(who="you"), prompt.version, loaded)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split("\n")[0] == "Hello you 1 []"


def test_light_and_full_client_agree(server: ServerHandle) -> None:
    from langfuse_nb import Langfuse

    name = f"agree/{uuid.uuid4().hex[:8]} x"  # a slash and a space: both paths must encode the name alike
    lf = Langfuse(public_key=server.public_key, secret_key=server.secret_key, base_url=server.url)
    lf.create_prompt(name=name, type="chat", prompt=[{"role": "user", "content": "Hi {{x}}"}], labels=["dev"])
    light = Langfuse(public_key=server.public_key, secret_key=server.secret_key, base_url=server.url)
    light.clear_prompt_cache()
    fetched = light.get_prompt(name, label="dev", type="chat")
    assert "api" not in vars(light)  # fetched without building the REST client
    full = lf.api.prompts.get(name, label="dev")
    assert fetched.prompt == [{"type": "message", "role": "user", "content": "Hi {{x}}"}]
    assert (fetched.name, fetched.version, fetched.labels) == (full.name, full.version, full.labels)
    with pytest.raises(NotFoundError):
        light.get_prompt(name, version=99, max_retries=0)
    wrong = Langfuse(public_key=server.public_key, secret_key="sk-wrong", base_url=server.url)
    with pytest.raises(UnauthorizedError):
        wrong.get_prompt(name, max_retries=0)


def test_an_existing_rest_client_is_used(server: ServerHandle) -> None:
    from langfuse_nb import Langfuse

    name = f"reuse-{uuid.uuid4().hex[:8]}"
    lf = Langfuse(public_key=server.public_key, secret_key=server.secret_key, base_url=server.url)
    lf.create_prompt(name=name, prompt="x", labels=["production"])  # builds lf.api
    lf.clear_prompt_cache()
    calls: list[str] = []
    real = lf.api.prompts.get

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    lf.api.prompts.get = counting  # type: ignore[method-assign]
    assert lf.get_prompt(name).prompt == "x" and calls == [name]


# -- HTTP/1.1 details ------------------------------------------------------------------------------------
def test_chunked_body_and_keep_alive(raw_server: Callable[..., RawServer]) -> None:
    data = json.dumps(PROMPT).encode()
    chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(part), part) for part in (data[:5], data[5:]))
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\nX-Trailer: y\r\n\r\n"
    server = raw_server(lambda request: answer)
    assert _get(server.url) == PROMPT
    assert _get(server.url) == PROMPT
    assert server.connections == 1  # the second request reused the kept-alive connection
    head = server.requests[0].decode()
    assert head.startswith("GET /api/public/v2/prompts/p HTTP/1.1\r\n")
    assert "Authorization: Basic eA==" in head and f"Host: {server.url[7:]}" in head


def test_interim_answer_and_body_until_close(raw_server: Callable[..., RawServer]) -> None:
    answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n" + json.dumps(PROMPT).encode()
    server = raw_server(lambda request: answer, close_after=True)
    assert _get(server.url) == PROMPT
    assert _get(server.url) == PROMPT
    assert server.connections == 2  # a body read until the server closed: that connection is not reused


def test_connection_closed_by_the_server_while_idle_is_replaced(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(lambda request: _json_answer(PROMPT), close_after=True)  # closes despite keep-alive
    assert _get(server.url) == PROMPT
    assert _get(server.url) == PROMPT  # the pooled socket is dead: a fresh connection, no error
    assert server.connections == 2


def test_status_errors_and_non_json(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(lambda request: _json_answer({"message": "no"}, "404 Not Found"))
    with pytest.raises(NotFoundError):
        _get(server.url)
    text = raw_server(lambda request: b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 4\r\n\r\noops")
    with pytest.raises(ApiError) as caught:
        _get(text.url)
    assert (caught.value.status_code, caught.value.body) == (502, "oops")


def test_redirect_goes_to_the_full_client(raw_server: Callable[..., RawServer]) -> None:
    from langfuse_nb import Langfuse

    def answer(request: bytes) -> bytes:
        if request.startswith(b"GET /moved "):
            return _json_answer({**PROMPT, "prompt": "followed"})
        return b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /moved\r\nContent-Length: 0\r\n\r\n"

    moved = raw_server(answer)
    with pytest.raises(_light.NeedsFullClient):
        _get(moved.url)
    lf = Langfuse(public_key="pk-lf-moved", secret_key="sk", base_url=moved.url, tracing_enabled=False)
    assert lf.get_prompt("p").prompt == "followed"  # httpx followed it, as it always did
    assert "api" in vars(lf)


def test_malformed_answer_is_a_protocol_error(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(lambda request: b"SMTP ready\r\n\r\n")
    with pytest.raises(httpx.RemoteProtocolError):
        _get(server.url)


def test_transport_errors_are_httpx_errors() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        _get(f"http://127.0.0.1:{port}")
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        with pytest.raises(httpx.ReadTimeout):
            _light.get_json(f"http://127.0.0.1:{silent.getsockname()[1]}", "x", {}, 0.2)
    finally:
        silent.close()


def test_a_server_being_launched_is_waited_for(raw_server: Callable[..., RawServer]) -> None:
    from langfuse_nb._retry import expect_startup

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url, ready = f"http://127.0.0.1:{port}", threading.Event()
    expect_startup(url, ready)  # what %load_ext does when it launches the local server

    def launch() -> None:
        time.sleep(0.3)
        raw_server(lambda request: _json_answer(PROMPT), port=port)
        ready.set()

    threading.Thread(target=launch, daemon=True).start()
    assert _get(url) == PROMPT  # refused at first: waited for the launch instead of failing


def test_header_values_cannot_split_the_request() -> None:
    with pytest.raises(ValueError, match="invalid HTTP header"):
        _light.get_json("http://127.0.0.1:9", "x", {"X-Bad": "a\r\nInjected: 1"}, 1)


def test_usable_only_where_it_behaves_like_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert _light.usable("http://127.0.0.1:3939", None)
    assert _light.usable("https://cloud.langfuse.com", None)
    assert not _light.usable("http://127.0.0.1:3939", object())  # the caller's httpx client decides
    assert not _light.usable("http://user:pw@127.0.0.1:3939", None)
    assert not _light.usable("ftp://127.0.0.1", None)
    monkeypatch.setenv("https_proxy", "http://proxy:3128")  # httpx sends only https URLs through it
    assert _light.usable("http://127.0.0.1:3939", None)
    assert not _light.usable("https://cloud.langfuse.com", None)
    monkeypatch.setenv("ALL_PROXY", "http://proxy:3128")
    assert not _light.usable("http://127.0.0.1:3939", None)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    context, cert = self_signed_tls(tmp_path)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
                    tls.sendall(_json_answer(PROMPT, extra="Connection: close\r\n"))
            except (OSError, ssl.SSLError):
                if listener.fileno() == -1:
                    return

    threading.Thread(target=serve, daemon=True).start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}", cert
    listener.close()


def test_tls_is_verified_like_httpx_default(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = tls_server
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setattr(_light, "_tls", None)  # a context that has not loaded its trust yet
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE"):
        _get(url)  # self-signed: not in certifi's bundle
    monkeypatch.setattr(_light, "_tls", None)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert _get(url) == PROMPT


# -- the REST client builds only the resources it is asked for ----------------------------------------------
def test_rest_client_imports_only_the_resources_used() -> None:
    code = """
import sys
from langfuse_nb.api import LangfuseAPI
api = LangfuseAPI(base_url="http://127.0.0.1:9", username="pk", password="sk")
api.prompts
print(sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("langfuse_nb.api.resources.")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "['prompts']"


def test_resource_table_matches_the_modules() -> None:
    from langfuse_nb.api import AsyncLangfuseAPI, LangfuseAPI

    assert set(RESOURCES) == set(RESOURCE_TABLE)
    api = LangfuseAPI(base_url="http://127.0.0.1:9", username="pk", password="sk")
    async_api = AsyncLangfuseAPI(base_url="http://127.0.0.1:9", username="pk", password="sk")
    for attribute, (sync_cls, async_cls) in RESOURCES.items():
        assert type(getattr(api, attribute)) is sync_cls and attribute in dir(api)
        assert type(getattr(async_api, attribute)) is async_cls
        assert getattr(api, attribute) is getattr(api, attribute)  # made once
    with pytest.raises(AttributeError):
        api.not_a_resource  # noqa: B018
    api.close()


def test_a_callers_httpx_client_carries_the_prompt_fetch(server: ServerHandle) -> None:
    from langfuse_nb import Langfuse

    name = f"own-client-{uuid.uuid4().hex[:8]}"
    Langfuse(public_key=server.public_key, secret_key=server.secret_key, base_url=server.url).create_prompt(
        name=name, prompt="via hooks", labels=["production"]
    )
    seen: list[str] = []
    own = httpx.Client(event_hooks={"request": [lambda request: seen.append(request.url.path)]})
    lf = Langfuse(
        public_key=server.public_key,
        secret_key=server.secret_key,
        base_url=server.url,
        httpx_client=own,
        tracing_enabled=False,
    )
    lf.clear_prompt_cache()
    assert lf.get_prompt(name).prompt == "via hooks"
    assert seen == [f"/api/public/v2/prompts/{name}"]  # its hooks, proxies and transport were used
    own.close()


def test_trace_links_and_auth_check_need_no_rest_client(server: ServerHandle) -> None:
    """get_trace_url() looked the project id up through the REST client: ~0.3 s of imports in a fresh
    process for a link."""
    code = f"""
import sys
from langfuse_nb import Langfuse
lf = Langfuse(public_key={server.public_key!r}, secret_key={server.secret_key!r}, base_url={server.url!r},
              tracing_enabled=False)
url = lf.get_trace_url(trace_id="0" * 32)
ok = lf.auth_check()
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & {{"httpx", "httpcore", "pydantic"}})
print(url, ok, loaded, "api" in vars(lf))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    url, ok, rest = out.stdout.strip().split(" ", 2)
    assert url.startswith(server.url) and "/project/" in url and url.endswith("/traces/" + "0" * 32)
    assert (ok, rest) == ("True", "[] False")
    from langfuse_nb import Langfuse

    wrong = Langfuse(
        public_key=server.public_key, secret_key="sk-wrong", base_url=server.url, tracing_enabled=False
    )
    with pytest.raises(UnauthorizedError):
        wrong.auth_check()
