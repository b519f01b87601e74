"""``%load_ext langfuse_nb``: connect, then register magics, events, the input transformer and formatters."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from typing import Any

from langfuse_nb.notebook import commands, store
from langfuse_nb.notebook.cell import transform_traced_cell
from langfuse_nb.notebook.connect import connect

# All ten observation classes share this base; IPython's formatter lookup walks the MRO, and registering
# by name imports nothing until an observation is displayed.
OBSERVATION_BASE = "LangfuseObservationWrapper"
OBSERVATIONS_MODULE = "langfuse_nb.sdk.observations"
_LOADED: dict[int, Any] = {}  # id(shell) -> LangfuseMagics


def observation_html(obs: Any) -> str:
    """``text/html`` of an observation object: its trace as recorded by this kernel."""
    from langfuse_nb.notebook.render import render_trace

    records = store.STORE.records(obs.trace_id)
    ended = any(r.id == obs.id for r in records)
    note = None if ended else "This observation has not ended yet; its trace so far:"
    return render_trace(records, highlight=obs.id, note=note)


class InterruptedRunHandler:
    """IPython custom-exception handler for ``CancelledError``: an ``await``-ed experiment or batch run
    that a kernel interrupt cancelled shows one line (how far it got, where the partial result is).

    Other exceptions go where they went before: to the handler another package installed (trio, for
    one, registers one for exception groups), or to IPython's usual traceback.
    """

    def __init__(self, ip: Any) -> None:
        self.previous = (tuple(ip.custom_exceptions), ip.CustomTB)
        self.exceptions = (*self.previous[0], asyncio.CancelledError)

    def __call__(self, shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> Any:
        describe = getattr(getattr(value, "partial_result", None), "interrupt_summary", None)
        if isinstance(value, asyncio.CancelledError) and callable(describe):
            stb = [f"{etype.__name__}: {describe()}"]
            shell._showtraceback(etype, value, stb)  # IPython leaves showing to the handler
            return stb
        earlier, handler = self.previous
        if earlier and isinstance(value, earlier):
            return handler(etype, value, tb, tb_offset=tb_offset)
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)  # what IPython does without us
        return []

    def install(self, ip: Any) -> None:
        ip.set_custom_exc(self.exceptions, self)
        # trio < 0.23 warns on import when a custom handler is already set (it then skips its own handler
        # for exception groups, which IPython 8 shows itself). httpx imports it through httpcore, so without
        # this a user would see trio's warning in whichever later cell first makes a REST call.
        warnings.filterwarnings(
            "ignore", message="IPython detected, but you already have a custom exception", module="trio"
        )

    def uninstall(self, ip: Any) -> None:
        if tuple(ip.custom_exceptions) != self.exceptions:
            return  # someone installed their own since: leave theirs alone
        exceptions, handler = self.previous
        ip.custom_exceptions, ip.CustomTB = exceptions, handler


_HANDLERS: dict[int, InterruptedRunHandler] = {}  # id(shell) -> our handler


def load_ipython_extension(ip: Any) -> None:
    from langfuse_nb.notebook.magics import LangfuseMagics

    unload_ipython_extension(ip)  # loading twice behaves like a reload
    connection = connect()
    print(connection.message)
    commands.bind(connection)
    store.install()
    magics = LangfuseMagics(ip, connection)
    ip.register_magics(magics)
    ip.configurables.append(magics)
    ip.input_transformers_cleanup.append(transform_traced_cell)
    ip.events.register("pre_run_cell", magics.pre_run_cell)
    ip.events.register("post_run_cell", magics.post_run_cell)
    html = ip.display_formatter.formatters["text/html"]
    html.for_type_by_name(OBSERVATIONS_MODULE, OBSERVATION_BASE, observation_html)
    handler = _HANDLERS[id(ip)] = InterruptedRunHandler(ip)
    handler.install(ip)
    _LOADED[id(ip)] = magics


def _unregister_magics(ip: Any, magics: Any) -> None:
    table = ip.magics_manager.magics
    for kind, names in magics.magics.items():
        for name in names:
            table[kind].pop(name, None)
    ip.magics_manager.registry.pop(type(magics).__name__, None)


def unload_ipython_extension(ip: Any) -> None:
    magics = _LOADED.pop(id(ip), None)
    if magics is None:
        return
    magics.close_open_cell()
    with contextlib.suppress(ValueError):
        ip.events.unregister("pre_run_cell", magics.pre_run_cell)
    with contextlib.suppress(ValueError):
        ip.events.unregister("post_run_cell", magics.post_run_cell)
    with contextlib.suppress(ValueError):
        ip.input_transformers_cleanup.remove(transform_traced_cell)
    with contextlib.suppress(ValueError):
        ip.configurables.remove(magics)
    _unregister_magics(ip, magics)
    html = ip.display_formatter.formatters["text/html"]
    html.pop(f"{OBSERVATIONS_MODULE}.{OBSERVATION_BASE}", None)
    handler = _HANDLERS.pop(id(ip), None)
    if handler is not None:
        handler.uninstall(ip)
    store.uninstall()
    commands.unbind()
