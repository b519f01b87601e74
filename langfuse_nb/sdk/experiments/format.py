"""Pure text and HTML renderings of experiment and batch-evaluation results."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from langfuse_nb.sdk.experiments.evaluation import Evaluation
from langfuse_nb.sdk.experiments.results import item_field, total_of

if TYPE_CHECKING:
    from langfuse_nb.sdk.experiments.batch_results import BatchEvaluationResult
    from langfuse_nb.sdk.experiments.results import ExperimentItemResult, ExperimentResult

RULE = "─" * 50
HTML_MAX_ROWS = 50
HTML_MAX_CELL = 200


def short_text(value: Any, limit: int = 50) -> str:
    """Strings cut to ``limit`` characters with an ellipsis; other values as ``str``."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "..."
    return str(value)


def score_text(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else str(value)


def evaluation_names(results: Iterable[ExperimentItemResult]) -> list[str]:
    """Evaluation names in first-seen order."""
    names: dict[str, None] = {}
    for result in results:
        for evaluation in result.evaluations:
            names.setdefault(evaluation.name, None)
    return list(names)


def averages(results: list[ExperimentItemResult], names: list[str]) -> dict[str, float]:
    """Mean of the numeric values per evaluation name (names without numbers are left out)."""
    sums: dict[str, list[float]] = {name: [] for name in names}
    for result in results:
        for evaluation in result.evaluations:
            if isinstance(evaluation.value, (int, float)):
                sums[evaluation.name].append(float(evaluation.value))
    return {name: sum(values) / len(values) for name, values in sums.items() if values}


# ---------------------------------------------------------------- experiment: text


def format_experiment(result: ExperimentResult, *, include_item_results: bool = False) -> str:
    if not result.item_results and not result.failed_item_results:
        return "No experiment results to display."
    parts = _item_lines(result) if include_item_results else _hidden_items_lines(result)
    parts += _overview_lines(result)
    return "\n".join(parts)


def _hidden_items_lines(result: ExperimentResult) -> list[str]:
    return [
        f"Individual Results: Hidden ({len(result.item_results)} items)",
        "💡 Set include_item_results=True to view them",
    ]


def _item_lines(result: ExperimentResult) -> list[str]:
    lines: list[str] = []
    for number, item_result in enumerate(result.all_item_results(), start=1):
        lines += ["", f"{number}. Item {number}:"]
        lines += _one_item_lines(item_result)
    return lines


def _one_item_lines(item_result: ExperimentItemResult) -> list[str]:
    lines: list[str] = []
    item_input = item_field(item_result.item, "input")
    expected = item_field(item_result.item, "expected_output")
    if item_input is not None:
        lines.append(f"   Input:    {short_text(item_input)}")
    if expected is not None:
        lines.append(f"   Expected: {short_text(expected)}")
    if item_result.error is not None:
        lines.append(f"   Error:    {item_result.error}")
    else:
        lines.append(f"   Actual:   {short_text(item_result.output)}")
    if item_result.evaluations:
        lines.append("   Scores:")
        for evaluation in item_result.evaluations:
            lines.append(f"     • {evaluation.name}: {score_text(evaluation.value)}")
            if evaluation.comment:
                lines.append(f"       💭 {evaluation.comment}")
    if item_result.trace_id:
        lines += ["", f"   Trace ID: {item_result.trace_id}"]
    return lines


def _overview_lines(result: ExperimentResult) -> list[str]:
    title = f"📋 Run name: {result.run_name}"
    if result.description:
        title += f" - {result.description}"
    lines = ["", RULE, f"🧪 Experiment: {result.name}", title, f"{len(result.item_results)} items"]
    if result.failed_item_results:
        lines.append(f"{len(result.failed_item_results)} items failed")
    if not result.completed:
        lines.append("⚠️ Interrupted: partial results")
    names = evaluation_names(result.item_results)
    if names:
        lines += ["Evaluations:", *(f"  • {name}" for name in names), ""]
        lines.append("Average Scores:")
        lines += [f"  • {name}: {mean:.3f}" for name, mean in averages(result.item_results, names).items()]
    lines += _run_evaluation_lines(result.run_evaluations)
    if result.dataset_run_url:
        lines += ["", "🔗 Dataset Run:", f"   {result.dataset_run_url}"]
    return lines


def _run_evaluation_lines(run_evaluations: list[Evaluation]) -> list[str]:
    if not run_evaluations:
        return []
    lines = ["", "Run Evaluations:"]
    for evaluation in run_evaluations:
        lines.append(f"  • {evaluation.name}: {score_text(evaluation.value)}")
        if evaluation.comment:
            lines.append(f"    💭 {evaluation.comment}")
    return lines


# ---------------------------------------------------------------- experiment: HTML


def cell(value: Any, limit: int = HTML_MAX_CELL) -> str:
    """An escaped, shortened table cell for any value."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else _json_or_str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return html.escape(text)


def _json_or_str(value: Any) -> str:
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _table(headers: list[str], rows: list[list[str]], total: int) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    more = ""
    if total > len(rows):
        more = f"<p><em>… and {total - len(rows)} more rows (use <code>to_dataframe()</code>)</em></p>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _dl(pairs: list[tuple[str, str]]) -> str:
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in pairs
    )
    return f"<table>{rows}</table>"


def experiment_html(result: ExperimentResult) -> str:
    names = evaluation_names(result.item_results)
    pairs = [("Experiment", cell(result.name)), ("Run name", cell(result.run_name))]
    if result.description:
        pairs.append(("Description", cell(result.description)))
    pairs.append(("Items", f"{len(result.item_results)} ok, {len(result.failed_item_results)} failed"))
    if not result.completed:
        pairs.append(("Status", "interrupted (partial results)"))
    for name, mean in averages(result.item_results, names).items():
        pairs.append((f"avg {name}", f"{mean:.3f}"))
    for evaluation in result.run_evaluations:
        pairs.append((f"run: {evaluation.name}", cell(score_text(evaluation.value))))
    pairs += _run_totals(result)
    if result.dataset_run_url:
        url = html.escape(result.dataset_run_url, quote=True)
        # only web links become clickable: a javascript: or data: URL would run in the notebook page
        safe = result.dataset_run_url.lower().startswith(("http://", "https://"))
        link = f"<a href='{url}' target='_blank' rel='noopener'>{url}</a>" if safe else url
        pairs.append(("Dataset run", link))
    return "<div class='langfuse-nb-experiment'>" + _dl(pairs) + _experiment_rows(result, names) + "</div>"


def latency_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def tokens_text(usage: dict[str, float] | None) -> str:
    total = total_of(usage)
    return f"{total:,.0f}" if total else ""


def cost_text(cost: dict[str, float] | None) -> str:
    total = total_of(cost)
    if not total or total <= 0:
        return ""
    return f"${total:.6f}".rstrip("0").rstrip(".") if total < 0.01 else f"${total:.4f}"


def trace_link(trace_id: str | None, url: str | None) -> str:
    """The trace id, as a link to its page when the URL is a web link."""
    if not trace_id:
        return ""
    if url and url.lower().startswith(("http://", "https://")):
        return f"<a href='{html.escape(url, quote=True)}' target='_blank' rel='noopener'>{cell(trace_id)}</a>"
    return cell(trace_id)


def _experiment_rows(result: ExperimentResult, names: list[str]) -> str:
    everything = result.all_item_results()
    headers = ["#", "item_id", "input", "expected_output", "output", *names]
    headers += ["latency", "tokens", "cost", "trace", "error"]
    rows = []
    for number, item_result in enumerate(everything[:HTML_MAX_ROWS], start=1):
        values = {evaluation.name: evaluation.value for evaluation in item_result.evaluations}
        rows.append(
            [
                str(number),
                cell(item_result.item_id),
                cell(item_field(item_result.item, "input")),
                cell(item_field(item_result.item, "expected_output")),
                cell(item_result.output),
                *(cell(score_text(values[name])) if name in values else "" for name in names),
                latency_text(item_result.latency),
                tokens_text(item_result.usage),
                html.escape(cost_text(item_result.cost)),
                trace_link(item_result.trace_id, item_result.trace_url),
                cell(item_result.error),
            ]
        )
    return _table(headers, rows, len(everything))


def _run_totals(result: ExperimentResult) -> list[tuple[str, str]]:
    """Latency, tokens and cost over the run's items (rows only for what was recorded)."""
    items = result.all_item_results()
    latencies = [r.latency for r in items if r.latency is not None]
    tokens = sum(total_of(r.usage) or 0 for r in items)
    cost = sum(total_of(r.cost) or 0 for r in items)
    pairs = []
    if latencies:
        mean = sum(latencies) / len(latencies)
        pairs.append(("Latency", f"avg {latency_text(mean)} · max {latency_text(max(latencies))}"))
    if tokens:
        pairs.append(("Tokens", f"{tokens:,.0f}"))
    if cost > 0:
        pairs.append(("Cost", html.escape(cost_text({"total": cost}))))
    return pairs


# ---------------------------------------------------------------- batch evaluation


def format_batch(result: BatchEvaluationResult) -> str:
    lines = ["=" * 60, "Batch Evaluation Results", "=" * 60]
    lines += ["", f"Status: {'Completed' if result.completed else 'Incomplete'}"]
    lines.append(f"Duration: {result.duration_seconds:.2f}s")
    lines += ["", f"Items fetched: {result.total_items_fetched}"]
    lines.append(f"Items processed: {result.total_items_processed}")
    if result.total_items_failed:
        lines.append(f"Items failed: {result.total_items_failed}")
    if result.total_items_fetched:
        lines.append(f"Success rate: {result.total_items_processed / result.total_items_fetched * 100:.1f}%")
    lines += ["", f"Scores created: {result.total_scores_created}"]
    if result.total_composite_scores_created:
        lines.append(f"Composite scores: {result.total_composite_scores_created}")
    lines.append(f"Total scores: {result.total_scores_created + result.total_composite_scores_created}")
    lines += _evaluator_stat_lines(result)
    lines += _throughput_lines(result)
    if result.error_summary:
        lines += ["", "Errors encountered:", *(f"  {kind}: {n}" for kind, n in result.error_summary.items())]
    lines += _incomplete_lines(result)
    if result.has_more_items:
        lines += ["", "Note: More items available beyond max_items limit"]
    lines.append("=" * 60)
    return "\n".join(lines)


def _evaluator_stat_lines(result: BatchEvaluationResult) -> list[str]:
    if not result.evaluator_stats:
        return []
    lines = ["", "Evaluator Performance:"]
    for stats in result.evaluator_stats:
        lines.append(f"  {stats.name}:")
        if stats.total_runs:
            rate = stats.successful_runs / stats.total_runs * 100
            lines.append(f"    Runs: {stats.successful_runs}/{stats.total_runs} ({rate:.1f}% success)")
            lines.append(f"    Scores created: {stats.total_scores_created}")
            if stats.failed_runs:
                lines.append(f"    Failed runs: {stats.failed_runs}")
    return lines


def _throughput_lines(result: BatchEvaluationResult) -> list[str]:
    if not result.total_items_processed or result.duration_seconds <= 0:
        return []
    processed = result.total_items_processed
    lines = ["", "Performance:", f"  Throughput: {processed / result.duration_seconds:.2f} items/second"]
    if result.total_scores_created:
        lines.append(f"  Avg scores per item: {result.total_scores_created / processed:.2f}")
    return lines


def _incomplete_lines(result: BatchEvaluationResult) -> list[str]:
    if result.completed:
        return []
    lines = ["", "Warning: Evaluation incomplete"]
    if result.fetch_error:
        lines.append(f"  Fetch failed: {result.fetch_error}")
    token = result.resume_token
    if token is not None:
        lines.append(f"  Last processed: {token.last_processed_timestamp}")
        lines.append(f"  Items processed: {token.items_processed}")
        lines.append("  Use resume_from parameter to continue")
    return lines


def batch_html(result: BatchEvaluationResult) -> str:
    total = result.total_scores_created + result.total_composite_scores_created
    pairs = [
        ("Status", "completed" if result.completed else "incomplete"),
        ("Duration", f"{result.duration_seconds:.2f}s"),
        (
            "Items",
            f"{result.total_items_processed} processed, {result.total_items_failed} failed "
            f"(of {result.total_items_fetched} fetched)",
        ),
        ("Scores", f"{total} ({result.total_composite_scores_created} composite)"),
    ]
    if result.fetch_error:
        pairs.append(("Fetch failed", cell(result.fetch_error)))
    if result.resume_token is not None:
        pairs.append(("Resume from", cell(result.resume_token.last_processed_timestamp)))
    if result.has_more_items:
        pairs.append(("More items", "beyond max_items"))
    stats_rows = [
        [cell(s.name), *map(str, (s.total_runs, s.successful_runs, s.failed_runs, s.total_scores_created))]
        for s in result.evaluator_stats
    ]
    stats = _table(["evaluator", "runs", "ok", "failed", "scores"], stats_rows, len(stats_rows))
    return "<div class='langfuse-nb-batch-evaluation'>" + _dl(pairs) + stats + _batch_rows(result) + "</div>"


def _batch_rows(result: BatchEvaluationResult) -> str:
    names: dict[str, None] = {}
    for evaluations in result.item_evaluations.values():
        for evaluation in evaluations:
            names.setdefault(evaluation.name, None)
    rows = []
    for item_id, evaluations in list(result.item_evaluations.items())[:HTML_MAX_ROWS]:
        values = {evaluation.name: evaluation.value for evaluation in evaluations}
        metrics = result.item_metrics.get(item_id)
        rows.append(
            [
                cell(item_id),
                *(cell(score_text(values[n])) if n in values else "" for n in names),
                latency_text(metrics.latency if metrics else None),
                tokens_text(metrics.usage if metrics else None),
                html.escape(cost_text(metrics.cost if metrics else None)),
            ]
        )
    return _table(["item_id", *names, "latency", "tokens", "cost"], rows, len(result.item_evaluations))
