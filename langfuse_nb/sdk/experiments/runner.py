"""The experiment loop: trace each item, run the task, evaluate, score, link to the dataset run.

Concurrency is a pool of ``max_concurrency`` worker coroutines that share one iterator over the
items, so a 10,000-item run holds at most ``max_concurrency`` items in flight and creates no task per
item. Everything runs on the caller's event loop (see ``langfuse_nb.sdk.aio``); REST calls go through
``asyncio.to_thread`` and scores are a non-blocking queue put, so the loop is never blocked on I/O.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api

from langfuse_nb.sdk.encode import encode_observation, encode_value, may_hold_media
from langfuse_nb.sdk.experiments.evaluation import Evaluation, UserCallable, run_evaluator, to_evaluations
from langfuse_nb.sdk.experiments.item_trace import (
    ROOT_SPAN_NAME,
    ItemFields,
    ItemTrace,
    RunAttributes,
    close_root,
    detach,
    error_text,
    is_awaitable,
    is_dataset_item,
    local_item_id,
    make_current,
    record_failure,
)
from langfuse_nb.sdk.experiments.progress import Progress, resolve
from langfuse_nb.sdk.experiments.results import ExperimentItemResult, ExperimentResult
from langfuse_nb.sdk.experiments.scoring import ScoreBurst, send_score
from langfuse_nb.sdk.ids import create_observation_id
from langfuse_nb.sdk.observations import LangfuseObservationWrapper, LangfuseSpan
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

if TYPE_CHECKING:
    from langfuse_nb.sdk.client import Langfuse

__all__ = ["ExperimentRunner", "ExperimentSpec", "UsageCollector", "gather_or_cancel", "local_item_id"]
logger = logging.getLogger("langfuse_nb")

_YIELD_EVERY = 64  # a worker whose items never await still lets the loop breathe this often
SERVER_COST_PAGES = 20  # pages of 100 generations read back for server-computed costs


def default_run_name(name: str) -> str:
    """``"<name> - <UTC ISO timestamp>Z"``, the reference's default run name."""
    stamp = dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return f"{name} - {stamp}"


