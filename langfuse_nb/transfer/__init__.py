"""Copy local work to a real Langfuse (push) and the team's prompts and datasets back (pull).

Both read and write through the public API only, so any two Langfuse-compatible servers work: the
embedded server (a database file is served on a private loopback port for the copy), Langfuse Cloud or a
self-hosted Langfuse. Every copy is idempotent: traces and observations travel as OTLP spans with their own
ids and scores as ingestion events with theirs (both upserted by id); prompts, score configs, dataset
items and dataset run items are compared with what the target already holds, and only what is missing
is created. One failing item is reported and the rest go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from langfuse_nb.transfer.copy import Copy
from langfuse_nb.transfer.report import Endpoint, TransferReport


def push(
    source: Endpoint,
    target: Endpoint,
    *,
    since: dt.datetime | None = None,
    trace_name: str | None = None,
    dry_run: bool = False,
    progress: bool | None = None,
) -> TransferReport:
    """Copy prompts, score configs, datasets and items, traces with observations, scores and dataset runs."""
    report = TransferReport(dry_run=dry_run)
    with Copy(source, target, report, dry_run, progress) as copy:
        copy.prompts()
        configs = copy.score_configs()
        datasets = copy.datasets()
        trace_ids = copy.traces(since, trace_name)
        copy.media()
        copy.scores(trace_ids, configs, since)
        copy.dataset_runs(datasets, trace_ids)
    return report


def pull(
    source: Endpoint, target: Endpoint, *, dry_run: bool = False, progress: bool | None = None
) -> TransferReport:
    """Copy prompts (all versions and labels) and datasets with their items into ``target``."""
    report = TransferReport(dry_run=dry_run)
    with Copy(source, target, report, dry_run, progress) as copy:
        copy.prompts()
        copy.datasets()
    return report


def remote(url: str | None = None, public_key: str | None = None, secret_key: str | None = None) -> Endpoint:
    """A Langfuse from arguments, else from LANGFUSE_BASE_URL / LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY."""
    from langfuse_nb._settings import resolve_settings

    settings = resolve_settings(base_url=url, public_key=public_key, secret_key=secret_key)
    if not (settings.public_key and settings.secret_key):
        raise ValueError("the remote's keys are missing: set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY")
    return Endpoint(settings.base_url, settings.public_key, settings.secret_key)


def push_local(
    to: str | None = None,
    *,
    public_key: str | None = None,
    secret_key: str | None = None,
    db: str | None = None,
    since: dt.datetime | None = None,
    trace_name: str | None = None,
    dry_run: bool = False,
    progress: bool | None = None,
) -> TransferReport:
    """``langfuse-nb push`` from Python: the embedded server's database (or ``db``) to a Langfuse."""
    target = remote(to, public_key, secret_key)
    with local_source(db) as source:
        return push(source, target, since=since, trace_name=trace_name, dry_run=dry_run, progress=progress)


def pull_local(
    from_url: str | None = None,
    *,
    public_key: str | None = None,
    secret_key: str | None = None,
    db: str | None = None,
    dry_run: bool = False,
    progress: bool | None = None,
) -> TransferReport:
    """``langfuse-nb pull`` from Python: a Langfuse's prompts and datasets into the local database."""
    source = remote(from_url, public_key, secret_key)
    with local_source(db) as target:
        return pull(source, target, dry_run=dry_run, progress=progress)


@contextmanager
def local_source(db_path: str | None) -> Iterator[Endpoint]:
    """The embedded server's database served on a private loopback port (random keys) for the copy."""
    import secrets
    from pathlib import Path

    from langfuse_nb.server.config import default_db_path
    from langfuse_nb.server.runner import start_in_thread

    path = Path(db_path).expanduser() if db_path else default_db_path()
    if not path.exists():
        raise FileNotFoundError(f"no local database at {path} (give --db PATH)")
    # the copy reads and writes through the API of a private in-process server on that file
    token = secrets.token_hex(8)
    handle = start_in_thread(
        port=0, db_path=path, public_key=f"pk-lf-push-{token}", secret_key=f"sk-lf-push-{token}"
    )
    try:
        yield Endpoint(handle.url, handle.public_key, handle.secret_key)
    finally:
        handle.stop()


__all__ = ["Endpoint", "TransferReport", "local_source", "pull", "pull_local", "push", "push_local", "remote"]
