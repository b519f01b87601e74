"""Server configuration, resolved once and passed inward."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3939
DEFAULT_PUBLIC_KEY = "pk-lf-local"
DEFAULT_SECRET_KEY = "sk-lf-local"
# how a launcher hands the secret key to `langfuse-nb serve` without putting it on the command line
SECRET_KEY_ENV = "LANGFUSE_NB_SECRET_KEY"
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_MEDIA_BYTES = 64 * 1024 * 1024
# on SIGTERM/SIGINT, requests in flight get this long to finish before uvicorn cancels them
GRACEFUL_SHUTDOWN_SECONDS = 10
# span ingest runs in up to this many child processes (ingest_worker.py; the second starts only when jobs
# overlap); 0 = in the server process. One core has no room for a second: the cores this process may run
# on (taskset or a cpuset can allow fewer than the machine has; a CPU quota alone does not show here).
INGEST_WORKERS_ENV = "LANGFUSE_NB_INGEST_WORKERS"
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
DEFAULT_INGEST_WORKERS = 2 if _CORES >= 2 else 1
# a worker that has not answered one request in this long is taken for hung: killed, request done in-process
DEFAULT_INGEST_TIMEOUT_SECONDS = 30.0
PROJECT_ID = "langfuse-nb-local"
PROJECT_NAME = "langfuse-nb"
ORG_ID = "langfuse-nb-local-org"
ORG_NAME = "langfuse-nb"
SERVER_VERSION = "3.0.0-langfuse-nb"


def _init_env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def ingest_workers_from_env(default: int = DEFAULT_INGEST_WORKERS) -> int:
    """``LANGFUSE_NB_INGEST_WORKERS`` when set to a number, else ``default``."""
    return _int_env(INGEST_WORKERS_ENV, default)


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isascii() and value.isdigit() else default


def default_db_path(environ: dict[str, str] | None = None) -> Path:
    """Database path: env ``LANGFUSE_NB_DB`` if set, else ``~/.langfuse_nb/langfuse.db``."""
    env = os.environ if environ is None else environ
    override = env.get("LANGFUSE_NB_DB")
    if override:
        return Path(override).expanduser()
    return Path.home() / ".langfuse_nb" / "langfuse.db"


@dataclass(frozen=True)
class ServerConfig:
    """Everything the app needs to know about its deployment."""

    db_path: Path = field(default_factory=default_db_path)
    public_key: str = DEFAULT_PUBLIC_KEY
    secret_key: str = DEFAULT_SECRET_KEY
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_media_bytes: int = DEFAULT_MAX_MEDIA_BYTES
    # set by the runner once the socket is bound; used to build media URLs when no Host header helps
    base_url: str | None = None
    # host names (besides localhost and IP literals) a browser may use to reach the server (guard.py)
    allowed_hosts: tuple[str, ...] = ()
    # child processes that decode, map and store spans, off the interpreter that answers reads
    ingest_workers: int = field(default_factory=ingest_workers_from_env)
    ingest_timeout_seconds: float = DEFAULT_INGEST_TIMEOUT_SECONDS
    # the workers' niceness increment: on a busy machine the scheduler favours the server (reads) over bulk
    # ingest, which keeps pace whenever a core is free
    ingest_worker_nice: int = field(default_factory=lambda: _int_env("LANGFUSE_NB_INGEST_NICE", 5))
    # chosen like self-hosted Langfuse's headless initialisation (LANGFUSE_INIT_*, which CI setups rely on),
    # read from the environment when the config is built (not constructor arguments)
    project_id: str = field(
        init=False, default_factory=lambda: _init_env("LANGFUSE_INIT_PROJECT_ID", PROJECT_ID)
    )
    project_name: str = field(
        init=False, default_factory=lambda: _init_env("LANGFUSE_INIT_PROJECT_NAME", PROJECT_NAME)
    )
    org_id: str = field(init=False, default_factory=lambda: _init_env("LANGFUSE_INIT_ORG_ID", ORG_ID))
    org_name: str = field(init=False, default_factory=lambda: _init_env("LANGFUSE_INIT_ORG_NAME", ORG_NAME))
    # like self-hosted Langfuse: the `fields` groups GET /traces returns when a request names none (all if "")
    traces_default_fields: str = field(
        init=False, default_factory=lambda: _init_env("LANGFUSE_API_TRACES_DEFAULT_FIELDS", "")
    )

    def __post_init__(self) -> None:
        # the project id is a URL path segment (/project/{id}/traces/...): keep it to URL-safe characters
        if not re.fullmatch(r"(?=.*[A-Za-z0-9])[A-Za-z0-9_.~-]{1,128}", self.project_id):
            raise ValueError(f"project id {self.project_id!r}: use 1-128 characters of A-Z a-z 0-9 _ . ~ -")

    @property
    def media_dir(self) -> Path:
        return Path(self.db_path).parent / (Path(self.db_path).stem + "-media")
