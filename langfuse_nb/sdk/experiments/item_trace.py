"""One experiment item's trace: its fields, its root span, the attributes its spans carry, its context.

Split from the run loop (``runner.py``) because this is the per-item hot path: every item opens one root
span, makes it current with the experiment's propagated attributes, and closes it. The run's constant
attributes are checked and encoded once per run (``RunAttributes``), the span's own attributes are
written in two writes (at creation and just before it ends), and the span and the propagated values
become current in one context switch.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from hashlib import sha256
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.context.context import Context
from opentelemetry.trace import Status, StatusCode

from langfuse_nb.sdk.encode import encode_value
from langfuse_nb.sdk.experiments.results import item_field
from langfuse_nb.tracing.propagation import PROPAGATED_KEY
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

logger = logging.getLogger("langfuse_nb")

ROOT_SPAN_NAME = "experiment-item-run"
EXPERIMENT_ENVIRONMENT = "sdk-experiment"
MAX_PROPAGATED_LENGTH = 200  # longer propagated values are dropped, as for propagate_attributes

# The context key OpenTelemetry keeps the current span under, read from what set_span_in_context
# writes (it is not public), so that span and propagated values are put in one new context.
_SPAN_KEY = next(iter(trace_api.set_span_in_context(trace_api.INVALID_SPAN, Context())))
# Results that are certainly not awaitable: checked by type before inspect's abstract-class test.
_PLAIN_RESULTS = frozenset({str, int, float, bool, type(None), dict, list, tuple, bytes})


def local_item_id(item_input: Any) -> str | None:
    """K5: first 16 hex digits of sha256 of the serialized input (strings raw, others JSON)."""
    serialized = encode_value(item_input)
    if serialized is None:
        return None
    return hashlib.sha256(serialized.encode("utf-8")).hexdigest()[:16]


def is_dataset_item(item: Any) -> bool:
    return not isinstance(item, dict) and hasattr(item, "id") and hasattr(item, "dataset_id")


def is_awaitable(value: Any) -> bool:
    """``inspect.isawaitable``, answered by type for the plain values sync callbacks return."""
    return type(value) not in _PLAIN_RESULTS and inspect.isawaitable(value)


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class ItemFields:
    """The parts of an item the run reads: input, expected output, metadata and the ids."""

    __slots__ = ("input", "expected_output", "metadata", "dataset_id", "item_id")

    def __init__(
        self, input: Any, expected_output: Any, metadata: Any, dataset_id: str | None, item_id: str | None
    ) -> None:
        self.input = input
        self.expected_output = expected_output
        self.metadata = metadata
        self.dataset_id = dataset_id
        self.item_id = item_id

    @classmethod
    def of(cls, item: Any) -> ItemFields:
        if type(item) is dict:  # the common local item, read without the general helpers
            get = item.get
            item_input = get("input")
            if type(item_input) is str:  # K5 of a string: its own UTF-8 bytes
                item_id: str | None = sha256(item_input.encode("utf-8")).hexdigest()[:16]
            else:
                item_id = local_item_id(item_input)
            return cls(item_input, get("expected_output"), get("metadata"), None, item_id)
        item_input = item_field(item, "input")
        if is_dataset_item(item):
            return cls(item_input, item.expected_output, item.metadata, item.dataset_id, item.id)
        return cls(
            item_input,
            item_field(item, "expected_output"),
            item_field(item, "metadata"),
            None,
            local_item_id(item_input),
        )


class ItemTrace:
    """Where one item's telemetry went: its trace, root observation and dataset run (None when not)."""

    __slots__ = ("trace_id", "observation_id", "dataset_run_id")

    def __init__(self) -> None:
        self.trace_id: str | None = None
        self.observation_id: str | None = None
        self.dataset_run_id: str | None = None

    def open(self, otel_span: Any) -> None:
        """Take the ids of the item's root span; a no-op span (tracing disabled) leaves them None."""
        ctx = otel_span.get_span_context()
        if ctx.trace_id:
            self.trace_id, self.observation_id = format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


