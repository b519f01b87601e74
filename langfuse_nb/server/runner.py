"""Start, find and stop the embedded server: in a thread, or as a detached process."""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langfuse_nb.server.config import (
    DEFAULT_HOST,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_PORT,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SECRET_KEY,
    GRACEFUL_SHUTDOWN_SECONDS,
    SECRET_KEY_ENV,
    ServerConfig,
    default_db_path,
    ingest_workers_from_env,
)
from langfuse_nb.server.files import make_private_dir, open_private_log

_log = logging.getLogger("langfuse_nb")

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_PUBLIC_KEY",
    "DEFAULT_SECRET_KEY",
    "ServerHandle",
    "ServerStartError",
    "check_exposure",
    "default_db_path",
    "ensure_server",
    "is_healthy",
    "start_detached",
    "start_in_thread",
]


class ServerStartError(RuntimeError):
    """The server did not come up (port taken by something else, wrong keys, crash, timeout)."""


@dataclass
class ServerHandle:
    """A running server; ``stop()`` only stops what this handle started."""

    url: str
    public_key: str
    secret_key: str
    db_path: Path | None
    started: bool
    _stopper: Callable[[float], None] | None = field(default=None, repr=False)
    pid: int | None = None
    _ready: threading.Event | None = field(default=None, repr=False)  # set once a `wait=False` start ends
    startup_error: str | None = None  # why a `wait=False` start failed

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """True once the server answers (at once unless it came from ``start_detached(wait=False)``)."""
        if self._ready is not None and not self._ready.wait(timeout):
            return False
        return self.startup_error is None

    def stop(self, timeout: float = 5.0) -> None:
        stopper, self._stopper = self._stopper, None
        if stopper is not None:
            stopper(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def is_healthy(url: str, timeout: float = 1.0) -> bool:
    """True when ``url`` answers ``GET /api/public/health`` with status OK."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/public/health", timeout=timeout) as resp:
            return resp.status == 200 and json.loads(resp.read()).get("status") == "OK"
    except (OSError, ValueError, AttributeError):
        return False


def start_in_thread(
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    db_path: Path | str | None = None,
    public_key: str = DEFAULT_PUBLIC_KEY,
    secret_key: str = DEFAULT_SECRET_KEY,
    timeout: float = 10.0,
    max_body_bytes: int | None = None,
    allowed_hosts: Sequence[str] = (),
    insecure_default_keys: bool = False,
    ingest_workers: int | None = None,
) -> ServerHandle:
    """Serve in a daemon thread of this process (port 0 picks a free port; ``max_body_bytes`` for tests).

    ``allowed_hosts``: host names browsers may use besides localhost and IP addresses (see guard.py).
    ``insecure_default_keys``: allow a non-loopback ``host`` with the published default keys.
    ``ingest_workers``: child processes for span ingest (default ``LANGFUSE_NB_INGEST_WORKERS``, else 0).
    In-thread servers ingest in this process unless asked: they serve scripts, tests and tools, where a
    child per server costs more (~0.2 s of CPU to start) than it saves; the notebook's own server is a
    detached ``langfuse-nb serve``, which starts one worker. A kernel that hosts a busy server itself
    keeps its interpreter for the user's code with ``ingest_workers=1``.
    """
    check_exposure(host, secret_key, insecure_default_keys)
    reused = _reuse_if_running(host, port, public_key, secret_key)
    if reused is not None:
        return reused
    import uvicorn

    from langfuse_nb.server.app import create_app

    sock = bind_socket(host, port)
    url = url_for(host, sock.getsockname()[1])
    db = Path(db_path) if db_path is not None else default_db_path()
    config = ServerConfig(
        db_path=db,
        public_key=public_key,
        secret_key=secret_key,
        base_url=url,
        max_body_bytes=max_body_bytes or DEFAULT_MAX_BODY_BYTES,
        allowed_hosts=served_hosts(host, allowed_hosts),
        ingest_workers=ingest_workers_from_env(0) if ingest_workers is None else ingest_workers,
    )
    try:
        app = create_app(config)
    except BaseException:
        sock.close()
        raise
    # log_config=None: leave the host process's (e.g. a notebook kernel's) logging setup untouched
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            loop="asyncio",  # never uvloop: "auto" would switch the host process's event-loop policy
        )
    )
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        daemon=True,
        name=f"langfuse-nb-server-{sock.getsockname()[1]}",
    )
    thread.start()

    def stop(wait: float) -> None:
        server.should_exit = True
        thread.join(wait)
        sock.close()

    try:
        _wait_until_healthy(url, timeout, thread.is_alive)
    except ServerStartError:
        stop(1.0)
        raise
    return ServerHandle(url, public_key, secret_key, db, True, stop)


def start_detached(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    db_path: Path | str | None = None,
    public_key: str = DEFAULT_PUBLIC_KEY,
    secret_key: str = DEFAULT_SECRET_KEY,
    timeout: float = 10.0,
    insecure_default_keys: bool = False,
    wait: bool = True,
) -> ServerHandle:
    """Serve from a separate process that outlives this one; reuses a healthy server on the port.

    ``wait=False`` returns as soon as the process is launched (``%load_ext`` prints its line at once):
    readiness is checked in the background, see `ServerHandle.wait_ready` and ``startup_error``.
    """
    check_exposure(host, secret_key, insecure_default_keys)
    reused = _reuse_if_running(host, port, public_key, secret_key)
    if reused is not None:
        return reused
    if port == 0:
        port = _free_port(host)
    elif not _port_free(host, port):
        # a racing launcher (another kernel) may be starting its server there: wait for it, else say why
        reused = _wait_for_reusable(host, port, public_key, secret_key, timeout)
        if reused is not None:
            return reused
        raise ServerStartError(
            f"port {port} on {host} is in use by another program (not a langfuse_nb server); "
            "choose another port"
        )
    db = Path(db_path) if db_path is not None else default_db_path()
    make_private_dir(db.parent)
    process = _spawn(host, port, db, public_key, secret_key, insecure_default_keys)
    url = url_for(host, port)
    if not wait:
        return _starting_handle(process, url, public_key, secret_key, db, timeout)
    deadline = time.monotonic() + timeout
    try:
        _wait_until_healthy(url, timeout, lambda: process.poll() is None)
    except ServerStartError as exc:
        _terminate(process, 1.0)
        # a racing launcher (another kernel) may have won the port meanwhile: use its server
        reused = _reuse_if_running(host, port, public_key, secret_key)
        if reused is not None:
            return reused
        raise ServerStartError(f"{exc}\n{_log_tail(_log_path(db))}") from None
    if _serving_pid(url) not in (process.pid, None):
        # healthy, but another process serves the port: ours lost the bind race and exits on its own
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(max(0.1, deadline - time.monotonic()))
        _terminate(process, 1.0)
        reused = _reuse_if_running(host, port, public_key, secret_key)
        if reused is not None:
            return reused
    return ServerHandle(
        url, public_key, secret_key, db, True, lambda wait: _terminate(process, wait), pid=process.pid
    )


def _starting_handle(
    process: subprocess.Popen[bytes], url: str, public_key: str, secret_key: str, db: Path, timeout: float
) -> ServerHandle:
    """The handle of a server still starting; a daemon thread records how its start ends."""
    ready = threading.Event()
    stopper = lambda wait: _terminate(process, wait)  # noqa: E731
    handle = ServerHandle(url, public_key, secret_key, db, True, stopper, pid=process.pid, _ready=ready)

    def finish() -> None:
        try:
            _wait_until_healthy(url, timeout, lambda: process.poll() is None)
            if _serving_pid(url) not in (process.pid, None):  # a racing launcher's server won the port
                handle.started, handle.pid, handle._stopper = False, None, None
        except ServerStartError as exc:
            handle.startup_error = str(exc)
            # the one-line message is out already: say it in the log, where the exporter's drops go too
            _log.warning("langfuse_nb: %s (server log: %s)", exc, _log_path(db))
        finally:
            ready.set()

    threading.Thread(target=finish, daemon=True, name="langfuse-nb-server-ready").start()
    return handle


def _port_free(host: str, port: int) -> bool:
    try:
        bind_socket(host, port).close()
    except ServerStartError:
        return False
    return True


def _wait_for_reusable(
    host: str, port: int, public_key: str, secret_key: str, timeout: float
) -> ServerHandle | None:
    """A healthy langfuse_nb server that appears on the port within ``timeout``, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reused = _reuse_if_running(host, port, public_key, secret_key)
        if reused is not None:
            return reused
        time.sleep(0.1)
    return None


def _serving_pid(url: str) -> int | None:
    """The pid the healthy server at ``url`` reports (None when it does not say)."""
    try:
        with urllib.request.urlopen(f"{url}/api/public/health", timeout=1.0) as resp:
            value = resp.headers.get("x-langfuse-nb-pid")
    except (OSError, ValueError):
        return None
    return int(value) if value and value.isdigit() else None


def ensure_server(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    db_path: Path | str | None = None,
    public_key: str = DEFAULT_PUBLIC_KEY,
    secret_key: str = DEFAULT_SECRET_KEY,
    timeout: float = 10.0,
    insecure_default_keys: bool = False,
    wait: bool = True,
) -> ServerHandle:
    """Reuse the healthy server on ``host:port``, else start a detached one (``wait``: see start_detached)."""
    return start_detached(
        host=host,
        port=port,
        db_path=db_path,
        public_key=public_key,
        secret_key=secret_key,
        timeout=timeout,
        insecure_default_keys=insecure_default_keys,
        wait=wait,
    )


def is_loopback_host(host: str) -> bool:
    """True for names and addresses only this machine can reach."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, secret_key: str, insecure_default_keys: bool = False) -> None:
    """Refuse to serve other machines with the published default secret key (anyone could use it)."""
    if is_loopback_host(host) or secret_key != DEFAULT_SECRET_KEY or insecure_default_keys:
        return
    raise ServerStartError(
        f"refusing to listen on {host} with the published default keys (anyone who can reach the port "
        "could read and change your data); pass your own keys (--public-key and --secret-key or "
        f"${SECRET_KEY_ENV}), or --insecure-default-keys to accept that"
    )


def served_hosts(host: str, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """Host names a browser may use for this server (besides localhost and IP literals, always allowed)."""
    names = [name for name in extra if name]
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if host:  # bound to a name: that name is how clients reach it
            names.append(host)
    if not is_loopback_host(host):
        names.append(socket.gethostname())  # reachable from other machines: its own name is fine too
    return tuple(dict.fromkeys(names))


def url_for(host: str, port: int) -> str:
    """The URL clients should use; wildcard binds are reached through loopback."""
    connect_host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(connect_host).version == 6:
            connect_host = f"[{connect_host}]"
    return f"http://{connect_host}:{port}"


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind (and listen on) the server socket; the caller learns the real port from it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets that declare it, and
    # without it keep-alive requests stall ~40 ms on Nagle + delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if sys.platform != "win32":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerStartError(f"cannot bind {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _reuse_if_running(host: str, port: int, public_key: str, secret_key: str) -> ServerHandle | None:
    if port == 0:
        return None
    url = url_for(host, port)
    if not is_healthy(url):
        return None
    project = _project_of(url, public_key, secret_key)
    if project is None:
        raise ServerStartError(f"a server already runs at {url} but rejects the keys {public_key!r}/***")
    database = (project.get("metadata") or {}).get("langfuseNbDatabase")
    return ServerHandle(url, public_key, secret_key, Path(database) if database else None, False)


def _project_of(url: str, public_key: str, secret_key: str) -> dict[str, Any] | None:
    """The server's project as these keys see it; None when they are rejected (or it cannot answer)."""
    token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()
    request = urllib.request.Request(
        f"{url}/api/public/projects", headers={"Authorization": f"Basic {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2.0) as resp:
            projects = json.loads(resp.read()).get("data") or [{}]
            return projects[0] if resp.status == 200 else None
    except (OSError, ValueError, AttributeError):
        return None


def _wait_until_healthy(url: str, timeout: float, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.01
    while time.monotonic() < deadline:
        if is_healthy(url, timeout=0.5):
            return
        if not alive():
            raise ServerStartError(f"the server for {url} exited during startup")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    raise ServerStartError(f"the server at {url} was not healthy within {timeout:.1f}s")


def _free_port(host: str) -> int:
    sock = bind_socket(host, 0)
    try:
        return sock.getsockname()[1]
    finally:
        sock.close()


def _log_path(db: Path) -> Path:
    return db.parent / "server.log"


def _spawn(
    host: str, port: int, db: Path, public_key: str, secret_key: str, insecure_default_keys: bool = False
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "langfuse_nb",
        "serve",
        "--host",
        host,
        "--port",
        str(port),
        "--db",
        str(db),
        "--public-key",
        public_key,
        *(["--insecure-default-keys"] if insecure_default_keys else []),
    ]
    # the secret goes through the environment, not argv, where `ps` would show it to every local user
    env = {**os.environ, SECRET_KEY_ENV: secret_key}
    log = open_private_log(_log_path(db))  # handed to the child, closed below
    try:
        kwargs: dict[str, object] = {"start_new_session": True}
        if sys.platform == "win32":
            kwargs = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS}
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True, env=env, **kwargs
        )  # type: ignore[call-overload]
    finally:
        log.close()


def _terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is not None:
        return
    if sys.platform == "win32":
        process.terminate()
    else:
        process.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT/SIGTERM
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
