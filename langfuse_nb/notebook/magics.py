"""The IPython magics: parse the line, call a command, display the result."""

from __future__ import annotations

import logging
import os
import uuid
from functools import cache
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.display import display
from traitlets import Bool, Enum, Float

from langfuse_nb.notebook import annotate as annotation
from langfuse_nb.notebook import args as A
from langfuse_nb.notebook import cell as C
from langfuse_nb.notebook import commands
from langfuse_nb.notebook.connect import Connection
from langfuse_nb.notebook.render import render_summary_line, render_trace, render_trace_list
from langfuse_nb.notebook.render.trace import summary_text
from langfuse_nb.notebook.store import STORE

logger = logging.getLogger("langfuse_nb")


@cache
def kernel_session_id() -> str:
    """One session id per kernel process: the Jupyter kernel id when known, else a random one."""
    try:
        from ipykernel.connect import get_connection_file

        stem = os.path.basename(get_connection_file()).removesuffix(".json")
        kernel_id = stem.removeprefix("kernel-")
    except Exception:  # noqa: BLE001 - not in a kernel (plain IPython, tests)
        kernel_id = uuid.uuid4().hex[:12]
    return f"notebook-{kernel_id}"


def displayed_count(shell: Any) -> int | None:
    """The number the front end shows for the running cell (``In [8]`` -> 8).

    IPython 8 increments ``execution_count`` after a cell, newer IPython 9 releases before it runs, so
    ``shell.execution_count`` is one ahead there. The running cell's ``ExecutionResult`` carries the
    shown number in both.
    """
    result = getattr(getattr(shell, "displayhook", None), "exec_result", None)
    count = getattr(result, "execution_count", None)
    return count if isinstance(count, int) else shell.execution_count


def show_html(html: str, text: str) -> None:
    """Display HTML with a plain-text twin (for consoles, nbconvert to text and tests)."""
    display({"text/html": html, "text/plain": text}, raw=True)


def _parse(line: str, params: tuple[A.Param, ...], positional: str | None = None) -> dict[str, Any]:
    try:
        return A.parse(line, params, positional=positional)
    except A.ArgumentError as exc:
        raise UsageError(str(exc)) from None


