"""``langfuse-nb push`` and ``langfuse-nb pull``: the command-line side of `langfuse_nb.transfer`.

The remote's keys come from ``--public-key``/``--secret-key`` or, better, from ``LANGFUSE_PUBLIC_KEY`` /
``LANGFUSE_SECRET_KEY`` / ``LANGFUSE_BASE_URL`` (read once through the client settings): a secret on the
command line is visible to every local user in ``ps``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the copy machinery loads when a copy runs, not when the CLI builds its parser
    from langfuse_nb.transfer import TransferReport


def _remote_args(parser: argparse.ArgumentParser, flag: str, what: str) -> None:
    parser.add_argument(flag, dest="url", help=f"{what} Langfuse URL (default: LANGFUSE_BASE_URL)")
    parser.add_argument("--public-key", help="its public key (default: LANGFUSE_PUBLIC_KEY)")
    parser.add_argument(
        "--secret-key",
        help="its secret key (default: LANGFUSE_SECRET_KEY; prefer the env var: argv is public)",
    )
    parser.add_argument("--db", help="the local database (default: the embedded server's, ~/.langfuse_nb)")
    parser.add_argument("--dry-run", action="store_true", help="count what would be copied, send nothing")


def configure_push(parser: argparse.ArgumentParser) -> None:
    _remote_args(parser, "--to", "target")
    parser.add_argument(
        "--since", type=_timestamp, help="only traces (and their scores) from this ISO time on"
    )
    parser.add_argument("--trace-name", help="only traces with this name")


def configure_pull(parser: argparse.ArgumentParser) -> None:
    _remote_args(parser, "--from", "source")


def run_push(args: argparse.Namespace) -> int:
    from langfuse_nb.transfer import push_local

    def copy() -> TransferReport:
        return push_local(
            args.url,
            public_key=args.public_key,
            secret_key=args.secret_key,
            db=args.db,
            since=args.since,
            trace_name=args.trace_name,
            dry_run=args.dry_run,
        )

    return _run(args, copy, "pushed to")


def run_pull(args: argparse.Namespace) -> int:
    from langfuse_nb.transfer import pull_local

    def copy() -> TransferReport:
        return pull_local(
            args.url, public_key=args.public_key, secret_key=args.secret_key, db=args.db, dry_run=args.dry_run
        )

    return _run(args, copy, "pulled from")


def _run(args: argparse.Namespace, copy: Callable[[], TransferReport], verb: str) -> int:
    try:
        report = copy()
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"langfuse-nb: {exc}", file=sys.stderr)
        return 2
    where = args.url or "LANGFUSE_BASE_URL"
    print(f"dry run: nothing {verb} {where}" if args.dry_run else f"{verb.capitalize()} {where}")
    print(report.summary())
    return 0 if report.ok else 1


def _timestamp(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO-8601 time: {text!r} (e.g. 2026-12-01T00:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


__all__ = ["configure_pull", "configure_push", "run_pull", "run_push"]
