"""Human annotation in the notebook: step through items and score them by score config.

`AnnotationSession` is the state (items, configs, position, what is saved) and talks to the API; the
`Annotator` widget only draws it. Every click saves one score at once with ``POST /api/public/scores``
(not the batched queue), under an id derived from (trace, observation, config): scoring again updates
the same score, and a new session (after a kernel restart) finds what was already scored by those ids.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from langfuse_nb.notebook import args as A
from langfuse_nb.views.html import esc, page, pretty, table, tag

logger = logging.getLogger("langfuse_nb")
_ID_NAMESPACE = uuid.UUID("5b2f0f4e-8c1a-4a53-9a4e-6c0d2f1e7a10")  # fixed: ids must be stable across runs
_MAX_IDS_PER_QUERY = 100


@dataclasses.dataclass
class AnnotationItem:
    """One thing to judge: a trace (or one observation of it) and what to show for it."""

    trace_id: str
    observation_id: str | None = None
    input: Any = None
    output: Any = None
    expected_output: Any = None
    title: str = ""

    @property
    def loaded(self) -> bool:
        return self.input is not None or self.output is not None


def score_id(item: AnnotationItem, config: Any) -> str:
    """The stable id of ``item``'s score for ``config``."""
    key = f"{item.trace_id}\x1f{item.observation_id or ''}\x1f{config.id}"
    return str(uuid.uuid5(_ID_NAMESPACE, key))


class AnnotationError(Exception):
    """A score that could not be saved or an item that could not be loaded; the message says why."""


class AnnotationSession:
    """Items, score configs, the current position and the saved values (``{(index, config_id): value}``)."""

    def __init__(self, client: Any, items: Sequence[AnnotationItem], configs: Sequence[Any]) -> None:
        if not items:
            raise AnnotationError("nothing to annotate: the source has no items")
        if not configs:
            raise AnnotationError(
                "no score configs: create one first, e.g. client.api.score_configs.create(...)"
            )
        self.client = client
        self.items = list(items)
        self.configs = list(configs)
        self.position = 0
        self.saved: dict[tuple[int, str], Any] = {}
        self.comments: dict[int, str] = {}

    @property
    def item(self) -> AnnotationItem:
        return self.items[self.position]

    def done(self, index: int) -> bool:
        return all((index, c.id) in self.saved for c in self.configs)

    @property
    def done_count(self) -> int:
        return sum(self.done(i) for i in range(len(self.items)))

    def move(self, step: int) -> None:
        self.position = max(0, min(len(self.items) - 1, self.position + step))

    def next_open(self) -> None:
        """Go to the next item that is not fully scored (wrapping around), else stay."""
        count = len(self.items)
        for offset in range(1, count + 1):
            index = (self.position + offset) % count
            if not self.done(index):
                self.position = index
                return

    def save(self, config: Any, value: Any, comment: str | None = None) -> None:
        """Save the current item's score for ``config`` now; raises AnnotationError naming the problem."""
        item = self.item
        body = {
            "id": score_id(item, config),
            "traceId": item.trace_id,
            "observationId": item.observation_id,
            "name": config.name,
            "value": value,
            "dataType": _data_type(config),
            "configId": config.id,
            "comment": comment or None,
            "metadata": {"annotated_with": "langfuse_nb"},
        }
        try:
            self.client.api.score.create(request={k: v for k, v in body.items() if v is not None})
        except Exception as exc:  # noqa: BLE001 - shown in the widget as one line
            raise AnnotationError(f"score {config.name!r} not saved: {_short(exc)}") from None
        self.saved[(self.position, config.id)] = value
        if comment:
            self.comments[self.position] = comment

    def load_existing(self) -> int:
        """Mark what earlier sessions already scored (found by the stable score ids); returns how many."""
        wanted = {
            score_id(item, config): (index, config.id)
            for index, item in enumerate(self.items)
            for config in self.configs
        }
        ids = list(wanted)
        for start in range(0, len(ids), _MAX_IDS_PER_QUERY):
            chunk = ids[start : start + _MAX_IDS_PER_QUERY]
            page = self.client.api.score_v_2.get(score_ids=",".join(chunk), limit=len(chunk))
            for score in page.data:
                data = getattr(score, "root", score)
                key = wanted.get(data.id)
                if key is not None:
                    self.saved[key] = _shown_value(data)
        return len(self.saved)

    def load_item(self) -> AnnotationItem:
        """The current item with its input/output fetched from the server if the source had none."""
        item = self.item
        if item.loaded:
            return item
        try:
            if item.observation_id:
                found = self.client.api.observations.get(item.observation_id)
            else:
                found = self.client.api.trace.get(item.trace_id)
        except Exception as exc:  # noqa: BLE001
            raise AnnotationError(f"could not load {item.trace_id}: {_short(exc)}") from None
        item.input, item.output = found.input, found.output
        return item


def _data_type(config: Any) -> str:
    return str(getattr(config.data_type, "value", config.data_type))


def _shown_value(score: Any) -> Any:
    if _data_type(score) == "CATEGORICAL":
        return score.string_value
    return score.value


def _short(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or exc).splitlines()[0][:300] if (message or str(exc)) else type(exc).__name__


# ---- sources -------------------------------------------------------------------------------------------


def items_from_traces(client: Any, **filters: Any) -> list[AnnotationItem]:
    frame = client.traces_df(scores=False, progress=False, **filters)
    return [
        AnnotationItem(trace_id=row["id"], input=row["input"], output=row["output"], title=row["name"] or "")
        for row in frame.to_dict("records")
    ]