@magics_class
class LangfuseMagics(Magics):
    """Langfuse tracing, trace views and the prompt browser (``%config LangfuseMagics.<trait> = ...``)."""

    display = Enum(
        list(A.DISPLAY_MODES),
        default_value="inline",
        config=True,
        help="What follows a traced cell: inline (trace view), link (one line) or none.",
    )
    capture_output = Bool(True, config=True, help="Add the cell's printed stdout to the observation output.")
    auto_flush = Bool(True, config=True, help="Flush at the end of each traced cell (bounded wait).")
    flush_timeout = Float(2.0, config=True, help="Seconds to wait for the flush at cell end.")
    session_grouping = Bool(True, config=True, help="Give traced cells of one kernel the same session id.")

    shell: Any  # set by Magics.__init__; typed loosely (IPython's own annotation allows None)

    def __init__(self, shell: Any, connection: Connection) -> None:
        super().__init__(shell=shell)
        self.connection = connection
        self._info: Any = None
        self._open: C.OpenCell | None = None
        self.last_trace_id: str | None = None
        self.last_widget: Any = None  # the widget the last %langfuse_traces / %langfuse_prompt showed

    # ---- events ---------------------------------------------------------------------------------
    def pre_run_cell(self, info: Any) -> None:
        self._info = info

    def post_run_cell(self, result: Any) -> None:
        cell, self._open = self._open, None
        if cell is None:
            return
        error = result.error_in_exec
        C.finish(cell, result.result, error)
        self.last_trace_id = cell.trace_id
        if self.auto_flush:
            self._flush(cell.client)
        try:
            self._show(cell)
        except Exception as exc:  # noqa: BLE001 - a view problem must not look like a cell failure
            logger.debug("showing the trace failed", exc_info=True)
            print(f"langfuse_nb: trace {cell.trace_id} recorded, but it cannot be shown ({exc})")

    def close_open_cell(self) -> None:
        cell, self._open = self._open, None
        if cell is not None:
            C.finish(cell, None, None)

    def _flush(self, client: Any) -> None:
        from langfuse_nb._retry import unreachable

        base_url = getattr(getattr(client, "_settings", None), "base_url", None)
        if base_url and unreachable(base_url):
            # a cell already waited out its flush against this endpoint (and was told so): the spans stay
            # queued and the exporter keeps retrying them in the background, so this cell does not wait
            return
        try:
            client.flush(timeout=self.flush_timeout)
        except Exception:  # noqa: BLE001 - an export problem must not fail the cell
            logger.debug("flush after traced cell failed", exc_info=True)

    def _show(self, cell: C.OpenCell) -> None:
        mode = cell.options.get("display", self.display)
        if mode == "none":
            return
        records = STORE.records(cell.trace_id)
        if mode == "inline" and self.auto_flush and records:  # flushed: the server has priced the calls
            commands.add_server_costs(cell.client, records)
        url = commands.trace_url(cell.client, cell.trace_id)
        html = render_trace(records, url=url) if mode == "inline" else render_summary_line(records, url)
        show_html(html, summary_text(records))

    # ---- %%langfuse_trace ---------------------------------------------------------------------------
    @no_var_expand  # JSON braces are not ``{variable}`` expansions
    @line_cell_magic
    def langfuse_trace(self, line: str, cell: str | None = None) -> Any:
        options = _parse(line, A.TRACE_PARAMS)
        if cell is not None:  # direct run_cell_magic / nested in another cell magic: run the body here
            return self._run_nested(line, cell)
        self._begin(options, C.cell_body(getattr(self._info, "raw_cell", "") or ""))
        return None

    langfuse_trace.__doc__ = (
        "Run the cell inside a Langfuse observation.\n\n"
        "    %%langfuse_trace name=NAME [key=value ...]\n\n"
        "The input is the cell source, the output the cell's result (plus printed text); @observe\n"
        "functions and client calls in the cell become children; an exception marks it ERROR and is\n"
        "re-raised. Keys:\n\n" + A.describe(A.TRACE_PARAMS)
    )

    def _begin(self, options: dict[str, Any], source: str) -> None:
        self.close_open_cell()  # a previous cell that never reached post_run_cell (e.g. a silent run)
        if not self.connection.tracing:
            return
        options.setdefault("name", f"cell {displayed_count(self.shell)}")
        capture = options.get("capture_output", self.capture_output)
        session = kernel_session_id() if self.session_grouping else None
        try:
            self._open = C.begin(commands.get_client(), options, source, self._cell_meta(), session, capture)
        except Exception as exc:  # noqa: BLE001 - tracing must never stop the user's cell from running
            logger.debug("starting a traced cell failed", exc_info=True)
            print(f"langfuse_nb: this cell is not traced ({type(exc).__name__}: {exc})")

    def _cell_meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"execution_count": displayed_count(self.shell)}
        cell_id = getattr(self._info, "cell_id", None)
        notebook = self.shell.user_ns.get("__session__") or os.environ.get("JPY_SESSION_NAME")
        if cell_id:
            meta["cell_id"] = cell_id
        if notebook:
            meta["notebook"] = str(notebook)
        return meta

    def _run_nested(self, line: str, cell: str) -> Any:
        """Fallback when the cell is not rewritten by the input transformer."""
        header = C.transform_traced_cell([f"%%{C.MAGIC} {line}\n"])[0]
        result = self.shell.run_cell(header + cell, store_history=False)
        if result.error_in_exec is not None:
            raise result.error_in_exec
        return None

    # ---- views --------------------------------------------------------------------------------------
    @line_magic
    def langfuse_trace_view(self, line: str) -> None:
        """Show a trace as a tree with a waterfall: %langfuse_trace_view [TRACE_ID] (default: the last)."""
        known = STORE.trace_ids()
        trace_id = line.strip() or self.last_trace_id or (known[-1] if known else None)
        if not trace_id:
            raise UsageError("no trace yet: give a trace id, e.g. %langfuse_trace_view 3f2a...")
        client = commands.get_client()
        try:
            records, source = commands.trace_records(client, trace_id)
        except Exception as exc:  # noqa: BLE001 - shown as one line
            raise UsageError(commands.load_error(trace_id, exc)) from None
        note = "rendered from this kernel's recorder" if source == "kernel" else "loaded from the server"
        show_html(
            render_trace(records, url=commands.trace_url(client, trace_id), note=note), summary_text(records)
        )

    @no_var_expand
    @line_magic
    def langfuse_traces(self, line: str) -> Any:
        """Recent traces from the server, with filters (see the keys below)."""
        options = _parse(line, A.TRACES_PARAMS)
        client = commands.get_client()
        try:
            from langfuse_nb.notebook.widgets.traces import TraceList
        except ImportError:  # no ipywidgets: a static table
            rows = commands.list_traces(client, **options)
            return show_html(render_trace_list(rows), f"{len(rows)} traces")
        self.last_widget = TraceList(client, **options)
        self.last_widget.show_live()  # with a display id: its saved HTML copy stays current
        return None

    langfuse_traces.__doc__ = (
        "Recent traces from the server, with filters; pick one to open it.\n\n" + A.describe(A.TRACES_PARAMS)
    )

    @line_magic
    def langfuse_prompt(self, line: str) -> Any:
        """Browse and edit a prompt: %langfuse_prompt [NAME] [version=N | label=L]."""
        options = _parse(line, A.PROMPT_PARAMS, positional="name")
        if "version" in options and "label" in options:
            raise UsageError("give version= or label=, not both")
        from langfuse_nb.notebook.widgets.prompts import PromptBrowser, PromptList

        client = commands.get_client()
        widget = PromptList(client) if "name" not in options else PromptBrowser(client, **options)
        self.last_widget = widget
        widget.show_live()  # with a display id: its saved HTML copy stays current
        return None

    langfuse_prompt.__doc__ = (
        "Browse, edit and version a prompt (an ipywidgets form); without a name, list all prompts.\n\n"
        + A.describe(A.PROMPT_PARAMS)
    )

    @no_var_expand
    @line_magic
    def langfuse_annotate(self, line: str) -> None:
        """Score traces, observations, an experiment's results or a dataset run by score config."""
        from langfuse_nb.notebook.widgets.annotator import annotate

        options = _parse(line, annotation.ANNOTATE_PARAMS, positional="source")
        try:
            widget = annotate(**annotation.magic_request(options, self.shell.user_ns))
        except annotation.AnnotationError as exc:
            raise UsageError(str(exc)) from None
        self.last_widget = widget
        widget.show_live()  # with a display id: its saved HTML copy (what was scored) stays current

    langfuse_annotate.__doc__ = (
        "Annotate in the notebook: one item at a time, a control per score config, saved on each click.\n\n"
        "    %langfuse_annotate [traces|observations|RESULT_VARIABLE] [key=value ...]\n\n"
        + A.describe(annotation.ANNOTATE_PARAMS)
    )

    @line_magic
    def langfuse_status(self, line: str) -> None:
        """Endpoint, auth result, local server state, pending and failed exports."""
        from langfuse_nb.notebook.status import status_lines

        # no client when the endpoint was unreachable: building one would only warn and probe nothing
        client = commands.get_client() if self.connection.tracing else None
        print("\n".join(status_lines(self.connection, client)))
