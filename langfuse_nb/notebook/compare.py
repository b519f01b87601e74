"""Compare two experiment runs item by item: outputs side by side and score deltas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langfuse_nb.notebook.render.html import esc, page, pretty, table, tag


def _key(result: Any) -> str:
    """Items match by dataset item id, or (local data) by the id derived from the input."""
    item = result.item
    item_id = getattr(result, "item_id", None) or getattr(item, "id", None)
    return str(item_id) if item_id else repr(_field(item, "input"))


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _scores(result: Any) -> dict[str, Any]:
    return {e.name: e.value for e in (result.evaluations or [])}


def _delta(a: Any, b: Any) -> float | None:
    numeric = (int, float)
    if isinstance(a, numeric) and isinstance(b, numeric) and not isinstance(a, bool) | isinstance(b, bool):
        return b - a
    return None


def comparison_rows(a: Any, b: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per item of either run (in run order), and the score names seen."""
    left = {_key(r): r for r in _results(a)}
    right = {_key(r): r for r in _results(b)}
    keys = list(dict.fromkeys([*left, *right]))
    names = list(dict.fromkeys(n for r in [*left.values(), *right.values()] for n in _scores(r)))
    return [_row(key, left.get(key), right.get(key), names) for key in keys], names


def _results(run: Any) -> list[Any]:
    merged = getattr(run, "all_item_results", None)
    return merged() if callable(merged) else list(run.item_results)


def _row(key: str, ra: Any, rb: Any, names: Sequence[str]) -> dict[str, Any]:
    item = (ra or rb).item
    sa, sb = (_scores(r) if r else {} for r in (ra, rb))
    row = {
        "item": key,
        "input": _field(item, "input"),
        "expected_output": _field(item, "expected_output"),
        "output_a": getattr(ra, "output", None),
        "output_b": getattr(rb, "output", None),
        "error_a": getattr(ra, "error", None),  # a failed item has no output: say why
        "error_b": getattr(rb, "error", None),
    }
    for name in names:
        row[f"{name}_a"], row[f"{name}_b"] = sa.get(name), sb.get(name)
        row[f"{name}_delta"] = _delta(sa.get(name), sb.get(name))
    return row


def _cell(value: Any) -> str:
    return "" if value is None else esc(pretty(value))


def _output_cell(row: dict[str, Any], side: str) -> str:
    error = row.get(f"error_{side}")
    if row[f"output_{side}"] is None and error:
        return tag("span", esc(error), "lfnb-status")
    return _cell(row[f"output_{side}"])


def _delta_cell(value: float | None) -> str:
    if value is None:
        return "<td></td>"
    cls = "lfnb-num " + ("lfnb-pos" if value > 0 else "lfnb-neg" if value < 0 else "")
    return tag("td", f"{value:+.3g}", cls.strip())


def render_comparison(
    rows: Sequence[dict[str, Any]], names: Sequence[str], title_a: str, title_b: str
) -> str:
    """Pure HTML of comparison rows (see ``comparison_rows``)."""
    columns = ["input", "expected", f"output A ({title_a})", f"output B ({title_b})"]
    for name in names:
        columns += [f"{name} A", f"{name} B", f"{name} Δ"]
    body = []
    for row in rows:
        cells = [
            _cell(row["input"]),
            _cell(row["expected_output"]),
            _output_cell(row, "a"),
            _output_cell(row, "b"),
        ]
        for name in names:
            cells += [
                tag("td", _cell(row[f"{name}_a"]), "lfnb-num"),
                tag("td", _cell(row[f"{name}_b"]), "lfnb-num"),
                _delta_cell(row[f"{name}_delta"]),
            ]
        body.append(cells)
    head = tag("div", f"A: {esc(title_a)} vs B: {esc(title_b)} · {len(rows)} items", "lfnb-title")
    return page(head + table(columns, body))


class ExperimentComparison:
    """Result of ``compare_experiments``: ``to_dataframe()`` and a rich HTML view in notebooks."""

    def __init__(self, a: Any, b: Any) -> None:
        self.a, self.b = a, b
        self.rows, self.score_names = comparison_rows(a, b)

    @property
    def titles(self) -> tuple[str, str]:
        a, b = (str(getattr(run, "run_name", None) or getattr(run, "name", "")) for run in (self.a, self.b))
        return a, b

    def to_dataframe(self) -> Any:
        import pandas as pd

        frame = pd.DataFrame(self.rows).set_index("item")
        frame.attrs["runs"] = self.titles
        return frame

    def mean_deltas(self) -> dict[str, float]:
        """Mean score change (B - A) per score name over items scored in both runs."""
        means = {}
        for name in self.score_names:
            deltas = [row[f"{name}_delta"] for row in self.rows if row[f"{name}_delta"] is not None]
            if deltas:
                means[name] = sum(deltas) / len(deltas)
        return means

    def _repr_html_(self) -> str:
        return render_comparison(self.rows, self.score_names, *self.titles)

    def __repr__(self) -> str:
        a, b = self.titles
        items, deltas = len(self.rows), self.mean_deltas()
        return f"ExperimentComparison(a={a!r}, b={b!r}, items={items}, mean_deltas={deltas})"


def compare_experiments(a: Any, b: Any) -> ExperimentComparison:
    """Compare two ``ExperimentResult``s of the same data: per-item outputs and score deltas (B - A)."""
    return ExperimentComparison(a, b)
