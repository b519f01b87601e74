"""The annotation widget: one item at a time, a control per score config, saved on every click.

Keyboard: click into the "keys" box, then ``1``-``9`` picks the n-th option (category, True/False) of the
first config not yet scored for this item (or types a number for a numeric config), ``n`` next item,
``b`` back, ``s`` skip to the next unscored item. Browsers give widgets no global key events, so a focused
text box is the one portable way to take keystrokes in JupyterLab, Notebook 7 and VS Code alike.
"""

from __future__ import annotations

import logging
from typing import Any

import ipywidgets as W

from langfuse_nb.notebook import commands
from langfuse_nb.notebook.annotate import (
    AnnotationError,
    AnnotationSession,
    items_from_dataset_run,
    items_from_experiment,
    items_from_observations,
    items_from_traces,
    render_item,
    render_summary,
    resolve_configs,
)
from langfuse_nb.notebook.render import render_trace
from langfuse_nb.notebook.widgets.static import StaticMirror

logger = logging.getLogger("langfuse_nb")


def _options(config: Any) -> list[tuple[str, Any]]:
    """(label, value sent) per choice of a categorical or boolean config."""
    if str(getattr(config.data_type, "value", config.data_type)) == "BOOLEAN":
        return [("True", 1), ("False", 0)]
    return [(c.label, c.label) for c in config.categories or []]


class Annotator(StaticMirror, W.VBox):
    """``Annotator(session)``: see `langfuse_nb.annotate` for building sessions from traces, results, runs."""

    def __init__(self, session: AnnotationSession) -> None:
        super().__init__(layout=W.Layout(width="100%"))
        self.session = session
        self.header = W.HTML()
        self.body = W.HTML()
        self.trace_view = W.HTML()
        self.message = W.HTML()
        self.comment = W.Textarea(
            placeholder="comment (saved with the next score)", layout=W.Layout(width="60%")
        )
        self.key_box = W.Text(
            placeholder="keys: 1-9 n b s", layout=W.Layout(width="160px"), continuous_update=True
        )
        self.controls: dict[str, W.Widget] = {}
        self.back_button = W.Button(description="Back", icon="arrow-left")
        self.skip_button = W.Button(description="Skip", icon="forward")
        self.next_button = W.Button(description="Next", icon="arrow-right", button_style="primary")
        self.trace_button = W.ToggleButton(description="Trace view", icon="sitemap")
        self.back_button.on_click(lambda _b: self._go(lambda: session.move(-1)))
        self.next_button.on_click(lambda _b: self._go(lambda: session.move(1)))
        self.skip_button.on_click(lambda _b: self._go(session.next_open))
        self.trace_button.observe(lambda _c: self._render_trace(), names="value")
        self.key_box.observe(self._on_key, names="value")
        self.config_box = W.VBox([self._control(config) for config in session.configs])
        self.children = [
            self.header,
            self.body,
            self.config_box,
            self.comment,
            W.HBox([self.back_button, self.skip_button, self.next_button, self.trace_button, self.key_box]),
            self.message,
            self.trace_view,
        ]
        self.render()

    def __repr__(self) -> str:
        return f"Annotator(items={len(self.session.items)}, scored={self.session.done_count})"

    def static_html(self) -> str:
        return render_summary(self.session)

    # ---- controls ------------------------------------------------------------------------------
    def _control(self, config: Any) -> W.Widget:
        label = W.HTML(f"<b>{config.name}</b>")
        options = _options(config)
        if options:
            buttons = [W.Button(description=text, tooltip=f"{i + 1}") for i, (text, _v) in enumerate(options)]
            for button, (_text, value) in zip(buttons, options, strict=True):
                button.on_click(lambda _b, v=value, c=config: self.choose(c, v))
            self.controls[config.id] = W.HBox(buttons)
            return W.HBox([label, self.controls[config.id]])
        number = W.FloatText(description="", layout=W.Layout(width="120px"))
        save = W.Button(description="Save")
        save.on_click(lambda _b, c=config, box=number: self.choose(c, box.value))
        bounds = f" ({config.min_value if config.min_value is not None else '-∞'} to "
        bounds += f"{config.max_value if config.max_value is not None else '∞'})"
        self.controls[config.id] = number
        return W.HBox([label, number, save, W.HTML(bounds)])

    def choose(self, config: Any, value: Any) -> None:
        """Save ``value`` for ``config`` on the current item; on the last open config, move on."""
        try:
            self.session.save(config, value, self.comment.value.strip() or None)
        except AnnotationError as exc:
            self.message.value = f"<span style='color:#b00'>{exc}</span>"
            return
        self.comment.value = ""
        self.message.value = f"saved {config.name} = {value}"
        if self.session.done(self.session.position):
            self.session.next_open()
        self.render()

    # ---- keys ----------------------------------------------------------------------------------
    def _on_key(self, change: dict[str, Any]) -> None:
        text = str(change.get("new") or "")
        if not text:
            return
        self.key_box.value = ""
        self.press(text[-1])

    def press(self, key: str) -> None:
        """Act on one key (also what the keys box calls)."""
        moves = {
            "n": lambda: self.session.move(1),
            "b": lambda: self.session.move(-1),
            "s": self.session.next_open,
        }
        if key.lower() in moves:
            self._go(moves[key.lower()])
            return
        if key.isdigit() and key != "0":
            self._pick(int(key))

    def _pick(self, number: int) -> None:
        session = self.session
        config = next((c for c in session.configs if (session.position, c.id) not in session.saved), None)
        config = config or session.configs[0]
        options = _options(config)
        if not options:
            self.choose(config, float(number))
        elif number <= len(options):
            self.choose(config, options[number - 1][1])

    # ---- drawing -------------------------------------------------------------------------------
    def _go(self, move: Any) -> None:
        move()
        self.message.value = ""
        self.render()

    def render(self) -> None:
        session = self.session
        index = session.position
        state = "scored" if session.done(index) else "open"
        self.header.value = (
            f"<b>Item {index + 1} of {len(session.items)}</b> ({state}) · "
            f"{session.done_count} of {len(session.items)} scored"
        )
        try:
            self.body.value = render_item(session.load_item())
        except AnnotationError as exc:
            self.body.value = f"<span style='color:#b00'>{exc}</span>"
        for config in session.configs:
            saved = session.saved.get((index, config.id))
            control = self.controls[config.id]
            if isinstance(control, W.FloatText):
                control.value = float(saved) if isinstance(saved, int | float) else 0.0
            else:
                for button, (_text, value) in zip(control.children, _options(config), strict=True):
                    button.button_style = "success" if saved is not None and saved == value else ""
        self.back_button.disabled = index == 0
        self.next_button.disabled = index == len(session.items) - 1
        self._render_trace()
        self.sync_static()

    def _render_trace(self) -> None:
        if not self.trace_button.value:
            self.trace_view.value = ""
            return
        client, trace_id = self.session.client, self.session.item.trace_id
        try:
            records, _source = commands.trace_records(client, trace_id)
            self.trace_view.value = render_trace(records, url=commands.trace_url(client, trace_id))
        except Exception as exc:  # noqa: BLE001 - shown as one line
            self.trace_view.value = f"<span style='color:#b00'>{commands.load_error(trace_id, exc)}</span>"