async def gather_or_cancel(coroutines: list[Any]) -> None:
    """Run worker coroutines as tasks; if anything goes wrong (incl. an interrupt), cancel them all."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()  # no-op for finished ones; pending items never run on after an interrupt


class UsageCollector:
    """Span listener: sums the usage and cost details that spans record, per trace id.

    Registered for the length of a run, so result tables show tokens and cost per item without asking
    the server. Called on whichever thread ends a span; cheap (two attribute reads) for other spans.
    """

    def __init__(self) -> None:
        self.usage: dict[str, dict[str, float]] = {}
        self.cost: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def __call__(self, span: Any) -> None:
        # an SDK span's own dict: ``span.attributes`` wraps it in a proxy whose misses (the usual case
        # here) raise and catch a KeyError inside the mapping
        attributes = getattr(getattr(span, "_attributes", None), "_dict", None)
        if attributes is None:
            attributes = span.attributes or {}
        usage, cost = attributes.get(A.OBSERVATION_USAGE_DETAILS), attributes.get(A.OBSERVATION_COST_DETAILS)
        if usage is None and cost is None:
            return
        trace_id = format(span.context.trace_id, "032x")
        with self._lock:
            _add(self.usage, trace_id, usage)
            _add(self.cost, trace_id, cost)

    def __enter__(self) -> UsageCollector:
        from langfuse_nb.tracing.recorder import add_span_listener

        add_span_listener(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        from langfuse_nb.tracing.recorder import remove_span_listener

        remove_span_listener(self)


def _root_constant(environment: str | None, description: str | None) -> dict[str, Any]:
    """The root span's attributes that are the same for every item of a run (a span's creation
    attributes; the item's propagated environment replaces the client's)."""
    attributes: dict[str, Any] = {A.OBSERVATION_TYPE: "span"}
    if environment:
        attributes[A.ENVIRONMENT] = environment
    if description is not None:
        attributes[A.EXPERIMENT_DESCRIPTION] = description
    return attributes


def _add(sums: dict[str, dict[str, float]], trace_id: str, raw: Any) -> None:
    try:
        details = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return
    if not isinstance(details, dict):
        return
    target = sums.setdefault(trace_id, {})
    for key, value in details.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            target[key] = target.get(key, 0) + value


@dataclass
class ExperimentSpec:
    """The arguments of one ``run_experiment`` call, validated."""

    name: str
    run_name: str
    description: str | None
    data: Sequence[Any]
    task: UserCallable
    evaluators: list[UserCallable] = field(default_factory=list)
    composite_evaluator: UserCallable | None = None
    run_evaluators: list[UserCallable] = field(default_factory=list)
    max_concurrency: int = 50
    metadata: dict[str, Any] | None = None
    progress: bool | None = None

    @classmethod
    def build(cls, **arguments: Any) -> ExperimentSpec:
        if not isinstance(arguments.get("name"), str) or not arguments["name"]:
            raise ValueError("run_experiment needs a non-empty name")
        if not callable(arguments.get("task")):
            raise ValueError("run_experiment needs a callable task(*, item, **kwargs)")
        if arguments["data"] is None:
            raise ValueError("run_experiment needs data: a list of dicts or dataset items")
        if int(arguments.get("max_concurrency") or 0) < 1:
            raise ValueError("max_concurrency must be at least 1")
        return cls(
            name=arguments["name"],
            run_name=arguments.get("run_name") or default_run_name(arguments["name"]),
            description=arguments.get("description"),
            data=list(arguments["data"]),
            task=UserCallable(arguments["task"]),
            evaluators=[UserCallable(fn) for fn in arguments.get("evaluators") or ()],
            composite_evaluator=_optional(arguments.get("composite_evaluator")),
            run_evaluators=[UserCallable(fn) for fn in arguments.get("run_evaluators") or ()],
            max_concurrency=int(arguments["max_concurrency"]),
            metadata=arguments.get("metadata"),
            progress=arguments.get("progress"),
        )


def _optional(fn: Callable[..., Any] | None) -> UserCallable | None:
    return UserCallable(fn) if fn is not None else None


class ExperimentRunner:
    """Runs one experiment; ``result()`` gives the (possibly partial) result at any time."""

    def __init__(self, client: Langfuse, spec: ExperimentSpec) -> None:
        self._client = client
        self._spec = spec
        self._slots: list[ExperimentItemResult | None] = [None] * len(spec.data)
        self._local_experiment_id = create_observation_id()  # one id for all items of a local run
        self._run_evaluations: list[Evaluation] = []
        self._dataset_run_url: str | None = None
        self._completed = False
        self._call_task = spec.task.direct()  # what each item calls: resolved once per run
        self._evaluator_calls = [(evaluator, evaluator.direct()) for evaluator in spec.evaluators]
        self._root_constant = _root_constant(client._settings.environment, spec.description)
        self._attributes = RunAttributes(spec.run_name, spec.metadata, self._local_experiment_id)
        self._metadata_base: dict[str, Any] = {
            "experiment_name": spec.name,
            "experiment_run_name": spec.run_name,
            **(spec.metadata or {}),
        }
        self._usage = UsageCollector()
        self._scores = ScoreBurst(client)
        self._started_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)

    # -------------------------------------------------------------------- public

    async def run(self) -> ExperimentResult:
        progress = Progress(resolve(self._spec.progress), total=len(self._spec.data), desc=self._spec.name)
        finished = False
        try:
            with self._usage:
                await self._run_items(progress)
            finished = True
        finally:
            self._scores.release()
            progress.close(completed=finished)
        await self._run_level_evaluations()
        self._completed = True
        await asyncio.to_thread(self._client.flush)
        self._add_trace_urls()
        await asyncio.to_thread(self._add_server_costs)
        return self.result()

    def _add_server_costs(self) -> None:
        """Costs the server computed (model price table) for generations that recorded usage only.

        One observations query per page of this run's generations (at most ``SERVER_COST_PAGES``), bounded
        by a short timeout; without an answer the results show tokens and no cost.
        """
        needy = {t for t, usage in self._usage.usage.items() if usage and t not in self._usage.cost}
        if not needy:
            return
        found: dict[str, dict[str, float]] = {}
        deadline = time.monotonic() + 5.0  # the whole read-back, however many pages
        for page in range(1, SERVER_COST_PAGES + 1):
            try:
                response = self._client.api.observations.get_many(
                    page=page,
                    limit=100,
                    type="GENERATION",
                    from_start_time=self._started_at,
                    request_options={"timeout_in_seconds": 3, "max_retries": 0},
                )
            except Exception:  # a missing cost is not worth failing a finished run for
                logger.debug("langfuse_nb: no server costs for the results", exc_info=True)
                return
            for obs in response.data:
                total = getattr(obs, "calculated_total_cost", None)
                if obs.trace_id in needy and isinstance(total, int | float) and total > 0:
                    sums = found.setdefault(obs.trace_id, {"total": 0.0})
                    sums["total"] += total
            if len(response.data) < 100 or needy <= found.keys() or time.monotonic() > deadline:
                break
        self._usage.cost.update(found)

    def _add_trace_urls(self) -> None:
        """Links for the result tables, resolved when first shown (the client caches the project id)."""
        url_of = self._trace_url_of
        for slot in self._slots:
            if slot is not None and slot.trace_id:
                slot._url_of = url_of

    def _trace_url_of(self, trace_id: str) -> str | None:
        return self._client.get_trace_url(trace_id=trace_id)

    def result(self) -> ExperimentResult:
        finished = [slot for slot in self._slots if slot is not None]
        for slot in finished:
            if slot.trace_id:
                slot.usage = self._usage.usage.get(slot.trace_id)
                slot.cost = self._usage.cost.get(slot.trace_id)
        return ExperimentResult(
            name=self._spec.name,
            run_name=self._spec.run_name,
            description=self._spec.description,
            item_results=[slot for slot in finished if slot.error is None],
            run_evaluations=list(self._run_evaluations),
            dataset_run_id=self._dataset_run_id(),
            dataset_run_url=self._dataset_run_url,
            failed_item_results=[slot for slot in finished if slot.error is not None],
            completed=self._completed,
            planned_items=len(self._slots),
        )

    # -------------------------------------------------------------------- items

    async def _run_items(self, progress: Progress) -> None:
        shared = iter(enumerate(self._spec.data))
        workers = min(self._spec.max_concurrency, len(self._slots))

        slots, process, update = self._slots, self._process, progress.update

        async def worker() -> None:
            for done, (index, item) in enumerate(shared, start=1):
                result = await process(item, index)
                result._index = index
                slots[index] = result
                update()
                if done % _YIELD_EVERY == 0:
                    await asyncio.sleep(0)

        await gather_or_cancel([worker() for _ in range(workers)])

    async def _process(self, item: Any, index: int) -> ExperimentItemResult:
        fields = ItemFields.of(item)
        trace = ItemTrace()
        started = time.perf_counter()
        try:
            output = await self._traced_task(item, fields, trace)
        except Exception as exc:  # one failing item never stops the run
            logger.error("langfuse_nb: Item %d failed: %s", index, exc)  # the reference's text
            failed = ExperimentItemResult(
                item=item,
                output=None,
                evaluations=[],
                trace_id=trace.trace_id,
                dataset_run_id=trace.dataset_run_id,
                error=error_text(exc),
                item_id=fields.item_id,
            )
            failed.latency = time.perf_counter() - started
            return failed
        latency = time.perf_counter() - started
        evaluations = await self._evaluate(item, fields, output, trace) if self._spec.evaluators else []
        done = ExperimentItemResult(
            item=item,
            output=output,
            evaluations=evaluations,
            trace_id=trace.trace_id,
            dataset_run_id=trace.dataset_run_id,
            item_id=fields.item_id,
        )
        done.latency = latency
        return done

    async def _traced_task(self, item: Any, fields: ItemFields, trace: ItemTrace) -> Any:
        """The task inside the item's root span, which is current (with the item's propagated
        attributes) while the task runs.

        The span starts without attributes and gets all of them (its own, the propagated ones, input,
        output, metadata) in one write when it closes; span and propagated values become current in
        one context switch; a sync task is called without a coroutine of its own.
        """
        parent = context_api.get_current()
        span = self._start_root(parent)
        otel_span, token, propagated = span._otel_span, None, None
        fixed = self._root_attributes(fields)
        try:
            trace.open(otel_span)
            if fields.input is None:
                raise ValueError("Experiment Item is missing input. Skipping item.")  # reference text
            if fields.dataset_id is not None and trace.trace_id:  # no link without a trace
                trace.dataset_run_id = await self._link_dataset_run(trace, fields)
            propagated = self._attributes.of_item(fields, trace)
            token = make_current(otel_span, parent, propagated)
            output = self._call_task(item=item)
            if is_awaitable(output):
                output = await output
            self._close(span, {**fixed, **propagated}, fields, output)
            return output
        except BaseException as exc:
            record_failure(span, {**fixed, **propagated} if propagated else fixed, exc)
            raise
        finally:
            if token is not None:
                detach(token)
            otel_span.end()

    async def _link_dataset_run(self, trace: ItemTrace, fields: ItemFields) -> str | None:
        """POST /api/public/dataset-run-items while the root span is open (wire-protocol §5.4)."""
        request = {
            "runName": self._spec.run_name,
            "runDescription": self._spec.description,
            "metadata": self._spec.metadata,
            "datasetItemId": fields.item_id,
            "traceId": trace.trace_id,
            "observationId": trace.observation_id,
        }
        try:
            created = await asyncio.to_thread(self._client.api.dataset_run_items.create, request=request)
        except Exception as exc:  # the item still runs, without the dataset link
            logger.error("langfuse_nb: Failed to create dataset run item: %s", exc)  # the reference's text
            return None
        return getattr(created, "dataset_run_id", None)

    def _start_root(self, parent: Any) -> LangfuseObservationWrapper:
        """The item's root span, started without attributes: all of them go in its closing write.

        Attributes given at start reach the span through the sampler's read-only mapping, which
        OpenTelemetry validates with abstract-class checks that ``mappingproxy`` always misses the cache
        of; one write of everything at the end costs less than two.
        """
        client = self._client
        try:
            otel_span = client._tracer.start_span(ROOT_SPAN_NAME, context=parent)
        except Exception:  # a tracing failure must not break the item
            logger.warning("langfuse_nb: could not start the experiment item's span", exc_info=True)
            otel_span = trace_api.INVALID_SPAN
        return LangfuseSpan._started(otel_span, client, client._settings.environment, {})

    def _root_attributes(self, fields: ItemFields) -> dict[str, Any]:
        """The root span's own attributes (type, environment, description, expected output)."""
        if fields.expected_output is None:
            return self._root_constant
        return {
            **self._root_constant,
            A.EXPERIMENT_ITEM_EXPECTED_OUTPUT: encode_value(fields.expected_output),
        }

    def _close(self, span: Any, attributes: dict[str, Any], fields: ItemFields, output: Any) -> None:
        """The root span's closing write: ``attributes`` (its own and its propagated ones), input, output
        and metadata; an item that adds no metadata of its own takes the run's as encoded once."""
        shared = self._shared_metadata
        if shared is not None and fields.dataset_id is None and not isinstance(fields.metadata, dict):
            item_input = fields.input
            if (
                type(item_input) is str
                and type(output) is str
                and not (item_input.startswith("data:") or output.startswith("data:"))
            ):  # K1: plain strings go as they are; no mask (shared is None with one), no media
                close_root(
                    span,
                    {**attributes, **shared, A.OBSERVATION_INPUT: item_input, A.OBSERVATION_OUTPUT: output},
                    None,
                )
            else:
                close_root(span, {**attributes, **shared}, {"input": item_input, "output": output})
        else:
            params = {"input": fields.input, "output": output, "metadata": self._root_metadata(fields)}
            close_root(span, attributes, params)

    @functools.cached_property
    def _shared_metadata(self) -> dict[str, Any] | None:
        """The root span's metadata attributes when they are the same for every local item: no mask
        (it sees each value) and nothing the media walk would replace; else None."""
        if self._client._mask is not None or may_hold_media(self._metadata_base):
            return None
        return encode_observation({"metadata": self._metadata_base}, generation_like=False)

    def _root_metadata(self, fields: ItemFields) -> dict[str, Any]:
        metadata = dict(self._metadata_base)  # the run's part, built once
        if fields.dataset_id is not None:
            metadata.update(dataset_id=fields.dataset_id, dataset_item_id=fields.item_id)
        if isinstance(fields.metadata, dict):
            metadata.update(fields.metadata)
        return metadata

    # -------------------------------------------------------------------- evaluation

    async def _evaluate(
        self, item: Any, fields: ItemFields, output: Any, trace: ItemTrace
    ) -> list[Evaluation]:
        arguments = {
            "input": fields.input,
            "output": output,
            "expected_output": fields.expected_output,
            "metadata": fields.metadata,
        }
        target = {"trace_id": trace.trace_id, "observation_id": trace.observation_id}
        evaluations: list[Evaluation] = []
        for evaluator, call in self._evaluator_calls:
            try:
                result = call(**arguments)  # a sync evaluator needs no coroutine of its own
                found = to_evaluations(await result if is_awaitable(result) else result)
            except Exception as exc:  # one failing evaluator never stops the item or the run
                logger.error("langfuse_nb: Evaluator %s failed: %s", evaluator.name, exc)  # reference text
                continue
            self._score(found, target)
            evaluations += found
        composite = self._spec.composite_evaluator
        if composite is not None and evaluations:
            evaluations += await self._scored(
                composite, {**arguments, "evaluations": list(evaluations), "item": item}, target
            )
        return evaluations

    async def _scored(
        self, evaluator: UserCallable, arguments: dict[str, Any], target: dict[str, Any]
    ) -> list[Evaluation]:
        try:
            evaluations = await run_evaluator(evaluator, **arguments)
        except Exception as exc:  # one failing evaluator never stops the item or the run
            logger.error("langfuse_nb: Evaluator %s failed: %s", evaluator.name, exc)  # the reference's text
            return []
        self._score(evaluations, target)
        return evaluations

    def _score(self, evaluations: list[Evaluation], target: dict[str, Any]) -> None:
        add = self._scores.add_for
        for evaluation in evaluations:
            add(evaluation, target)

    async def _run_level_evaluations(self) -> None:
        finished = [slot for slot in self._slots if slot is not None and slot.error is None]
        for evaluator in self._spec.run_evaluators:
            try:
                self._run_evaluations += await run_evaluator(evaluator, item_results=finished)
            except Exception as exc:
                logger.error("langfuse_nb: Run evaluator failed: %s", exc)  # the reference's text
        dataset_run_id = self._dataset_run_id()
        if dataset_run_id is None:
            return  # K8: a local run has nothing to attach run-level scores to
        for evaluation in self._run_evaluations:
            send_score(self._client, evaluation, dataset_run_id=dataset_run_id)
        self._dataset_run_url = await self._run_url(dataset_run_id)

    def _dataset_run_id(self) -> str | None:
        return next((s.dataset_run_id for s in self._slots if s is not None and s.dataset_run_id), None)

    async def _run_url(self, dataset_run_id: str) -> str | None:
        """``{base}/project/{projectId}/datasets/{datasetId}/runs/{runId}`` (wire-protocol §5.5)."""
        dataset_id = next((item.dataset_id for item in self._spec.data if is_dataset_item(item)), None)
        if dataset_id is None:
            return None
        try:
            project_id = await asyncio.to_thread(self._client._get_project_id)
        except Exception as exc:
            logger.debug("langfuse_nb: no project id for the dataset run url: %s", exc)
            return None
        if not project_id:
            return None
        base = self._client._settings.base_url.rstrip("/")
        return f"{base}/project/{project_id}/datasets/{dataset_id}/runs/{dataset_run_id}"
