"""``%langfuse_status``: a few plain lines about where traces go and whether they get there."""

from __future__ import annotations

from typing import Any

from langfuse_nb.notebook.connect import Connection, run_bounded


def _auth(client: Any) -> str:
    try:
        ok = run_bounded(client.auth_check, 5.0)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return f"failed ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    return "ok" if ok else "failed"


def _server(conn: Connection) -> str:
    from langfuse_nb.server.runner import is_healthy

    if conn.server is None:
        return (
            "not used (LANGFUSE_* env vars point elsewhere)" if conn.mode == "configured" else "not running"
        )
    state = "healthy" if is_healthy(conn.server.url, timeout=1.0) else "NOT responding"
    origin = "started by this kernel" if conn.server.started else "reused"
    return f"{state} at {conn.server.url} ({origin}, database {conn.server.db_path or 'unknown'})"


def _web_ui(conn: Connection) -> list[str]:
    if conn.server is None:
        return []
    from langfuse_nb.notebook.connect import web_ui_hint

    return [f"web UI:       {web_ui_hint(conn.server)}"]


def _exports(client: Any) -> str:
    processor = getattr(getattr(client, "_resources", None), "processor", None)
    if processor is None:
        return "none (tracing is off)"
    pending = getattr(processor, "pending", "?")
    dropped = getattr(client._resources, "dropped", None) or {}
    line = (
        f"{pending} spans pending, dropped {dropped.get('spans', 0)} spans and "
        f"{dropped.get('scores', 0)} scores (docs/reliability.md)"
    )
    failing = getattr(getattr(processor, "delivery", None), "last_error", None)
    return f"{line}; endpoint failing: {failing}" if failing else line


def status_lines(conn: Connection, client: Any) -> list[str]:
    """``client`` is None when the connection is unavailable (nothing to check)."""
    enabled = getattr(client, "_enabled", None)
    auth = _auth(client) if client is not None else "not checked (no reachable endpoint)"
    return [
        f"endpoint:     {conn.base_url or '-'} ({conn.mode})",
        f"tracing:      {'on' if conn.tracing and enabled is not False else 'off'}",
        f"auth:         {auth}",
        f"local server: {_server(conn)}",
        *_web_ui(conn),
        f"exports:      {_exports(client)}",
    ]