def annotate(
    source: Any = "traces",
    *,
    configs: list[str] | None = None,
    client: Any = None,
    dataset: str | None = None,
    run: str | None = None,
    **filters: Any,
) -> Annotator:
    """An annotation widget over ``source``, with already-scored items recognised.

    ``source``: ``"traces"`` (filters as for ``traces_df``, default ``limit=20``), ``"observations"`` (as for
    ``observations_df``), an ``ExperimentResult``, a list of `AnnotationItem`, or ``dataset=``/``run=`` for a
    dataset run. ``configs``: score config names or ids (default: every active config).
    """
    client = client if client is not None else commands.get_client()
    items = _items(client, source, dataset, run, filters)
    session = AnnotationSession(client, items, resolve_configs(client, configs))
    session.load_existing()
    if session.done(session.position):
        session.next_open()
    return Annotator(session)


def _items(
    client: Any, source: Any, dataset: str | None, run: str | None, filters: dict[str, Any]
) -> list[Any]:
    if dataset is not None or run is not None:
        if not (dataset and run):
            raise AnnotationError("a dataset run needs both dataset= and run=")
        return items_from_dataset_run(client, dataset, run)
    if isinstance(source, list):
        return source
    if source in ("traces", "observations"):
        filters.setdefault("limit", 20)
        loader = items_from_traces if source == "traces" else items_from_observations
        return loader(client, **filters)
    if hasattr(source, "item_results"):
        return items_from_experiment(source)
    raise AnnotationError(
        f"cannot annotate {type(source).__name__}: use 'traces', 'observations', an ExperimentResult, "
        "a list of AnnotationItem, or dataset= and run="
    )


__all__ = ["Annotator", "annotate"]