class RunAttributes:
    """The ``langfuse.experiment.*`` attributes every span of an item carries (K9).

    The run's own values (environment, name, metadata, local experiment id) are the same for every
    item: they are length-checked and encoded once, and only the item's values are added per item.
    """

    def __init__(self, run_name: str, run_metadata: Any, local_experiment_id: str) -> None:
        self._dropped: set[str] = set()
        self._local_experiment_id = local_experiment_id
        self._constant = self._kept(
            {
                A.ENVIRONMENT: EXPERIMENT_ENVIRONMENT,
                A.EXPERIMENT_NAME: run_name,
                A.EXPERIMENT_METADATA: encode_value(run_metadata),
            }
        )

    def of_item(self, fields: ItemFields, trace: ItemTrace) -> dict[str, str]:
        if fields.dataset_id is None and fields.metadata is None and not trace.dataset_run_id:
            # a plain local item: its two ids (16 hex digits each) need no length check
            values = {**self._constant, A.EXPERIMENT_ID: self._local_experiment_id}
            if fields.item_id is not None:
                values[A.EXPERIMENT_ITEM_ID] = fields.item_id
            if trace.observation_id is not None:
                values[A.EXPERIMENT_ITEM_ROOT_OBSERVATION_ID] = trace.observation_id
            return values
        return {**self._constant, **self._kept(self._item_values(fields, trace))}

    def _item_values(self, fields: ItemFields, trace: ItemTrace) -> dict[str, str | None]:
        return {
            A.EXPERIMENT_ID: trace.dataset_run_id or self._local_experiment_id,
            A.EXPERIMENT_DATASET_ID: fields.dataset_id,
            A.EXPERIMENT_ITEM_ID: fields.item_id,
            A.EXPERIMENT_ITEM_METADATA: encode_value(fields.metadata),
            A.EXPERIMENT_ITEM_ROOT_OBSERVATION_ID: trace.observation_id,
        }

    def _kept(self, values: dict[str, str | None]) -> dict[str, str]:
        kept: dict[str, str] = {}
        for key, value in values.items():
            if value is None:
                continue
            if len(value) > MAX_PROPAGATED_LENGTH:
                self._warn_dropped(key)
                continue
            kept[key] = value
        return kept

    def _warn_dropped(self, key: str) -> None:
        if key not in self._dropped:
            self._dropped.add(key)
            logger.warning(
                "langfuse_nb: %s is longer than %d characters; not propagated", key, MAX_PROPAGATED_LENGTH
            )


def make_current(span: Any, parent: Context, propagated: dict[str, str]) -> object | None:
    """Make ``span`` current with the item's propagated attributes (for every span started inside it);
    the detach token, or None when that failed (the task still runs).

    The root span itself gets them with its closing write (``close_root``).
    """
    try:
        outer: Any = parent.get(PROPAGATED_KEY)
        # the item's values win; the experiment attributes hold no tags, the only merged kind
        merged = {**outer, **propagated} if outer else propagated
        return context_api.attach(Context({**parent, _SPAN_KEY: span, PROPAGATED_KEY: merged}))
    except Exception:  # telemetry must not break the item
        logger.warning("langfuse_nb: could not make the experiment item's span current", exc_info=True)
        return None


def detach(token: Any) -> None:
    try:
        context_api.detach(token)
    except Exception:
        logger.debug("langfuse_nb: detach failed", exc_info=True)


def close_root(span: Any, attributes: dict[str, Any], params: dict[str, Any] | None) -> None:
    """The root span's last write: ``attributes`` (its propagated ones, and any already encoded) and
    ``params`` (input, output, metadata) encoded as ``update()`` encodes them (media, mask), in one
    ``set_attributes``."""
    otel_span = span._otel_span
    try:
        if otel_span.is_recording():
            otel_span.set_attributes({**attributes, **span._encode(params)} if params else attributes)
    except Exception:  # telemetry must not break the item
        logger.warning("langfuse_nb: update of observation failed", exc_info=True)


def record_failure(span: Any, attributes: dict[str, Any], exc: BaseException) -> None:
    """As a ``with`` observation does when its block raises: ``attributes`` (the root span's own and
    its propagated ones, as far as the item got), the error output (for an ``Exception``), the
    exception event and an ERROR status."""
    otel_span = span._otel_span
    try:
        if attributes and otel_span.is_recording():
            otel_span.set_attributes(attributes)
    except Exception:
        logger.debug("langfuse_nb: attributes not set on the failed item", exc_info=True)
    if isinstance(exc, Exception):
        span.update(output=f"Error: {exc}", level="ERROR", status_message=str(exc))
    try:
        if otel_span.is_recording():
            otel_span.record_exception(exc)
            otel_span.set_status(Status(StatusCode.ERROR, error_text(exc)))
    except Exception:
        logger.debug("langfuse_nb: recording the exception failed", exc_info=True)
