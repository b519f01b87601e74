"""Batch evaluation: page through stored traces/observations, map, evaluate, score.

Memory stays bounded: one page is processed while (at most) the next one is fetched, and only the
compact per-item evaluations are kept. Pages are fetched by page number (``fetch_batch_size`` per
page) from ``GET /api/public/traces`` or ``/observations`` in a worker thread, with retries and
exponential backoff. A run stops when a page comes back short or empty, or at ``max_items``.

Resume: the token records the timestamp of the last item of the finished prefix (in listing order),
the listing direction (detected from the data; Langfuse lists newest first) and the ids processed at
exactly that timestamp. Resuming adds a ``>=``/``<=`` datetime condition on ``timestamp`` (traces)
or ``start_time`` (observations) to the filter and skips those ids, so nothing is skipped or
evaluated twice even when several items share a timestamp.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langfuse_nb._retry import RetryPolicy, is_retryable_error, retry_after
from langfuse_nb.sdk.experiments.batch_results import (
    BatchEvaluationResult,
    BatchEvaluationResumeToken,
    EvaluatorInputs,
    EvaluatorStats,
    ItemMetrics,
)
from langfuse_nb.sdk.experiments.evaluation import Evaluation, UserCallable, run_evaluator
from langfuse_nb.sdk.experiments.item_trace import error_text
from langfuse_nb.sdk.experiments.progress import Progress, resolve
from langfuse_nb.sdk.experiments.runner import gather_or_cancel
from langfuse_nb.sdk.experiments.scoring import ScoreBurst

if TYPE_CHECKING:
    from langfuse_nb.sdk.client import Langfuse

logger = logging.getLogger("langfuse_nb")

# scope -> (filter column, attribute holding the item's time)
SCOPES: dict[str, tuple[str, str]] = {
    "traces": ("timestamp", "timestamp"),
    "observations": ("start_time", "start_time"),
}
RETRY_BASE_DELAY = 1.0  # seconds; doubled after every failed attempt (1, 2, 4, ...)


@dataclass
class BatchSpec:
    """The arguments of one ``run_batched_evaluation`` call, validated."""

    scope: str
    mapper: UserCallable
    evaluators: list[UserCallable]
    filter: str | None = None
    fetch_batch_size: int = 50
    max_items: int | None = None
    max_retries: int = 3
    composite_evaluator: UserCallable | None = None
    max_concurrency: int = 50
    metadata: dict[str, Any] | None = None
    resume_from: BatchEvaluationResumeToken | None = None
    verbose: bool = False
    progress: bool | None = None
    stats: list[EvaluatorStats] = field(default_factory=list)

    @classmethod
    def build(cls, **arguments: Any) -> BatchSpec:
        scope = arguments["scope"]
        if scope not in SCOPES:  # F6
            raise ValueError(f"Invalid scope {scope!r}: must be one of {', '.join(map(repr, SCOPES))}")
        resume = arguments.get("resume_from")
        if resume is not None and resume.scope != scope:
            raise ValueError(f"resume_from is for scope {resume.scope!r}, not {scope!r}")
        for key in ("fetch_batch_size", "max_concurrency"):
            if int(arguments[key]) < 1:
                raise ValueError(f"{key} must be at least 1")
        evaluators = [UserCallable(fn) for fn in arguments.get("evaluators") or ()]
        composite = arguments.get("composite_evaluator")
        progress = arguments.get("progress")
        return cls(
            scope=scope,
            mapper=UserCallable(arguments["mapper"], item_may_be_positional=True),
            evaluators=evaluators,
            filter=arguments.get("filter"),
            fetch_batch_size=int(arguments["fetch_batch_size"]),
            max_items=arguments.get("max_items"),
            max_retries=max(0, int(arguments["max_retries"])),
            composite_evaluator=UserCallable(composite) if composite is not None else None,
            max_concurrency=int(arguments["max_concurrency"]),
            metadata=arguments.get("metadata"),
            resume_from=resume,
            verbose=bool(arguments.get("verbose")),
            progress=True if progress is None and arguments.get("verbose") else progress,
            stats=[EvaluatorStats(name=evaluator.name) for evaluator in evaluators],
        )


class _Counters:
    """Mutable totals of one run (plain attributes; the loop is single-threaded)."""

    def __init__(self) -> None:
        self.fetched = 0  # items taken for evaluation (after resume skips and the max_items cut)
        self.received = 0  # items the API returned: the result's total_items_fetched, as the reference's
        self.processed = 0
        self.failed = 0
        self.scores = 0
        self.composite_scores = 0
        self.evaluations_failed = 0
        self.failed_ids: list[str] = []
        self.errors: dict[str, int] = {}
        self.item_errors: dict[str, str] = {}
        self.item_evaluations: dict[str, list[Evaluation]] = {}
        self.item_metrics: dict[str, ItemMetrics] = {}


class _Boundary:
    """The end of the finished prefix, in listing order: what a resume token needs."""

    def __init__(self, resume: BatchEvaluationResumeToken | None) -> None:
        self.timestamp = resume.last_processed_timestamp if resume else None
        self.last_id = resume.last_processed_id if resume else None
        self.ids: list[str] = list(resume.boundary_ids) if resume else []
        self.direction: str | None = resume.direction if resume else None
        self._previous: str | None = None

    def observe_order(self, timestamp: str) -> None:
        """Learn the listing direction from the first two different timestamps seen."""
        if self.direction is None and self._previous is not None and timestamp != self._previous:
            self.direction = "asc" if timestamp > self._previous else "desc"
        self._previous = timestamp

    def advance(self, item_id: str, timestamp: str) -> None:
        if timestamp != self.timestamp:
            self.timestamp, self.ids = timestamp, []
        self.ids.append(item_id)
        self.last_id = item_id


class BatchRun:
    """Runs one batch evaluation; ``result()`` gives the (possibly partial) result at any time."""

    def __init__(self, client: Langfuse, spec: BatchSpec) -> None:
        self._client = client
        self._scores = ScoreBurst(client)  # queued once per loop turn, as a run's item scores are
        self._spec = spec
        self._counts = _Counters()
        self._boundary = _Boundary(spec.resume_from)
        self._skip_ids = set(spec.resume_from.boundary_ids) if spec.resume_from else set()
        self._started = time.monotonic()
        self._state = "running"  # running | completed | fetch_failed
        self._has_more = False
        self._fetch_error: str | None = None
        self._effective_filter = self._resume_filter()

    # -------------------------------------------------------------------- public

    async def run(self) -> BatchEvaluationResult:
        spec = self._spec
        self._log(f"Starting batch evaluation on {spec.scope}")
        if spec.resume_from is not None:
            token = spec.resume_from
            self._log(
                f"Resuming from {token.last_processed_timestamp} "
                f"({token.items_processed} items already processed)"
            )
        progress = Progress(resolve(spec.progress), total=spec.max_items, desc=f"evaluating {spec.scope}")
        try:
            await self._pages(progress)
        finally:
            self._scores.release()
            progress.close(completed=self._state == "completed")  # ends at what was fetched
        self._log("Flushing scores to Langfuse...")
        await asyncio.to_thread(self._client.flush)
        self._log(f"Batch evaluation complete: {self._counts.processed} items processed")
        return self.result()

    def result(self) -> BatchEvaluationResult:
        counts = self._counts
        completed = self._state == "completed"
        return BatchEvaluationResult(
            total_items_fetched=counts.received,
            total_items_processed=counts.processed,
            total_items_failed=counts.failed,
            total_scores_created=counts.scores,
            total_composite_scores_created=counts.composite_scores,
            total_evaluations_failed=counts.evaluations_failed,
            evaluator_stats=self._spec.stats,
            resume_token=None if completed else self._resume_token(),
            completed=completed,
            duration_seconds=time.monotonic() - self._started,
            failed_item_ids=list(counts.failed_ids),
            error_summary=dict(counts.errors),
            has_more_items=self._has_more,
            item_evaluations=counts.item_evaluations,
            item_errors=dict(counts.item_errors),
            fetch_error=self._fetch_error,
            item_metrics=dict(counts.item_metrics),
        )

    # -------------------------------------------------------------------- paging

    async def _pages(self, progress: Progress) -> None:
        spec = self._spec
        page = 1
        pending: asyncio.Task[list[Any]] | None = asyncio.ensure_future(self._fetch(page))
        try:
            while pending is not None:
                try:
                    raw = await pending
                except Exception as exc:
                    tried = f"after {spec.max_retries} retries" if _retryable(exc) else "(not retried)"
                    logger.error("langfuse_nb: fetching page %d failed %s: %s", page, tried, exc)
                    self._state = "fetch_failed"
                    self._fetch_error = f"page {page}: {error_text(exc)}"
                    return
                pending = None
                self._log(f"Fetched batch {page} ({len(raw)} items)")
                self._counts.received += len(raw)
                items, truncated = self._take(raw)
                full_page = len(raw) >= spec.fetch_batch_size
                if full_page and not truncated and not self._limit_reached(items):
                    pending = asyncio.ensure_future(self._fetch(page + 1))  # fetch ahead while evaluating
                    page += 1
                else:
                    self._has_more = truncated or (full_page and self._limit_reached(items))
                await self._process_page(items, progress)
                self._log_progress()
            self._state = "completed"
        finally:
            if pending is not None and not pending.done():
                pending.cancel()

    def _take(self, raw: list[Any]) -> tuple[list[Any], bool]:
        """Drop already-processed boundary items; cut at max_items. Returns (items, truncated)."""
        items = [item for item in raw if item.id not in self._skip_ids] if self._skip_ids else raw
        max_items = self._spec.max_items
        if max_items is None:
            return items, False
        room = max(0, max_items - self._counts.fetched)
        return items[:room], len(items) > room

    def _limit_reached(self, items: list[Any]) -> bool:
        max_items = self._spec.max_items
        return max_items is not None and self._counts.fetched + len(items) >= max_items

    async def _fetch(self, page: int) -> list[Any]:
        # the SDK's one retry policy (langfuse_nb/_retry.py), with the run's max_retries as its attempts
        policy = RetryPolicy(
            max_attempts=self._spec.max_retries + 1, initial_delay=RETRY_BASE_DELAY, jitter=0
        )
        state = policy.start()
        while True:
            try:
                return await asyncio.to_thread(self._list_page, page)
            except Exception as exc:
                delay = state.next_delay(retry_after_of(exc)) if _retryable(exc) else None
                if delay is None:
                    raise
                logger.warning("langfuse_nb: fetching page %d failed (%s); retry in %.1fs", page, exc, delay)
                await asyncio.sleep(delay)

    def _list_page(self, page: int) -> list[Any]:
        spec = self._spec
        api = self._client.api
        resource = api.trace.list if spec.scope == "traces" else api.observations.get_many
        response = resource(
            page=page,
            limit=spec.fetch_batch_size,
            filter=self._effective_filter,
            request_options={"max_retries": 0},  # retries (with backoff) are ours
        )
        return list(response.data)

    # -------------------------------------------------------------------- items

    async def _process_page(self, items: list[Any], progress: Progress) -> None:
        self._counts.fetched += len(items)
        done = [False] * len(items)
        cursor = iter(enumerate(items))

        async def worker() -> None:
            for index, item in cursor:
                await self._process_item(item)
                done[index] = True
                progress.update()

        try:
            await gather_or_cancel([worker() for _ in range(min(self._spec.max_concurrency, len(items)))])
        finally:
            self._advance_boundary(items, done)

    def _advance_boundary(self, items: list[Any], done: list[bool]) -> None:
        for item in items:
            self._boundary.observe_order(self._timestamp(item))
        for item, finished in zip(items, done, strict=True):
            if not finished:
                break  # the prefix ends here; later items are evaluated again on resume
            self._boundary.advance(item.id, self._timestamp(item))

    def _timestamp(self, item: Any) -> str:
        value: Any = getattr(item, SCOPES[self._spec.scope][1], None)
        return value.isoformat() if hasattr(value, "isoformat") else str(value or "")

    async def _process_item(self, item: Any) -> None:
        counts = self._counts
        try:
            inputs = to_evaluator_inputs(await self._spec.mapper.acall(item=item))
        except Exception as exc:  # a failed item is counted, never fatal
            counts.failed += 1
            counts.failed_ids.append(item.id)
            counts.errors[type(exc).__name__] = counts.errors.get(type(exc).__name__, 0) + 1
            counts.item_errors[item.id] = error_text(exc)
            logger.warning("langfuse_nb: Item %s failed: %s", item.id, exc)  # the reference's text
            return
        evaluations = await self._evaluate(item, inputs)
        counts.processed += 1
        counts.item_evaluations[item.id] = evaluations
        counts.item_metrics[item.id] = ItemMetrics.of(item)  # latency/tokens/cost for the result tables

    async def _evaluate(self, item: Any, inputs: EvaluatorInputs) -> list[Evaluation]:
        arguments = {
            "input": inputs.input,
            "output": inputs.output,
            "expected_output": inputs.expected_output,
            "metadata": inputs.metadata,
        }
        evaluations: list[Evaluation] = []
        for evaluator, stats in zip(self._spec.evaluators, self._spec.stats, strict=True):
            stats.total_runs += 1
            try:
                results = await run_evaluator(evaluator, **arguments)
            except Exception as exc:
                stats.failed_runs += 1
                self._counts.evaluations_failed += 1
                logger.warning(
                    "langfuse_nb: Evaluator %s failed on item %s: %s", evaluator.name, item.id, exc
                )  # the reference's text
                continue
            stats.successful_runs += 1
            stats.total_scores_created += len(results)
            evaluations += results
        self._counts.scores += sum(self._score(item, evaluation) for evaluation in evaluations)
        composite = self._spec.composite_evaluator
        if composite is not None and evaluations:
            evaluations += await self._composite(composite, item, arguments, evaluations)
        return evaluations

    async def _composite(
        self, composite: UserCallable, item: Any, arguments: dict[str, Any], evaluations: list[Evaluation]
    ) -> list[Evaluation]:
        try:
            results = await run_evaluator(composite, **arguments, evaluations=list(evaluations), item=item)
        except Exception as exc:
            logger.warning("langfuse_nb: Composite evaluator failed on item %s: %s", item.id, exc)
            return []
        self._counts.composite_scores += sum(self._score(item, evaluation) for evaluation in results)
        return results

    def _score(self, item: Any, evaluation: Evaluation) -> bool:
        """F5: observation scores carry the trace id too."""
        if self._spec.scope == "traces":
            target = {"trace_id": item.id}
        else:
            target = {"trace_id": getattr(item, "trace_id", None), "observation_id": item.id}
        metadata = {**(evaluation.metadata or {}), **(self._spec.metadata or {})}
        scored = Evaluation(
            name=evaluation.name,
            value=evaluation.value,
            comment=evaluation.comment,
            metadata=metadata or None,
            data_type=evaluation.data_type,
            config_id=evaluation.config_id,
        )
        return self._scores.add(scored, **target)

    # -------------------------------------------------------------------- resume

    def _resume_filter(self) -> str | None:
        token = self._spec.resume_from
        if token is None:
            return self._spec.filter
        conditions = _filter_list(self._spec.filter)
        if token.last_processed_timestamp:
            conditions.append(
                {
                    "type": "datetime",
                    "column": SCOPES[self._spec.scope][0],
                    "operator": "<=" if token.direction == "desc" else ">=",
                    "value": token.last_processed_timestamp,
                }
            )
        return json.dumps(conditions)

    def _resume_token(self) -> BatchEvaluationResumeToken:
        boundary = self._boundary
        previous = self._spec.resume_from.items_processed if self._spec.resume_from else 0
        return BatchEvaluationResumeToken(
            scope=self._spec.scope,
            filter=self._spec.filter,
            last_processed_timestamp=boundary.timestamp or "",
            last_processed_id=boundary.last_id or "",
            items_processed=previous + self._counts.processed,
            direction=boundary.direction or "desc",
            boundary_ids=list(boundary.ids),
        )

    # -------------------------------------------------------------------- logging

    def _log(self, message: str) -> None:
        if self._spec.verbose:
            logger.info("langfuse_nb: %s", message)

    def _log_progress(self) -> None:
        counts, max_items = self._counts, self._spec.max_items
        if max_items:
            self._log(
                f"Progress: {counts.processed}/{max_items} items "
                f"({counts.processed / max_items * 100:.1f}%), {counts.scores} scores created"
            )
        else:
            self._log(f"Progress: {counts.processed} items processed, {counts.scores} scores created")


class BatchEvaluationRunner:
    """The reference's entry point: ``await BatchEvaluationRunner(client).run_async(scope=..., ...)``."""

    def __init__(self, client: Langfuse) -> None:
        self.client = client

    async def run_async(self, **arguments: Any) -> BatchEvaluationResult:
        return await self.client.run_batched_evaluation_async(**arguments)


