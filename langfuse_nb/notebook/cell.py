"""A traced cell: begin an observation before the body runs, finish it after IPython ran the cell.

``%%langfuse_trace args`` is rewritten (by a pure input transformer) into a first line that calls the
``%langfuse_trace`` line magic, so the body runs as an ordinary cell: the last expression is displayed as
usual and an exception keeps the user's own traceback. The ``post_run_cell`` event then ends the
observation with the cell's result or error.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import re
import sys
from dataclasses import dataclass, field
from typing import Any

MAGIC = "langfuse_trace"
_HEADER = re.compile(r"^%%" + MAGIC + r"(?=\s|$)(?P<args>[^\n]*)$")
MAX_CAPTURE = 100_000
# Set when a traced cell begins. A cell with top-level ``await`` runs in a copy of the context, so at
# ``post_run_cell`` the marker tells whether the observation's context token can still be detached.
_CELL_MARK: contextvars.ContextVar[object | None] = contextvars.ContextVar("langfuse_nb_cell", default=None)


def transform_traced_cell(lines: list[str]) -> list[str]:
    """IPython cleanup transformer: swap the ``%%langfuse_trace`` header for a line-magic call."""
    if not lines:
        return lines
    match = _HEADER.match(lines[0].rstrip("\n"))
    if match is None or match["args"].rstrip().endswith("?"):
        return lines  # not ours, or a help request (%%langfuse_trace?) handled by IPython
    header = f"get_ipython().run_line_magic({MAGIC!r}, {match['args'].strip()!r})\n"
    return [header, *_inner_cell_magic(lines[1:])]


def _inner_cell_magic(lines: list[str]) -> list[str]:
    """A body that starts with another cell magic (e.g. ``%%time``) becomes an explicit call of it."""
    if not lines or not lines[0].startswith("%%"):
        return lines
    name, _, args = lines[0][2:].rstrip("\n").partition(" ")
    return [f"get_ipython().run_cell_magic({name!r}, {args.strip()!r}, {''.join(lines[1:])!r})\n"]


def cell_body(raw_cell: str) -> str:
    """The user's code of a raw ``%%langfuse_trace`` cell (the header line removed)."""
    first, _, rest = raw_cell.partition("\n")
    is_header = _HEADER.match(first) or first.startswith(f"get_ipython().run_line_magic({MAGIC!r}")
    return rest if is_header else raw_cell


class _Tee:
    """Writes to the real stream and keeps a bounded copy."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.copy = io.StringIO()
        self._room = MAX_CAPTURE

    def write(self, text: str) -> int:
        if self._room > 0:
            self.copy.write(text[: self._room])
            self._room -= len(text)
        return self.target.write(text)

    def flush(self) -> None:
        self.target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


@dataclass
class OpenCell:
    """State between begin and finish of one traced cell."""

    options: dict[str, Any]
    scope: Any  # the start_as_current_observation context manager, entered
    observation: Any
    client: Any
    tee: _Tee | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    mark: object = field(default_factory=object)

    @property
    def trace_id(self) -> str:
        return self.observation.trace_id


def _trace_update(options: dict[str, Any], session_id: str | None) -> dict[str, Any]:
    update = {
        "name": options["name"],
        "user_id": options.get("user_id"),
        "session_id": options.get("session_id", session_id),
        "tags": options.get("tags"),
        "metadata": options.get("metadata"),
    }
    return {key: val for key, val in update.items() if val is not None}


def begin(
    client: Any,
    options: dict[str, Any],
    source: str,
    cell_meta: dict[str, Any],
    session_id: str | None,
    capture: bool,
) -> OpenCell:
    """Start the observation as the current context and (optionally) tee stdout."""
    metadata = {**cell_meta, **(options.get("metadata") or {})}
    scope = client.start_as_current_observation(
        name=options["name"], as_type=options.get("as_type", "span"), input=source, metadata=metadata
    )
    observation = scope.__enter__()
    with contextlib.suppress(Exception):  # trace attributes are a nicety; never fail the cell for them
        observation.update_trace(**_trace_update(options, session_id))
    tee = None
    if capture:
        tee = _Tee(sys.stdout)
        sys.stdout = tee
    cell = OpenCell(options, scope, observation, client, tee)
    _CELL_MARK.set(cell.mark)
    return cell


def _forget_foreign_token(cell: OpenCell) -> None:
    """The cell ran in another context (top-level await): its context change died with that context.

    Detaching the token here would only make OpenTelemetry log "Failed to detach context", so drop it;
    the scope still ends the observation.
    """
    if _CELL_MARK.get() is not cell.mark and hasattr(cell.scope, "_token"):
        cell.scope._token = None


def _stop_capture(cell: OpenCell) -> str:
    if cell.tee is None:
        return ""
    if sys.stdout is cell.tee:  # the cell may have redirected stdout itself; leave that alone
        sys.stdout = cell.tee.target
    return cell.tee.copy.getvalue()


def cell_output(result: Any, stdout: str) -> Any:
    """The observation output: the result, plus the printed text when there was any."""
    if not stdout:
        return result
    return {"result": result, "stdout": stdout}


def finish(cell: OpenCell, result: Any, error: BaseException | None) -> None:
    """End the observation with the cell's result or error; restore stdout. Never raises."""
    stdout = _stop_capture(cell)
    try:
        _forget_foreign_token(cell)
        if error is not None:
            message = f"{type(error).__name__}: {error}"
            cell.observation.update(
                output=cell_output(None, stdout) or message, level="ERROR", status_message=message
            )
            cell.scope.__exit__(type(error), error, error.__traceback__)
        else:
            cell.observation.update(output=cell_output(result, stdout))
            cell.scope.__exit__(None, None, None)
    except Exception:  # noqa: BLE001 - tracing must never break the notebook
        import logging

        logging.getLogger("langfuse_nb").debug("finishing a traced cell failed", exc_info=True)
