"""``langfuse-nb`` command line: a table of subcommands (``serve``, ``stop``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langfuse_nb.server.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SECRET_KEY,
    GRACEFUL_SHUTDOWN_SECONDS,
    SECRET_KEY_ENV,
)
from langfuse_nb.server.redact import mask, redact_logs
from langfuse_nb.transfer import cli as T

INIT_PUBLIC_KEY_ENV = "LANGFUSE_INIT_PROJECT_PUBLIC_KEY"
INIT_SECRET_KEY_ENV = "LANGFUSE_INIT_PROJECT_SECRET_KEY"


@dataclass(frozen=True)
class Command:
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to bind (default: loopback only)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--db", default=None, help="SQLite file (default: $LANGFUSE_NB_DB or ~/.langfuse_nb/langfuse.db)"
    )
    # headless set-ups (CI) name the keys as for self-hosted Langfuse: LANGFUSE_INIT_PROJECT_*_KEY
    parser.add_argument(
        "--public-key",
        default=os.environ.get(INIT_PUBLIC_KEY_ENV) or DEFAULT_PUBLIC_KEY,
        help=f"public key clients must use (default: ${INIT_PUBLIC_KEY_ENV}, else {DEFAULT_PUBLIC_KEY})",
    )
    parser.add_argument(
        "--secret-key",
        default=os.environ.get(SECRET_KEY_ENV) or os.environ.get(INIT_SECRET_KEY_ENV) or DEFAULT_SECRET_KEY,
        help=f"secret key clients must use (default: ${SECRET_KEY_ENV} or ${INIT_SECRET_KEY_ENV}, "
        f"else {DEFAULT_SECRET_KEY})",
    )
    parser.add_argument("--max-body-mb", type=_positive, default=None, help="largest accepted request body")
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name browsers may use to reach the server (repeatable; localhost and IPs always work)",
    )
    parser.add_argument(
        "--insecure-default-keys",
        action="store_true",
        help="allow a non-loopback --host with the published default keys (anyone reaching it has access)",
    )


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, got {value}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:  # also rejects NaN
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _run_serve(args: argparse.Namespace) -> int:
    import sqlite3
    from pathlib import Path

    import uvicorn

    from langfuse_nb.server import gcpause
    from langfuse_nb.server.app import create_app
    from langfuse_nb.server.config import ServerConfig, default_db_path
    from langfuse_nb.server.runner import (
        ServerStartError,
        bind_socket,
        check_exposure,
        is_healthy,
        is_loopback_host,
        served_hosts,
        url_for,
    )

    url = url_for(args.host, args.port)
    try:
        check_exposure(args.host, args.secret_key, args.insecure_default_keys)
        sock = bind_socket(args.host, args.port)
    except ServerStartError as exc:
        running = " (a langfuse_nb-compatible server is already running there)" if is_healthy(url) else ""
        print(f"langfuse-nb: {exc}{running}", file=sys.stderr)
        return 1
    url = url_for(args.host, sock.getsockname()[1])
    db = Path(args.db).expanduser() if args.db else default_db_path()
    extra = {"max_body_bytes": int(args.max_body_mb * 1024 * 1024)} if args.max_body_mb else {}
    config = ServerConfig(
        db_path=db,
        public_key=args.public_key,
        secret_key=args.secret_key,
        base_url=url,
        allowed_hosts=served_hosts(args.host, args.allow_host),
        **extra,  # type: ignore[arg-type]
    )
    try:
        app = create_app(config)
    except (OSError, sqlite3.Error, RuntimeError) as exc:  # unwritable path, not a database, newer schema
        sock.close()
        print(f"langfuse-nb: cannot open the database {db}: {exc}", file=sys.stderr)
        return 1
    if not is_loopback_host(args.host):
        print(
            f"WARNING: listening on {args.host}, reachable from other machines; anyone who knows the keys "
            "can read and write your traces.",
            file=sys.stderr,
        )
    print(_banner(url, db, args.public_key, args.secret_key), flush=True)
    uv_config = uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS
    )
    redact_logs({args.secret_key})  # after uvicorn.Config: it installs the handlers the filter goes on
    gcpause.own_process()  # this interpreter runs only the server: big reads may hold off the collector
    uvicorn.Server(uv_config).run(sockets=[sock])
    return 0


def _banner(url: str, db: object, public_key: str, secret_key: str) -> str:
    # the output may end up in a log file (detached servers): a secret of the user's own never appears
    secret = secret_key if secret_key == DEFAULT_SECRET_KEY else f"{mask(secret_key)} (the key you set)"
    return (
        f"langfuse_nb server at {url}\n  database:   {db}\n  LANGFUSE_BASE_URL={url}\n"
        f"  LANGFUSE_PUBLIC_KEY={public_key}\n  LANGFUSE_SECRET_KEY={secret}\n"
        "Press Ctrl+C to stop."
    )


def _configure_stop(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--timeout", type=_positive, default=10.0, help="seconds to wait for it to exit")


def _run_stop(args: argparse.Namespace) -> int:
    """Stop the ``langfuse-nb serve`` process on the loopback port (the one the demo/notebook started)."""
    from langfuse_nb.server.runner import is_healthy, url_for

    url = url_for(DEFAULT_HOST, args.port)
    pid = _server_pid(url)
    if pid is None:
        print(f"langfuse-nb: no langfuse_nb server is running at {url}")
        return 0
    if not _is_serve_process(pid):
        # an in-process server (a kernel or a script running start_in_thread): stopping it would kill that
        print(
            f"langfuse-nb: the server at {url} runs inside process {pid}, not a `langfuse-nb serve` "
            "process; stop it from there",
            file=sys.stderr,
        )
        return 1
    import signal
    import time

    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline and is_healthy(url, timeout=0.5):
        time.sleep(0.1)
    if is_healthy(url, timeout=0.5):
        print(
            f"langfuse-nb: the server at {url} (pid {pid}) did not stop within {args.timeout:g}s",
            file=sys.stderr,
        )
        return 1
    print(f"langfuse-nb: stopped the server at {url} (pid {pid})")
    return 0


def _server_pid(url: str) -> int | None:
    """The pid a healthy langfuse_nb server reports in its health answer, else None."""
    import urllib.request

    from langfuse_nb.server.routes.health import PID_HEADER

    try:
        with urllib.request.urlopen(f"{url}/api/public/health", timeout=2.0) as resp:
            value = resp.headers.get(PID_HEADER) if resp.status == 200 else None
    except (OSError, ValueError):
        return None
    return int(value) if value and value.isdigit() else None


def _is_serve_process(pid: int) -> bool:
    """True when ``pid`` runs ``langfuse_nb serve`` / ``langfuse-nb serve`` (read from /proc or ps)."""
    import subprocess
    from pathlib import Path

    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        done = subprocess.run(["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True)
        argv = done.stdout
    words = argv.split()
    return "serve" in words and any(w.endswith(("langfuse_nb", "langfuse-nb")) for w in words)


COMMANDS: dict[str, Command] = {
    "serve": Command("run the local Langfuse-compatible server", _configure_serve, _run_serve),
    "stop": Command("stop the local server started in the background", _configure_stop, _run_stop),
    "push": Command("copy local traces, scores, prompts, datasets to Langfuse", T.configure_push, T.run_push),
    "pull": Command("copy prompts and datasets from Langfuse to local", T.configure_pull, T.run_pull),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="langfuse-nb", description="langfuse_nb command line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.configure(sub.add_parser(name, help=command.help, description=command.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = COMMANDS.get(args.command or "")
    if command is None:
        parser.print_help()
        return 2
    try:
        return command.run(args)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
