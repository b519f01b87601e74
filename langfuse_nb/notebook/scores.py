"""Scores as a DataFrame with a rich notebook view: a per-name summary with bars, then the rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langfuse_nb.notebook.render.html import esc, page, table, tag

COLUMNS = (
    "timestamp",
    "name",
    "value",
    "string_value",
    "data_type",
    "source",
    "trace_id",
    "observation_id",
    "comment",
)


def score_row(score: Any) -> dict[str, Any]:
    """The columns of one API score (model or dict)."""
    from langfuse_nb.notebook.commands import as_dict

    data = as_dict(score)
    row = {key: data.get(key) for key in COLUMNS}
    row["data_type"] = getattr(row["data_type"], "value", row["data_type"])
    row["source"] = getattr(row["source"], "value", row["source"])
    return row


def _numbers(rows: Sequence[Mapping[str, Any]], name: str) -> list[float]:
    values = (r.get("value") for r in rows if r.get("name") == name)
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def _bar(fraction: float) -> str:
    width = f"{max(0.0, min(1.0, fraction)) * 100:.0f}%"
    return tag(
        "span",
        tag("span", "", "lfnb-bar", style=f"left:0;width:{width}"),
        "lfnb-track",
        style="display:inline-block;width:120px",
    )


def _summary(rows: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    names = list(dict.fromkeys(str(r.get("name")) for r in rows))
    table_rows = []
    for name in names:
        numbers = _numbers(rows, name)
        count = sum(1 for r in rows if r.get("name") == name)
        if numbers:
            mean, low, high = sum(numbers) / len(numbers), min(numbers), max(numbers)
            scale = high if high > 1 else 1.0  # 0..1 scores fill the bar against 1, larger ones against max
            stats = [f"{mean:.3g}", f"{low:.3g}", f"{high:.3g}", _bar(mean / scale if scale else 0)]
        else:
            stats = ["", "", "", ""]
        table_rows.append([esc(name), tag("td", str(count), "lfnb-num"), *stats])
    return table_rows


def render_scores(rows: Sequence[Mapping[str, Any]]) -> str:
    """Pure HTML: summary per score name (count, mean, min, max) and every score."""
    if not rows:
        return page(tag("div", "No scores.", "lfnb-dim"))
    summary = table(["score", "count", "mean", "min", "max", ""], _summary(rows))
    detail = table(
        ["time (UTC)", "name", "value", "trace", "comment"],
        [
            [
                esc(str(r.get("timestamp") or "")[:19].replace("T", " ")),
                esc(r.get("name")),
                tag("td", esc(r.get("string_value") or r.get("value")), "lfnb-num"),
                f"<code>{esc(r.get('trace_id') or '')}</code>",
                esc(r.get("comment") or ""),
            ]
            for r in rows
        ],
    )
    return page(tag("div", f"{len(rows)} scores", "lfnb-title") + summary + detail)


class ScoresTable:
    """Scores for notebooks: ``to_dataframe()`` and a rich ``_repr_html_``; build it with ``scores_table``."""

    def __init__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.rows = [dict(r) for r in rows]

    @classmethod
    def from_dataframe(cls, frame: Any) -> ScoresTable:
        """Wrap any DataFrame with at least ``name`` and ``value`` columns."""
        return cls(frame.to_dict(orient="records"))

    def to_dataframe(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(self.rows[0]) if self.rows else list(COLUMNS))

    def _repr_html_(self) -> str:
        return render_scores(self.rows)

    def __repr__(self) -> str:
        return f"ScoresTable({len(self.rows)} scores)"


def scores_table(client: Any = None, *, limit: int = 50, **filters: Any) -> ScoresTable:
    """Recent scores from the server (filters as ``api.score_v_2.get``: trace_id=, name=, session_id=...)."""
    from langfuse_nb.notebook import commands

    client = client or commands.get_client()
    response = client.api.score_v_2.get(limit=limit, request_options=commands.REQUEST, **filters)
    return ScoresTable([score_row(s) for s in response.data])