def items_from_observations(client: Any, **filters: Any) -> list[AnnotationItem]:
    frame = client.observations_df(progress=False, **filters)
    return [
        AnnotationItem(
            trace_id=row["trace_id"],
            observation_id=row["id"],
            input=row["input"],
            output=row["output"],
            title=f"{row['type'].lower()} {row['name'] or ''}".strip(),
        )
        for row in frame.to_dict("records")
    ]


def items_from_experiment(result: Any) -> list[AnnotationItem]:
    """Items of an ExperimentResult (local or dataset run): input, expected output and the task's output."""
    items = []
    for entry in result.item_results:
        if entry.trace_id:
            items.append(
                AnnotationItem(
                    trace_id=entry.trace_id,
                    input=_field(entry.item, "input"),
                    output=entry.output,
                    expected_output=_field(entry.item, "expected_output"),
                    title=result.name,
                )
            )
    return items


def _field(item: Any, name: str) -> Any:
    """A field of a local item (a dict) or of a dataset item (an object)."""
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def items_from_dataset_run(client: Any, dataset_name: str, run_name: str) -> list[AnnotationItem]:
    """Items of a dataset run: each run item's trace (input/output loaded when shown)."""
    run = client.api.datasets.get_run(dataset_name, run_name)
    return [
        AnnotationItem(
            trace_id=ri.trace_id, observation_id=ri.observation_id, title=f"{dataset_name} / {run_name}"
        )
        for ri in run.dataset_run_items
    ]


def resolve_configs(client: Any, wanted: Iterable[str] | None = None) -> list[Any]:
    """Score configs by name or id (all active ones when ``wanted`` is None); unknown names fail clearly."""
    configs: list[Any] = []
    page = 1
    while True:
        result = client.api.score_configs.get(page=page, limit=100)
        configs.extend(result.data)
        if page >= (result.meta.total_pages or 1):
            break
        page += 1
    active = [c for c in configs if not c.is_archived]
    if wanted is None:
        return active
    chosen = []
    for key in wanted:
        match = next((c for c in active if key in (c.id, c.name)), None)
        if match is None:
            names = ", ".join(sorted(c.name for c in active)) or "none"
            raise AnnotationError(f"no active score config named {key!r} (available: {names})")
        chosen.append(match)
    return chosen


# ---- the magic's arguments -----------------------------------------------------------------------------

ANNOTATE_PARAMS = (
    A.Param(
        "source",
        A.text,
        "traces (default), observations, or the name of a variable holding an ExperimentResult",
        "source=result",
    ),
    A.Param("configs", A.csv_list, "score config names or ids (default: all active)", "configs=quality,tone"),
    A.Param("limit", A.positive_int, "how many traces/observations, newest first (default 20)", "limit=20"),
    A.Param("name", A.text, "trace/observation name filter"),
    A.Param("user_id", A.text, "user id filter"),
    A.Param("session_id", A.text, "session id filter"),
    A.Param("tags", A.csv_list, "trace tags, all must match", "tags=eval,v2"),
    A.Param("type", A.text, "observation type (with source=observations)", "type=GENERATION"),
    A.Param("trace_id", A.text, "observations of one trace (with source=observations)"),
    A.Param("dataset", A.text, "dataset name of a dataset run (with run=)"),
    A.Param("run", A.text, "dataset run name (with dataset=)"),
)


def magic_request(options: dict[str, Any], namespace: dict[str, Any]) -> dict[str, Any]:
    """``%langfuse_annotate`` options -> ``annotate()`` keyword arguments (a variable name -> its value)."""
    request = dict(options)
    source = request.pop("source", "traces")
    if source not in ("traces", "observations"):
        if source not in namespace:
            raise AnnotationError(
                f"source={source!r}: no such variable (use traces, observations or a result)"
            )
        source = namespace[source]
    request["source"] = source
    return request


# ---- static view ---------------------------------------------------------------------------------------


def render_summary(session: AnnotationSession) -> str:
    """The annotated-so-far table: what a saved notebook shows in place of the live widget."""
    columns = ["#", "item", "trace", *[c.name for c in session.configs], "comment"]
    rows = []
    for index, item in enumerate(session.items):
        values = [esc(session.saved.get((index, c.id), "")) for c in session.configs]
        rows.append(
            [
                str(index + 1),
                esc(item.title),
                esc(item.trace_id[:12]),
                *values,
                esc(session.comments.get(index, "")),
            ]
        )
    head = tag(
        "div", esc(f"Annotation: {session.done_count} of {len(session.items)} items scored"), "lfnb-title"
    )
    return page(head + table(columns, rows))


def render_item(item: AnnotationItem) -> str:
    parts = [tag("div", esc(item.title or item.trace_id), "lfnb-title")]
    for label, value in (("Input", item.input), ("Expected", item.expected_output), ("Output", item.output)):
        if value is not None:
            parts.append(tag("div", tag("b", label) + tag("pre", esc(pretty(value)))))
    return page("".join(parts))


__all__ = [
    "ANNOTATE_PARAMS",
    "AnnotationError",
    "AnnotationItem",
    "AnnotationSession",
    "items_from_dataset_run",
    "items_from_experiment",
    "items_from_observations",
    "items_from_traces",
    "magic_request",
    "render_item",
    "render_summary",
    "resolve_configs",
    "score_id",
]
