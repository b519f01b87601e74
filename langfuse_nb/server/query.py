"""Pure query building: pagination, the ``filter`` JSON language, and ordering -> SQL fragments."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.values import parse_iso

MAX_LIMIT = 1000
MAX_PARAMS = 10_000
# Estimator(sql, params) -> the number its capped count query returns; lets a condition pick its plan
Estimator = Callable[[str, Sequence[Any]], int]
# below this many matching entries a side-table condition drives the page query from its matches (then
# sorts them); above it, walking the ordering index and probing each row finds a page sooner
RARE = 5000
TRACE_ROW_ID = "t.id"  # how the trace list names a trace's id (side tables key their entries by it)


@dataclass
class Where:
    """AND-ed SQL conditions with their parameters."""

    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    # same conditions and parameters, phrased for counting (a form SQLite plans better without LIMIT)
    count_clauses: list[str] = field(default_factory=list)
    # per clause: a complete count query with the same parameters, valid when that clause is the only one
    # (e.g. counting a side table's index entries instead of looking up every matching row)
    alone_counts: list[str | None] = field(default_factory=list)
    estimate: Estimator | None = None

    def add(
        self, clause: str, *params: Any, count_clause: str | None = None, count_alone: str | None = None
    ) -> None:
        if len(self.params) + len(params) > MAX_PARAMS:  # SQLite's own limit is 32,766 variables
            raise BadRequest(f"too many filter values in one request (at most {MAX_PARAMS:,})")
        self.clauses.append(clause)
        self.count_clauses.append(count_clause or clause)
        self.alone_counts.append(count_alone)
        self.params.extend(params)

    def count_query(self, source: str) -> str:
        """SQL counting the rows of ``source`` that match (parameters: ``self.params``)."""
        if len(self.clauses) == 1 and self.alone_counts[0]:
            return self.alone_counts[0]
        return f"SELECT count(*) FROM {source} {self.count_sql()}"

    def is_rare(self, entries_sql: str, params: Sequence[Any]) -> bool:
        """Whether ``entries_sql`` (a SELECT of matching entries) has fewer than RARE rows."""
        if self.estimate is None:
            return False
        return self.estimate(f"SELECT count(*) FROM ({entries_sql} LIMIT {RARE})", params) < RARE

    def eq(self, column: str, value: Any) -> None:
        if value is not None:
            self.add(f"{column} = ?", value)

    def any_of(self, column: str, values: list[Any] | None) -> None:
        if values:
            self.add(f"{column} IN ({', '.join('?' * len(values))})", *values)

    def time(self, column: str, op: str, value: str | None) -> None:
        if value is not None:
            self.add(f"{column} {op} ?", iso_param(value))

    def sql(self) -> str:
        return f"WHERE {' AND '.join(self.clauses)}" if self.clauses else ""

    def count_sql(self) -> str:
        return f"WHERE {' AND '.join(self.count_clauses)}" if self.count_clauses else ""


def iso_param(value: Any, name: str = "timestamp") -> str:
    try:
        return parse_iso(value)
    except (ValueError, TypeError):
        raise BadRequest(f"{name} is not an ISO-8601 datetime: {value!r}") from None


@dataclass(frozen=True)
class Page:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def meta(self, total: int) -> dict[str, int]:
        return {
            "page": self.page,
            "limit": self.limit,
            "totalItems": total,
            "totalPages": math.ceil(total / self.limit) if self.limit else 0,
        }


def page_of(page: int | None, limit: int | None, default_limit: int = 50) -> Page:
    page = 1 if page is None else page
    limit = default_limit if limit is None else limit
    if page < 1:
        raise BadRequest(f"page must be >= 1, got {page}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return Page(page, limit)


# ---- filter JSON ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """How one filter column maps to SQL; ``kind`` picks the operator set."""

    sql: str
    kind: str  # string | datetime | number | boolean | tags | json
    transform: Callable[[str], str] | None = None
    # json columns with a side table (key, value, trace_id): (row id sql, table), used for = and any of
    # (index lookups instead of json_extract on every row)
    members: tuple[str, str] | None = None
    # number columns that count rows: "<row id sql> IN (SELECT ...)" of the rows with at least one, used
    # when a condition only asks "any?" or "none?" (count > 0, = 0, ...) instead of counting per row
    any_of_set: str | None = None


_STRING_OPS = {
    "=": "{c} = ?",
    "!=": "{c} != ?",
    "<>": "{c} != ?",
    "contains": "instr({c}, ?) > 0",
    "does not contain": "instr(coalesce({c}, ''), ?) = 0",
    "starts with": "{c} LIKE ? ESCAPE '\\'",
    "ends with": "{c} LIKE ? ESCAPE '\\'",
}
_COMPARE_OPS = {"=": "=", "!=": "!=", "<>": "!=", ">": ">", "<": "<", ">=": ">=", "<=": "<="}


def parse_filter(text: str | None) -> list[dict[str, Any]]:
    if not text:
        return []
    try:
        conditions = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"filter is not valid JSON: {exc}") from None
    if not isinstance(conditions, list) or not all(isinstance(c, dict) for c in conditions):
        raise BadRequest("filter must be a JSON array of condition objects")
    return conditions


def apply_filter(where: Where, conditions: list[dict[str, Any]], columns: dict[str, Column]) -> None:
    for condition in conditions:
        name = condition.get("column")
        column = columns.get(name) if isinstance(name, str) else None
        if column is None:
            raise BadRequest(f"filter column {name!r} is not supported; use one of {sorted(columns)}")
        operator = condition.get("operator")
        if not isinstance(operator, str):
            raise BadRequest(f"filter on {name!r} needs an operator")
        _condition(where, column, operator, condition.get("value"), condition)


def _condition(where: Where, column: Column, op: str, value: Any, condition: dict[str, Any]) -> None:
    name = condition.get("column")
    if op in ("is null", "is not null"):
        where.add(f"{column.sql} IS {'NOT ' if op == 'is not null' else ''}NULL")
        return
    if column.kind == "tags":
        _tags_condition(where, column, op, value)
        return
    sql = column.sql
    if column.kind == "json":
        key = condition.get("key")
        if not isinstance(key, str) or not key:
            raise BadRequest(f"filter on {name!r} needs a 'key'")
        if column.members and _member_lookup(where, column.members, key, op, value, name):
            return
        sql, key_param = _json_member(column.sql, key)
        where.params.append(key_param)
    if op in ("any of", "none of"):
        values = value if isinstance(value, list) else None
        if not values:
            raise BadRequest(f"operator {op!r} on {name!r} needs a non-empty list value")
        values = [_typed(column, item, name) for item in values]
        negate = "NOT " if op == "none of" else ""
        where.add(f"{sql} {negate}IN ({', '.join('?' * len(values))})", *values)
        return
    if column.kind in ("string", "json") and op in _STRING_OPS and not isinstance(value, int | float):
        if not isinstance(value, str):
            raise BadRequest(f"filter on {name!r} needs a string value")
        param = {"starts with": _like(value) + "%", "ends with": "%" + _like(value)}.get(op, value)
        if len(param.encode()) > _MAX_PATTERN_BYTES and op in ("starts with", "ends with"):
            raise BadRequest(f"filter value for {name!r} is too long for {op!r} (at most 50,000 bytes)")
        where.add(_STRING_OPS[op].format(c=sql), param)
        return
    if op not in _COMPARE_OPS:
        raise BadRequest(f"operator {op!r} is not supported for filter column {name!r}")
    if column.any_of_set and _presence(where, column.any_of_set, op, value):
        return
    where.add(f"{sql} {_COMPARE_OPS[op]} ?", _typed(column, value, name))


_SCALARS = (str, int, float, bool)
# SQLite refuses LIKE patterns longer than 50,000 bytes (SQLITE_MAX_LIKE_PATTERN_LENGTH)
_MAX_PATTERN_BYTES = 50_000
# beyond this many tags an all-of filter is one counting subquery: chained EXISTS probes would exceed
# SQLite's expression depth limit (1,000) around 490 tags
_MANY_TAGS = 64


def _json_member(column_sql: str, key: str) -> tuple[str, str]:
    """SQL for one top-level member of a JSON column, and its parameter."""
    if '"' in key:
        # a JSON path cannot quote a key containing '"'; look it up by exact key instead
        return f"(SELECT value FROM json_each({column_sql}) WHERE key = ?)", key
    return f"json_extract({column_sql}, ?)", f'$."{key}"'


def _member_lookup(where: Where, members: tuple[str, str], key: str, op: str, value: Any, name: Any) -> bool:
    """``=`` / ``any of`` on a JSON member through its side table; False when the form does not apply.

    The side table holds json_each's scalar values, which compare exactly as json_extract's do: same
    types, no affinity on either side, and a missing member or null never matches either way. Objects and
    arrays are not in it: json_extract gives them as JSON text, which only a text value starting with
    '{' or '[' can equal, so such values take the json_extract path.
    """
    if op == "=" and isinstance(value, _SCALARS) and not _non_finite(value):
        values = [value]
    elif op == "any of" and isinstance(value, list) and value:
        values = [_typed(Column("", "json"), item, name) for item in value]
    else:
        return False
    if any(isinstance(v, str) and v[:1] in ("{", "[") for v in values):
        return False
    row_id, table = members
    # a trace has one value per key, so the entries matching (key, value set) are one per trace
    member = f"key = ? AND value IN ({', '.join('?' * len(values))})"
    side_table_condition(where, row_id, table, member, [key, *values])
    return True


def side_table_condition(where: Where, row_id: str, table: str, member: str, params: list[Any]) -> None:
    """Rows with an entry in ``table`` (columns ..., trace_id) matching ``member``, one entry per row.

    Pages of rare matches are driven from the entries (then sorted); pages of common ones walk the
    ordering index and probe each row, which stops after one page. Counts come from the entries alone.
    """
    entries = f"SELECT trace_id FROM {table} WHERE {member}"
    listed = f"{row_id} IN ({entries})"
    probe = f"EXISTS ({entries} AND trace_id = {row_id})"
    page = listed if where.is_rare(entries, params) else probe
    # entries count the rows themselves only when the rows are traces (not, e.g., their observations)
    alone = f"SELECT count(*) FROM {table} WHERE {member}" if row_id == TRACE_ROW_ID else None
    where.add(page, *params, count_clause=listed, count_alone=alone)


def _presence(where: Where, any_set: str, op: str, value: Any) -> bool:
    """A count compared with a bound that only separates 0 from >= 1, as (NOT) IN the set; else False."""
    if isinstance(value, bool) or not isinstance(value, int | float) or _non_finite(value):
        return False
    some = (
        (op == ">" and 0 <= value < 1)
        or (op == ">=" and 0 < value <= 1)
        or (op in ("!=", "<>") and value == 0)
    )
    none = (op == "=" and value == 0) or (op == "<" and 0 < value <= 1) or (op == "<=" and 0 <= value < 1)
    if some or none:
        where.add(any_set if some else f"NOT ({any_set})")
    return some or none


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _typed(column: Column, value: Any, name: Any) -> Any:
    if not isinstance(value, _SCALARS) or (isinstance(value, float) and not math.isfinite(value)):
        # a list/object/null would otherwise reach SQLite's parameter binding and fail there
        raise BadRequest(f"filter on {name!r} needs a single string, number or boolean value")
    if column.kind == "datetime":
        return iso_param(value, f"filter value for {name!r}")
    if column.kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise BadRequest(f"filter on {name!r} needs a numeric value")
    if column.kind == "boolean":
        if not isinstance(value, bool):
            raise BadRequest(f"filter on {name!r} needs a boolean value")
        return int(value)
    return value


def _tags_condition(where: Where, column: Column, op: str, value: Any) -> None:
    """Tag filters: EXISTS probes for pages (stop after LIMIT matches), IN lists for counts."""
    values = value if isinstance(value, list) else [value] if isinstance(value, str) else None
    if not values or not all(isinstance(v, str) for v in values):
        raise BadRequest("a tags filter needs a list of strings")
    values = list(dict.fromkeys(values))
    if op in ("all of", "any of") and len(values) == 1:
        side_table_condition(where, column.sql, "trace_tags", "tag = ?", values)
        return
    probe = f"EXISTS (SELECT 1 FROM trace_tags g WHERE g.tag {{}} AND g.trace_id = {column.sql})"
    listed = f"{column.sql} IN (SELECT trace_id FROM trace_tags WHERE tag {{}})"
    marks = f"IN ({', '.join('?' * len(values))})"
    if op == "all of" and len(values) > _MANY_TAGS:
        having = f"(SELECT count(*) FROM trace_tags g WHERE g.trace_id = {column.sql} AND g.tag {marks})"
        where.add(f"{having} = ?", *values, len(values))
    elif op == "all of":
        # counting: walk the first tag's entries (callers put the rarest first) and probe the others by
        # primary key, instead of materialising every tag's full trace list
        probes = "".join(
            f" AND EXISTS (SELECT 1 FROM trace_tags g{i} WHERE g{i}.tag = ? AND g{i}.trace_id = g0.trace_id)"
            for i in range(1, len(values))
        )
        where.add(
            " AND ".join(probe.format("= ?") for _ in values),
            *values,
            count_clause=f"{column.sql} IN (SELECT g0.trace_id FROM trace_tags g0 WHERE g0.tag = ?{probes})",
        )
    elif op == "any of":
        where.add(probe.format(marks), *values, count_clause=listed.format(marks))
    elif op == "none of":
        where.add(f"NOT {probe.format(marks)}", *values, count_clause=f"NOT ({listed.format(marks)})")
    else:
        raise BadRequest(f"operator {op!r} is not supported for tags; use any of, all of, none of")


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def order_by(value: str | None, allowed: dict[str, str], default: str) -> str:
    """``field.asc|desc`` -> SQL ORDER BY; unknown fields are a 400."""
    if not value:
        return default
    field_name, _, direction = value.partition(".")
    column = allowed.get(field_name)
    if column is None or direction.lower() not in ("asc", "desc", ""):
        raise BadRequest(
            f"orderBy {value!r} is invalid; use <field>.<asc|desc> with field in {sorted(allowed)}"
        )
    return f"ORDER BY {column} {(direction or 'desc').upper()}"