def to_evaluator_inputs(value: Any) -> EvaluatorInputs:
    """Accept an EvaluatorInputs, a dict with its keys, or any object with those attributes."""
    if isinstance(value, EvaluatorInputs):
        return value
    if isinstance(value, dict):
        return EvaluatorInputs(
            input=value.get("input"),
            output=value.get("output"),
            expected_output=value.get("expected_output"),
            metadata=value.get("metadata"),
        )
    if hasattr(value, "input") and hasattr(value, "output"):
        return EvaluatorInputs(
            input=value.input,
            output=value.output,
            expected_output=getattr(value, "expected_output", None),
            metadata=getattr(value, "metadata", None),
        )
    raise TypeError(f"a mapper must return EvaluatorInputs, not {type(value).__name__}")


def _filter_list(raw: str | None) -> list[Any]:
    if not raw:
        return []
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        logger.warning("langfuse_nb: Invalid JSON in original filter, ignoring: %s", raw)  # reference text
        return []
    if not isinstance(parsed, list):
        logger.warning("langfuse_nb: Filter should be a JSON array, got: %s", type(parsed).__name__)
        return []
    return parsed


def _retryable(exc: BaseException) -> bool:
    """Network errors, 408, 429 and 5xx are retried (the one policy's rule); other HTTP errors are final."""
    return is_retryable_error(exc)


def retry_after_of(exc: BaseException) -> float | None:
    """The wait a 429/503 asked for (``Retry-After``), when the error carries its headers."""
    headers = getattr(exc, "headers", None)
    return retry_after(headers) if headers else None
