"""``langfuse-nb`` command line: a table of subcommands (``serve`` for now)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langfuse_nb.server.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SECRET_KEY,
    SECRET_KEY_ENV,
)


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
    parser.add_argument("--public-key", default=DEFAULT_PUBLIC_KEY, help="public key clients must use")
    parser.add_argument(
        "--secret-key",
        default=os.environ.get(SECRET_KEY_ENV) or DEFAULT_SECRET_KEY,
        help=f"secret key clients must use (default: ${SECRET_KEY_ENV}, else {DEFAULT_SECRET_KEY})",
    )
    parser.add_argument("--max-body-mb", type=_positive, default=None, help="largest accepted request body")


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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _run_serve(args: argparse.Namespace) -> int:
    import sqlite3
    from pathlib import Path

    import uvicorn

    from langfuse_nb.server.app import create_app
    from langfuse_nb.server.config import ServerConfig, default_db_path
    from langfuse_nb.server.runner import ServerStartError, bind_socket, is_healthy, url_for

    url = url_for(args.host, args.port)
    try:
        sock = bind_socket(args.host, args.port)
    except ServerStartError as exc:
        running = " (a langfuse_nb-compatible server is already running there)" if is_healthy(url) else ""
        print(f"langfuse-nb: {exc}{running}", file=sys.stderr)
        return 1
    url = url_for(args.host, sock.getsockname()[1])
    db = Path(args.db).expanduser() if args.db else default_db_path()
    extra = {"max_body_bytes": int(args.max_body_mb * 1024 * 1024)} if args.max_body_mb else {}
    config = ServerConfig(
        db_path=db, public_key=args.public_key, secret_key=args.secret_key, base_url=url, **extra
    )
    try:
        app = create_app(config)
    except (OSError, sqlite3.Error, RuntimeError) as exc:  # unwritable path, not a database, newer schema
        sock.close()
        print(f"langfuse-nb: cannot open the database {db}: {exc}", file=sys.stderr)
        return 1
    if not _is_loopback(args.host):
        print(
            f"WARNING: listening on {args.host}, reachable from other machines; anyone who knows the keys "
            "can read and write your traces.",
            file=sys.stderr,
        )
    print(
        f"langfuse_nb server at {url}\n  database:   {db}\n  LANGFUSE_BASE_URL={url}\n"
        f"  LANGFUSE_PUBLIC_KEY={args.public_key}\n  LANGFUSE_SECRET_KEY={args.secret_key}\n"
        "Press Ctrl+C to stop.",
        flush=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=3)
    )
    server.run(sockets=[sock])
    return 0


COMMANDS: dict[str, Command] = {
    "serve": Command("run the local Langfuse-compatible server", _configure_serve, _run_serve),
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
