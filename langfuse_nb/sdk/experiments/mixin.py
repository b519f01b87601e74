"""Experiment and batch-evaluation methods of the Langfuse client.

Each method has a sync form (works in scripts, worker threads and inside a running loop such as a
Jupyter kernel, where tasks run on that same loop: ``langfuse_nb.sdk.aio.run_sync``) and an async twin
for ``await``. When a run is interrupted (Ctrl-C, kernel interrupt, task cancellation) the pending items
are cancelled, the exception propagates, and the finished part is kept: it is attached to the exception
as ``exc.partial_result`` and stored as ``client.last_experiment_result`` /
``client.last_batch_evaluation_result`` (``completed=False``; batch results carry a resume token).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar

from langfuse_nb.sdk.params import public_signature

if TYPE_CHECKING:  # the runners load asyncio and friends; `import langfuse_nb` should not pay for them
    from typing_extensions import Required, Unpack

    from langfuse_nb.sdk.experiments.batch import BatchRun
    from langfuse_nb.sdk.experiments.batch_results import BatchEvaluationResult, BatchEvaluationResumeToken
    from langfuse_nb.sdk.experiments.results import ExperimentResult
    from langfuse_nb.sdk.experiments.runner import ExperimentRunner

R = TypeVar("R")


class ExperimentOptions(TypedDict, total=False):
    """Arguments of ``run_experiment`` / ``run_experiment_async`` (one definition for both)."""

    name: Required[str]
    run_name: str | None
    description: str | None
    data: Required[Sequence[Any]]
    task: Required[Callable[..., Any]]
    evaluators: Sequence[Callable[..., Any]]
    composite_evaluator: Callable[..., Any] | None
    run_evaluators: Sequence[Callable[..., Any]]
    max_concurrency: int
    metadata: dict[str, Any] | None
    progress: bool | None


class BatchEvaluationOptions(TypedDict, total=False):
    """Arguments of ``run_batched_evaluation`` / ``run_batched_evaluation_async``."""

    scope: Required[Literal["traces", "observations"]]
    mapper: Required[Callable[..., Any]]
    filter: str | None
    fetch_batch_size: int
    max_items: int | None
    max_retries: int
    evaluators: Required[Sequence[Callable[..., Any]]]
    composite_evaluator: Callable[..., Any] | None
    max_concurrency: int
    metadata: dict[str, Any] | None
    resume_from: BatchEvaluationResumeToken | None
    verbose: bool
    progress: bool | None


# defaults other than None
_EXPERIMENT_DEFAULTS = {"evaluators": (), "run_evaluators": (), "max_concurrency": 50}
_BATCH_DEFAULTS = {"fetch_batch_size": 50, "max_retries": 3, "max_concurrency": 50, "verbose": False}


class ExperimentsMixin:
    """``run_experiment`` and ``run_batched_evaluation``, sync and async."""

    last_experiment_result: ExperimentResult | None = None
    last_batch_evaluation_result: BatchEvaluationResult | None = None

    @public_signature(defaults=_EXPERIMENT_DEFAULTS)
    def run_experiment(self, **options: Unpack[ExperimentOptions]) -> ExperimentResult:
        """Run ``task(item=...)`` on every item, trace and evaluate it, and return the results.

        ``data`` is a list of dicts (``input``, ``expected_output``, ``metadata``) or of dataset items
        (then every item is linked to the dataset run ``run_name``). Tasks and evaluators may be sync or
        async; evaluators return an ``Evaluation``, a dict or a list of either. ``progress`` shows a bar
        (None: automatic for 10+ items, env ``LANGFUSE_NB_PROGRESS=0`` turns it off).
        """
        runner = _experiment_runner(self, bind_arguments(ExperimentsMixin.run_experiment, options))
        return self._run_blocking(runner.run, runner.result, "last_experiment_result")

    @public_signature(defaults=_EXPERIMENT_DEFAULTS)
    async def run_experiment_async(self, **options: Unpack[ExperimentOptions]) -> ExperimentResult:
        """``await`` form of :meth:`run_experiment` (same arguments, runs on the current loop)."""
        runner = _experiment_runner(self, bind_arguments(ExperimentsMixin.run_experiment, options))
        return await self._run_awaiting(runner.run, runner.result, "last_experiment_result")

    @public_signature(defaults=_BATCH_DEFAULTS)
    def run_batched_evaluation(self, **options: Unpack[BatchEvaluationOptions]) -> BatchEvaluationResult:
        """Fetch stored traces or observations page by page, evaluate each and score it.

        ``scope`` is "traces" or "observations" (anything else raises ValueError). ``mapper(item=...)``
        turns each item into ``EvaluatorInputs``; evaluators and ``composite_evaluator`` are as in
        :meth:`run_experiment`; ``metadata`` is added to every score. Fetches are retried
        ``max_retries`` times with exponential backoff (1 s, 2 s, 4 s ...); a run that still cannot
        fetch returns ``completed=False`` with a ``resume_token`` to pass as ``resume_from``.
        """
        runner = _batch_runner(self, bind_arguments(ExperimentsMixin.run_batched_evaluation, options))
        return self._run_blocking(runner.run, runner.result, "last_batch_evaluation_result")

    @public_signature(defaults=_BATCH_DEFAULTS)
    async def run_batched_evaluation_async(
        self, **options: Unpack[BatchEvaluationOptions]
    ) -> BatchEvaluationResult:
        """``await`` form of :meth:`run_batched_evaluation` (same arguments)."""
        runner = _batch_runner(self, bind_arguments(ExperimentsMixin.run_batched_evaluation, options))
        return await self._run_awaiting(runner.run, runner.result, "last_batch_evaluation_result")

    # ------------------------------------------------------------------ shared plumbing

    def _run_blocking(self, run: Callable[[], Awaitable[R]], partial: Callable[[], R], slot: str) -> R:
        from langfuse_nb.sdk.aio import run_sync

        try:
            result = run_sync(run)
        except BaseException as exc:
            self._keep_partial(exc, partial(), slot)
            raise
        setattr(self, slot, result)
        return result

    async def _run_awaiting(self, run: Callable[[], Awaitable[R]], partial: Callable[[], R], slot: str) -> R:
        try:
            result = await run()
        except BaseException as exc:
            self._keep_partial(exc, partial(), slot)
            raise
        setattr(self, slot, result)
        return result

    def _keep_partial(self, exc: BaseException, result: Any, slot: str) -> None:
        setattr(self, slot, result)
        with contextlib.suppress(Exception):  # some exception types refuse new attributes
            exc.partial_result = result  # type: ignore[attr-defined]


def _experiment_runner(client: Any, arguments: dict[str, Any]) -> ExperimentRunner:
    from langfuse_nb.sdk.experiments.runner import ExperimentRunner, ExperimentSpec

    return ExperimentRunner(client, ExperimentSpec.build(**arguments))


def _batch_runner(client: Any, arguments: dict[str, Any]) -> BatchRun:
    from langfuse_nb.sdk.experiments.batch import BatchRun, BatchSpec

    return BatchRun(client, BatchSpec.build(**arguments))


def _arguments(local_vars: dict[str, Any]) -> dict[str, Any]:
    """The public method's keyword arguments, without ``self``."""
    return {key: value for key, value in local_vars.items() if key != "self"}


def bind_arguments(method: Callable[..., Any], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``arguments`` against ``method``'s signature (TypeError like a real call) and fill defaults."""
    bound = inspect.signature(method).bind(None, **arguments)
    bound.apply_defaults()
    return _arguments(bound.arguments)
