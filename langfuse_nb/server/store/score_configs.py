"""Score configs: the shape a score must have (type, range, categories), and checking scores against them.

Rules follow Langfuse's: a config's name is at most 35 characters of letters, digits, spaces and ``_.()-``;
a categorical config needs categories with unique labels and values; a boolean config gets the categories
True=1 / False=0 made for it; a numeric config may bound its range. A score that names a config must have
the config's name and data type and a value the config allows; archived configs take no new scores.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Callable
from typing import Any, TypeGuard

from langfuse_nb.server.values import dumps, loads, new_id, now_iso

DATA_TYPES = ("NUMERIC", "CATEGORICAL", "BOOLEAN")
_NAME = re.compile(r"^[A-Za-z0-9_ .()\-]{1,35}$")
_BOOLEAN_CATEGORIES = [{"value": 1.0, "label": "True"}, {"value": 0.0, "label": "False"}]
_FIELDS = ("name", "data_type", "is_archived", "min_value", "max_value", "categories", "description")


class ConfigError(ValueError):
    """A config request or a score that breaks a config; the message names the problem."""


def create(conn: sqlite3.Connection, project_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    row = _checked({**_from_request(spec, creating=True), "is_archived": 0})
    now = now_iso()
    row.update(id=new_id(), project_id=project_id, created_at=now, updated_at=now)
    _insert(conn, row)
    return row


def update(conn: sqlite3.Connection, config_id: str, spec: dict[str, Any]) -> dict[str, Any] | None:
    row = get(conn, config_id)
    if row is None:
        return None
    changes = _from_request(spec, creating=False)
    merged = _checked({**row, **changes})
    merged["updated_at"] = now_iso()
    conn.execute(
        f"UPDATE score_configs SET {', '.join(f'{f} = ?' for f in _FIELDS)}, updated_at = ? WHERE id = ?",
        [*_columns(merged), merged["updated_at"], config_id],
    )
    return merged


def get(conn: sqlite3.Connection, config_id: str) -> dict[str, Any] | None:
    found = conn.execute("SELECT * FROM score_configs WHERE id = ?", (config_id,)).fetchone()
    return _decoded(found) if found is not None else None


def page(conn: sqlite3.Connection, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    rows = conn.execute(
        "SELECT * FROM score_configs ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?", (limit, offset)
    ).fetchall()
    total = conn.execute("SELECT count(*) FROM score_configs").fetchone()[0]
    return [_decoded(r) for r in rows], total


def to_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "projectId": row["project_id"],
        "dataType": row["data_type"],
        "isArchived": bool(row["is_archived"]),
        "minValue": row["min_value"],
        "maxValue": row["max_value"],
        "categories": row["categories"],
        "description": row["description"],
    }


def score_checker(conn: sqlite3.Connection) -> Callable[[dict[str, Any]], None]:
    """A check for stored score rows that name a config (looked up once per config per request)."""
    cache: dict[str, dict[str, Any] | None] = {}

    def check(score: dict[str, Any]) -> None:
        config_id = score.get("config_id")
        if not config_id:
            return
        if config_id not in cache:
            cache[config_id] = get(conn, config_id)
        check_score(score, cache[config_id])

    return check


def check_score(score: dict[str, Any], config: dict[str, Any] | None) -> None:
    """Raise ConfigError unless ``score`` (a stored row) fits ``config``; fills a categorical's value."""
    if config is None:
        raise ConfigError(f"score config {score['config_id']!r} not found")
    if config["is_archived"]:
        raise ConfigError(f"score config {config['name']!r} is archived and takes no new scores")
    if score["name"] != config["name"]:
        raise ConfigError(f"score name {score['name']!r} does not match its config's name {config['name']!r}")
    if score["data_type"] != config["data_type"]:
        raise ConfigError(
            f"score data type {score['data_type']} does not match its config's {config['data_type']}"
        )
    _CHECKS[config["data_type"]](score, config)


def _check_numeric(score: dict[str, Any], config: dict[str, Any]) -> None:
    value, low, high = score["value"], config["min_value"], config["max_value"]
    if (low is not None and value < low) or (high is not None and value > high):
        shown = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise ConfigError(f"score value {value} is outside its config's range {shown}")


def _check_categorical(score: dict[str, Any], config: dict[str, Any]) -> None:
    by_label = {c["label"]: c["value"] for c in config["categories"] or []}
    label = score["string_value"]
    if label not in by_label:
        raise ConfigError(f"score value {label!r} is not one of its config's categories {sorted(by_label)}")
    score["value"] = float(by_label[label])


