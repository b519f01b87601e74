"""Project model definitions (``models`` table) and the cost enrichment of observation rows."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson

from langfuse_nb.server import costs
from langfuse_nb.server.costs import ModelDef

_COLUMNS = (
    "id",
    "model_name",
    "match_pattern",
    "start_date",
    "unit",
    "input_price",
    "output_price",
    "total_price",
    "tokenizer_id",
    "tokenizer_config",
    "pricing_tiers",
    "created_at",
    "updated_at",
)
_INSERT = f"INSERT INTO models ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


def _from_row(row: sqlite3.Row) -> ModelDef:
    config = row["tokenizer_config"]
    return ModelDef(
        id=row["id"],
        model_name=row["model_name"],
        match_pattern=row["match_pattern"],
        tiers=tuple(costs.tier_from_json(t) for t in orjson.loads(row["pricing_tiers"])),
        project_owned=True,
        start_date=row["start_date"],
        unit=row["unit"],
        legacy_prices={
            "input": row["input_price"],
            "output": row["output_price"],
            "total": row["total_price"],
        },
        tokenizer_id=row["tokenizer_id"],
        tokenizer_config=orjson.loads(config) if config is not None else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def project_models(conn: sqlite3.Connection) -> tuple[ModelDef, ...]:
    """The project's own models in match order."""
    found = [_from_row(r) for r in conn.execute("SELECT * FROM models").fetchall()]
    _known.update((m.id, m) for m in found)
    return costs.sort_project_models(found)


def all_models(conn: sqlite3.Connection) -> list[ModelDef]:
    """Project and built-in models in the list order of ``GET /api/public/models``."""
    models = [*project_models(conn), *costs.builtin_models()]
    models.sort(key=lambda m: m.start_date or "", reverse=True)  # stable sorts: last key first
    models.sort(key=lambda m: m.start_date is None)
    models.sort(key=lambda m: (m.model_name, m.unit or ""))
    return models


def get(conn: sqlite3.Connection, model_id: str) -> ModelDef | None:
    row = conn.execute("SELECT * FROM models WHERE id = ?", (model_id,)).fetchone()
    return _from_row(row) if row else costs.builtin_by_id().get(model_id)


def name_taken(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM models WHERE model_name = ?", (name,)).fetchone() is not None


def insert(conn: sqlite3.Connection, model: ModelDef) -> None:
    # known at once: spans priced with it are written by the ingest worker, and this process's read path
    # prices them from ``_known`` (see ``price_fields``)
    _known[model.id] = model
    conn.execute(
        _INSERT,
        (
            model.id,
            model.model_name,
            model.match_pattern,
            model.start_date,
            model.unit,
            model.legacy_prices.get("input"),
            model.legacy_prices.get("output"),
            model.legacy_prices.get("total"),
            model.tokenizer_id,
            None if model.tokenizer_config is None else orjson.dumps(model.tokenizer_config).decode(),
            orjson.dumps([t.stored() for t in model.tiers]).decode(),
            model.created_at,
            model.updated_at,
        ),
    )


def delete(conn: sqlite3.Connection, model_id: str) -> bool:
    return conn.execute("DELETE FROM models WHERE id = ?", (model_id,)).rowcount > 0


# ---- enrichment of observation rows ------------------------------------------------------------------------

_RESULT_COLUMNS = (
    "usage_details",
    "cost_details",
    "total_cost",
    "model_id",
    "usage_pricing_tier_id",
    "usage_pricing_tier_name",
)
_UPDATE = f"UPDATE observations SET {', '.join(f'{c} = ?' for c in _RESULT_COLUMNS)} WHERE id = ?"
_MERGED_SELECT = (
    "SELECT id, model, provided_usage_details, provided_cost_details, model_parameters, metadata "
    "FROM observations WHERE id IN ({})"
)


def _needs_costing(row: dict[str, Any]) -> bool:
    return bool(row.get("model") or row.get("provided_usage_details") or row.get("provided_cost_details"))


def prepare(conn: sqlite3.Connection, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Fill the cost columns of rows about to be inserted; return ids that must be recomputed after the
    upsert because a stored row (or another event of this batch) will be merged with them."""
    pending = [row for row in rows if _needs_costing(row)]
    if not pending:
        return []
    repeated = {k for k, n in Counter(row["id"] for row in pending).items() if n > 1}
    stored = _existing(conn, [row["id"] for row in pending])
    later = stored | repeated
    catalog = project_models(conn)
    matches: dict[Any, ModelDef | None] = {}  # a request's generations name few distinct models
    for row in pending:
        if row["id"] not in later:
            name = row.get("model")
            if name not in matches:
                matches[name] = costs.match_model(name, catalog)
            row.update(_result(row, matches[name]).columns())
    return sorted(later)


def recompute(conn: sqlite3.Connection, ids: Sequence[str]) -> None:
    """Re-run the computation on the merged stored rows (every write re-evaluates cost)."""
    if not ids:
        return
    catalog = project_models(conn)
    updates = []
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for row in conn.execute(_MERGED_SELECT.format(", ".join("?" * len(part))), part):
            columns = _result(dict(row), costs.match_model(row["model"], catalog)).columns()
            updates.append((*(columns[c] for c in _RESULT_COLUMNS), row["id"]))
    conn.executemany(_UPDATE, updates)


def _existing(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        sql = f"SELECT id FROM observations WHERE id IN ({', '.join('?' * len(part))})"
        found.update(r[0] for r in conn.execute(sql, part))
    return found


def _result(row: dict[str, Any], model: ModelDef | None) -> costs.CostResult:
    """Final usage and cost of one row whose model name matched ``model``."""
    # the provided maps were normalized when the event was mapped (spans.usage_and_cost)
    usage = _json(row.get("provided_usage_details")) or {}
    cost = _json(row.get("provided_cost_details")) or {}
    return costs.compute(usage, cost, model, row.get("model_parameters"), row.get("metadata"))


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


# ---- read side ---------------------------------------------------------------------------------------------

# project models by id, filled whenever they are read from the database (the read path of observations
# has no connection at hand, and a model definition never changes after it is created)
_known: dict[str, ModelDef] = {}


def price_fields(model_id: str | None) -> dict[str, Any]:
    """``inputPrice``/``outputPrice``/``totalPrice`` of an observation: its model's default-tier prices."""
    model = (costs.builtin_by_id().get(model_id) or _known.get(model_id)) if model_id else None
    return {
        "inputPrice": model.price("input") if model else None,
        "outputPrice": model.price("output") if model else None,
        "totalPrice": model.price("total") if model else None,
    }