def _check_boolean(score: dict[str, Any], config: dict[str, Any]) -> None:
    return None  # ingestion already insists on 0 or 1 for BOOLEAN scores


_CHECKS: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    "NUMERIC": _check_numeric,
    "CATEGORICAL": _check_categorical,
    "BOOLEAN": _check_boolean,
}


_KEYS = {
    "name": "name",
    "dataType": "data_type",
    "isArchived": "is_archived",
    "minValue": "min_value",
    "maxValue": "max_value",
    "categories": "categories",
    "description": "description",
}
_CREATE_DEFAULTS = {"min_value": None, "max_value": None, "categories": None, "description": None}


def _from_request(spec: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Request keys (camelCase) -> row fields, only those given; in an update, null leaves a field as is."""
    given = {field: spec[key] for key, field in _KEYS.items() if key in spec}
    if creating:
        given.pop("is_archived", None)
        return {**_CREATE_DEFAULTS, **given}
    given = {field: value for field, value in given.items() if value is not None}
    if "data_type" in given:
        raise ConfigError("a score config's dataType cannot be changed")
    return given


def _checked(row: dict[str, Any]) -> dict[str, Any]:
    name, data_type = row.get("name"), row.get("data_type")
    if name is None:
        raise ConfigError("'name' is required")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            "'name' must be 1-35 letters, digits, spaces, underscores, periods, parentheses or hyphens"
        )
    if data_type not in DATA_TYPES:
        raise ConfigError(f"'dataType' is required and must be one of {list(DATA_TYPES)}")
    if row.get("description") is not None and not isinstance(row["description"], str):
        raise ConfigError("'description' must be a string or null")
    if not isinstance(row.get("is_archived"), bool | int):
        raise ConfigError("'isArchived' must be a boolean")
    row["is_archived"] = int(bool(row["is_archived"]))
    _check_range(row)
    row["categories"] = _categories(data_type, row.get("categories"))
    return row


def _check_range(row: dict[str, Any]) -> None:
    for key, shown in (("min_value", "minValue"), ("max_value", "maxValue")):
        value = row.get(key)
        if value is None:
            continue
        if row["data_type"] != "NUMERIC":
            raise ConfigError(f"'{shown}' applies to NUMERIC configs only")
        if not _is_number(value):
            raise ConfigError(f"'{shown}' must be a finite number")
    low, high = row.get("min_value"), row.get("max_value")
    if low is not None and high is not None and low >= high:
        raise ConfigError("'minValue' must be less than 'maxValue'")


def _categories(data_type: str, given: Any) -> list[dict[str, Any]] | None:
    if data_type == "BOOLEAN":
        if given not in (None, [], _BOOLEAN_CATEGORIES):
            raise ConfigError("BOOLEAN configs get the categories True=1 and False=0; do not pass categories")
        return list(_BOOLEAN_CATEGORIES)
    if data_type == "NUMERIC":
        if given:
            raise ConfigError("'categories' apply to CATEGORICAL configs only")
        return None
    if not isinstance(given, list) or not given:
        raise ConfigError("a CATEGORICAL config needs a non-empty 'categories' list of {label, value}")
    return _checked_categories(given)


def _checked_categories(given: list[Any]) -> list[dict[str, Any]]:
    out = []
    for item in given:
        label = item.get("label") if isinstance(item, dict) else None
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(label, str) or not label or not _is_number(value):
            raise ConfigError("each category needs a non-empty string 'label' and a numeric 'value'")
        out.append({"value": float(value), "label": label})
    if len({c["label"] for c in out}) != len(out) or len({c["value"] for c in out}) != len(out):
        raise ConfigError("category labels and values must be unique")
    return out


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _columns(row: dict[str, Any]) -> list[Any]:
    return [dumps(row[f]) if f == "categories" and row[f] is not None else row[f] for f in _FIELDS]


def _insert(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    names = ("id", "project_id", *_FIELDS, "created_at", "updated_at")
    values = [row["id"], row["project_id"], *_columns(row), row["created_at"], row["updated_at"]]
    conn.execute(
        f"INSERT INTO score_configs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", values
    )


def _decoded(found: Any) -> dict[str, Any]:
    row = dict(found)
    row["categories"] = loads(row["categories"])
    return row
