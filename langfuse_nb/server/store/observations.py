"""Observation rows: upsert (OTLP and legacy events) and the API view."""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import orjson

from langfuse_nb.server import costs
from langfuse_nb.server.config import PROJECT_ID
from langfuse_nb.server.store import models
from langfuse_nb.server.store.resources import BlobCache
from langfuse_nb.server.values import iso_to_seconds, loads, now_iso, parse_lenient

COLUMNS = (
    "id",
    "trace_id",
    "parent_observation_id",
    "type",
    "name",
    "start_time",
    "end_time",
    "completion_start_time",
    "environment",
    "level",
    "status_message",
    "version",
    "input",
    "output",
    "metadata",
    "model",
    "model_parameters",
    "usage_details",
    "cost_details",
    "total_cost",
    "prompt_id",
    "prompt_name",
    "prompt_version",
    "as_root",
    "resource_id",
    "scope_id",
    "experiment",
    "created_at",
    "updated_at",
    # usage and cost as the client sent them; the columns above hold the computed ones (store/models.py)
    "provided_usage_details",
    "provided_cost_details",
    "model_id",
    "usage_pricing_tier_id",
    "usage_pricing_tier_name",
)
# first value wins for these (server-ingestion.md §3); everything else: a later non-null value wins
_KEEP = {"id", "trace_id", "start_time", "created_at", "environment", "resource_id", "scope_id"}
_MERGED = {"metadata"}


def _update_clause(column: str) -> str:
    if column in _KEEP:
        return f"{column} = coalesce(observations.{column}, excluded.{column})"
    if column in _MERGED:
        return (
            f"{column} = CASE WHEN excluded.{column} IS NULL THEN observations.{column} "
            f"WHEN observations.{column} IS NULL THEN excluded.{column} "
            f"ELSE json_patch(observations.{column}, excluded.{column}) END"
        )
    return f"{column} = coalesce(excluded.{column}, observations.{column})"


_UPSERT = (
    f"INSERT INTO observations ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    f"ON CONFLICT(id) DO UPDATE SET {', '.join(_update_clause(c) for c in COLUMNS if c != 'id')}"
)


def link_prompts(conn: sqlite3.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Attach promptId when name+version match a stored prompt, else clear the prompt fields."""
    cache: dict[tuple[str, int], str | None] = {}
    for row in rows:
        name, version = row.get("prompt_name"), row.get("prompt_version")
        if not isinstance(name, str) or not isinstance(version, int):
            row["prompt_name"] = row["prompt_version"] = row["prompt_id"] = None
            continue
        key = (name, version)
        if key not in cache:
            found = conn.execute("SELECT id FROM prompts WHERE name = ? AND version = ?", key).fetchone()
            cache[key] = found[0] if found else None
        row["prompt_id"] = cache[key]
        if cache[key] is None:
            row["prompt_name"] = row["prompt_version"] = None


_ROW_GETTER = operator.itemgetter(*COLUMNS)
_EMPTY_ROW = dict.fromkeys(COLUMNS)


def upsert(conn: sqlite3.Connection, rows: Sequence[dict[str, Any]], blobs: BlobCache) -> None:
    now = now_iso()
    merged_later = models.prepare(conn, rows)  # cost columns of new rows; merged ones after the upsert
    values = []
    for row in rows:
        if "_resource" in row:
            row["resource_id"] = blobs.intern(conn, row["_resource"])
            row["scope_id"] = blobs.intern(conn, row["_scope"])
        row["created_at"] = row["updated_at"] = now
        try:
            values.append(_ROW_GETTER(row))  # itemgetter: far cheaper than a per-column loop
        except KeyError:  # legacy ingestion events leave columns out; OTLP rows carry every one
            values.append(_ROW_GETTER({**_EMPTY_ROW, **row}))
    conn.executemany(_UPSERT, values)
    models.recompute(conn, merged_later)


def get(conn: sqlite3.Connection, observation_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM observations WHERE id = ?", (observation_id,)).fetchone()


def trace_of(conn: sqlite3.Connection, observation_id: str) -> str | None:
    row = conn.execute("SELECT trace_id FROM observations WHERE id = ?", (observation_id,)).fetchone()
    return row[0] if row else None


# A JSON text starts (after optional whitespace) with one of these; anything else is stored plain text,
# which would otherwise cost a raised-and-caught decode error per value (most outputs are plain text).
_JSON_STARTS = frozenset(' \t\n\r{["-0123456789tfn')
_JSON_SPACE = " \t\n\r"
_LITERAL_STARTS = frozenset("tfn")
_LITERALS = frozenset({"true", "false", "null"})
_NUMBER_STARTS = frozenset("-0123456789")
_NUMBER_CHARS = "0123456789+-.eE"  # every character of a JSON number


def read_io(text: str | None) -> Any:
    """Stored input/output as the API returns it: JSON-decoded when it parses; an empty string is null."""
    if not text:
        return None
    if not isinstance(text, str):  # a packed (compressed) value: parse_lenient unpacks it
        return parse_lenient(text)
    body = text
    if text[0] in _JSON_SPACE:  # JSON may lead with these four; the value's first character decides
        body = text.lstrip(_JSON_SPACE)
        if not body:
            return text
    first = body[0]
    if first not in _JSON_STARTS:
        return text
    # Text starting with t/f/n or a number's first character is JSON only as a literal or a number: other
    # text ("the answer", "1. First step") is known plain without the failed parse (a few us each).
    if first in _LITERAL_STARTS:
        literal = body.rstrip(_JSON_SPACE)
        if len(literal) > 5 or literal not in _LITERALS:  # the length first: no hash of a long text
            return text
    elif first in _NUMBER_STARTS and body.rstrip(_JSON_SPACE).strip(_NUMBER_CHARS):
        return text
    try:  # parse_lenient's rule, inlined: this runs for every input and output of a view
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


Record = dict[str, Any]  # one stored row by column name (dict lookups: sqlite3.Row searches its names)


def as_record(row: sqlite3.Row | Record) -> Record:
    return row if isinstance(row, dict) else dict(zip(row.keys(), row, strict=True))


def tuples(cursor: sqlite3.Cursor) -> list[tuple[Any, ...]]:
    """All rows of ``cursor`` as plain tuples (for builders that unpack them by position)."""
    cursor.row_factory = None
    return cursor.fetchall()


# price fields per built-in model id: the price table is fixed for the life of the process
_BUILTIN_PRICES: dict[str, dict[str, Any]] = {}


def _price_fields(model_id: str | None) -> dict[str, Any]:
    if model_id is None:
        return _NO_PRICES
    found = _BUILTIN_PRICES.get(model_id)
    if found is None:
        found = models.price_fields(model_id)
        if model_id in costs.builtin_by_id():  # project models can be deleted: never cached
            _BUILTIN_PRICES[model_id] = found
    return found


_NO_PRICES: dict[str, Any] = {"inputPrice": None, "outputPrice": None, "totalPrice": None}


def _input_output_sums(details: dict[str, Any]) -> tuple[Any, Any]:
    """Langfuse's reduction of usage/cost details, for "input" and "output" in one pass: every key starting
    with the prefix counts; None when none does (the additions of ``sum``, in the same order)."""
    sums: list[Any] = [None, None]
    for key, value in details.items():
        if isinstance(value, int | float):
            slot = 0 if key.startswith("input") else 1 if key.startswith("output") else None
            if slot is not None:
                sums[slot] = (0 if sums[slot] is None else sums[slot]) + value
    return sums[0], sums[1]


def epoch_sql(column: str) -> str:
    """SQL for a stored timestamp as Unix seconds with its microseconds (julianday would round them away)."""
    return f"(strftime('%s', substr({column}, 1, 19)) + substr({column}, 21, 6) / 1000000.0)"


# ---- durations --------------------------------------------------------------------------------------------


def _instant(text: str) -> datetime:
    if len(text) == 27 and text[-1] == "Z":  # the stored fixed-width UTC form
        return datetime.fromisoformat(text[:-1])
    return datetime.fromtimestamp(iso_to_seconds(text) or 0.0, timezone.utc).replace(tzinfo=None)


def seconds_between(start: str | None, end: str | None) -> float | None:
    """Seconds from one stored timestamp to another, exact to the microsecond; None when one is missing."""
    if not start or not end:
        return None
    if len(start) == 27 == len(end) and start[26] == "Z" == end[26]:  # both in the stored fixed-width form
        return (_fromisoformat(end[:26]) - _fromisoformat(start[:26])).total_seconds()
    # datetime arithmetic: differences of epoch floats near 1.7e9 would be off in the 7th decimal
    return (_instant(end) - _instant(start)).total_seconds()


_fromisoformat = datetime.fromisoformat


# ---- the v1 view ------------------------------------------------------------------------------------------


def _usage_fields(usage: dict[str, Any]) -> dict[str, Any]:
    if not usage:
        return _NO_USAGE
    given_input, given_output = _input_output_sums(usage)
    tokens = {
        "input": int(given_input or 0),
        "output": int(given_output or 0),
        "total": int(usage.get("total") or 0),
    }
    return {
        "usageDetails": {k: int(v) for k, v in usage.items()},
        "usage": {**tokens, "unit": "TOKENS"},
        "unit": "TOKENS",
        "promptTokens": tokens["input"],
        "completionTokens": tokens["output"],
        "totalTokens": tokens["total"],
    }


# the usage fields of an observation without usage (shared: the view is serialised, never mutated)
_NO_USAGE: dict[str, Any] = {
    "usageDetails": {},
    "usage": {"input": 0, "output": 0, "total": 0, "unit": "TOKENS"},
    "unit": "TOKENS",
    "promptTokens": 0,
    "completionTokens": 0,
    "totalTokens": 0,
}
_USAGE_KEYS = ("usageDetails", "usage", "unit", "promptTokens", "completionTokens", "totalTokens")
_NO_USAGE_VALUES = tuple(_NO_USAGE[key] for key in _USAGE_KEYS)
_NUMBER = (int, float)
_NO_TOTAL = object()  # cost details without a "total" key: the row's total_cost column answers
_NO_COST: tuple[dict[str, Any], Any, Any, Any] = ({}, None, None, _NO_TOTAL)

# ---- what the v1 view reads, and how ----------------------------------------------------------------------
#
# The sqlite3 module hands every selected value over on its own (it releases and re-takes the GIL and SQLite's
# connection mutex for each column of each row: ~0.1-0.2 us even for a NULL), so a row is selected as few
# values as the view allows:
# - VIEW_COLUMNS, one value each;
# - the rarely set columns (RARE_COLUMNS) as one value: NULL when all of them are NULL, else the row's rowid,
#   whose rare values ``ViewBuilder.views`` then reads in one more query for the few rows that have any;
# - the columns a trace's rows mostly share (SHARED_COLUMNS, with trace_id first) as one json_array text: one
#   object instead of ten, and the text is the key of the view template those values give. They are TEXT
#   columns and come back exactly from the JSON; a BLOB among them (json_array refuses it) makes
#   ``select_view_rows`` read them as plain columns instead. Reading one trace, trace_id is left out of it
#   (``TRACE_VIEW_SELECT``): every row has the one asked for.
_NOT_VIEWED = frozenset({"as_root", "provided_usage_details", "provided_cost_details"})
SHARED_COLUMNS = (
    "trace_id",
    "environment",
    "level",
    "model",
    "model_parameters",
    "usage_details",
    "cost_details",
    "model_id",
    "usage_pricing_tier_id",
    "usage_pricing_tier_name",
)
RARE_COLUMNS = (
    "completion_start_time",
    "status_message",
    "version",
    "prompt_id",
    "prompt_name",
    "prompt_version",
    "experiment",
)
VIEW_COLUMNS = tuple(c for c in COLUMNS if c not in _NOT_VIEWED and c not in SHARED_COLUMNS + RARE_COLUMNS)
_RARE_FLAG = (
    f"CASE WHEN coalesce({', '.join(f'o.{c}' for c in RARE_COLUMNS)}) IS NULL THEN NULL ELSE o.rowid END"
)
_PLAIN = ", ".join(f"o.{c}" for c in VIEW_COLUMNS)


def _select(shared: str) -> str:
    return f"SELECT {_PLAIN}, {_RARE_FLAG}, {shared} FROM observations o"


def _json_array(columns: Sequence[str]) -> str:
    return f"json_array({', '.join(f'o.{c}' for c in columns)})"


VIEW_SELECT = _select(_json_array(SHARED_COLUMNS))
TRACE_VIEW_SELECT = _select(_json_array(SHARED_COLUMNS[1:]))  # rows of one trace: no trace_id
_PLAIN_SELECT = _select(", ".join(f"o.{c}" for c in SHARED_COLUMNS))
_PLAIN_TRACE_SELECT = _select(", ".join(f"o.{c}" for c in SHARED_COLUMNS[1:]))
START_TIME, END_TIME = VIEW_COLUMNS.index("start_time"), VIEW_COLUMNS.index("end_time")
TOTAL_COST = VIEW_COLUMNS.index("total_cost")
_RARE = len(VIEW_COLUMNS)  # the position of the rare flag in a selected row; the shared part follows it
_RARE_BY_ROWID = f"SELECT rowid, id, {', '.join(RARE_COLUMNS)} FROM observations WHERE rowid IN ({{}})"
_RARE_CHUNK = 500  # rowids per query: under SQLite's older 999-variable limit


def select_view_rows(
    conn: sqlite3.Connection, tail: str, params: Sequence[Any], trace_id: str | None = None
) -> list[tuple[Any, ...]]:
    """Rows for ``ViewBuilder.views``: ``VIEW_SELECT`` (``TRACE_VIEW_SELECT`` with ``trace_id``, for a
    ``tail`` that keeps to that trace) followed by ``tail`` (WHERE, ORDER BY, ...)."""
    select = VIEW_SELECT if trace_id is None else TRACE_VIEW_SELECT
    try:
        return tuples(conn.execute(f"{select} {tail}", params))
    except sqlite3.OperationalError as exc:
        if "JSON" not in str(exc):  # "JSON cannot hold BLOB values": a BLOB in a shared column
            raise
    plain = _PLAIN_SELECT if trace_id is None else _PLAIN_TRACE_SELECT
    rows, shared_from = tuples(conn.execute(f"{plain} {tail}", params)), _RARE + 1
    return [(*row[:shared_from], row[shared_from:]) for row in rows]


@contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """The statements of the block read one snapshot of the database (a view's rows and their rare values
    are read by two queries; an ingest committing between them must not show half of a change)."""
    if conn.in_transaction:  # already inside one: it is the caller's snapshot
        yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:  # SQLite may have ended it already (an I/O error rolls back)
            conn.execute("COMMIT")  # read-only: nothing to commit, the snapshot is let go


# The fields of a v1 view, in the order Langfuse sends them
VIEW_KEYS = (
    "id", "traceId", "type", "name", "startTime", "endTime", "completionStartTime", "model",
    "modelParameters", "input", "output", "metadata", "version", "level", "statusMessage",
    "parentObservationId", "environment", "promptId", "promptName", "promptVersion", "usageDetails", "usage",
    "unit", "promptTokens", "completionTokens", "totalTokens", "costDetails", "modelId", "inputPrice",
    "outputPrice", "totalPrice", "usagePricingTierId", "usagePricingTierName", "calculatedInputCost",
    "calculatedOutputCost", "calculatedTotalCost", "latency", "timeToFirstToken", "projectId", "createdAt",
    "updatedAt",
)  # fmt: skip
_STAMP_LENGTH = 27  # the stored fixed-width form, "YYYY-MM-DDTHH:MM:SS.ffffffZ"
_UNSET: Any = object()  # no input/output decoded yet in this request


class ViewBuilder:
    """Builds v1 ``ObservationsView`` dicts for one request.

    A view is a copy of a template dict holding every field in Langfuse's order, with the row's own values
    assigned over it: copying a 41-key dict and assigning ~12 keys costs about half of building it from a
    literal (which grows and re-hashes the table several times). The template of a row carries what many
    rows share: trace id, model, parameters, level, environment, usage, cost and the model's prices,
    worked out once per distinct combination. Merged metadata is worked out once per (text, resource,
    scope), and a decoded input/output is reused when the row before held the same text. Shared parts
    are the same objects in several views, which are serialised, never mutated.

    ``trace_id``: the rows are of that one trace, selected by ``TRACE_VIEW_SELECT``.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        blobs: BlobCache,
        project_id: str = PROJECT_ID,
        trace_id: str | None = None,
    ) -> None:
        self._conn, self._blobs, self._project_id = conn, blobs, project_id
        self._trace_id = trace_id
        self._blank: dict[str, Any] = dict.fromkeys(VIEW_KEYS)
        self._blank["projectId"] = project_id
        self._templates: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._metadata: dict[tuple[Any, Any, Any], Any] = {}
        self._usage: dict[Any, tuple[Any, ...]] = {}
        self._costs: dict[Any, tuple[dict[str, Any], Any, Any, Any]] = {}
        self._prices: dict[Any, dict[str, Any]] = {}

    def view(self, row: Sequence[Any]) -> dict[str, Any]:
        """The view of one row, laid out as ``views`` takes them."""
        return self.views([row])[0]

    def views(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """Views of rows selected with ``select_view_rows`` (or laid out by ``view_row``).

        One loop with its lookups in locals: per row this is most of the request's Python time.
        """
        templates, template_of = self._templates, self._template
        merged, merge = self._metadata, self._merged_metadata
        fromiso, stamp_length = _fromisoformat, _STAMP_LENGTH
        last_input = last_output = _UNSET
        input_value = output_value = None
        rare_rows: list[tuple[dict[str, Any], Any, Any]] = []
        out: list[dict[str, Any]] = []
        append = out.append
        for row in rows:
            (
                oid, parent, kind, name, start, end, raw_input, raw_output, metadata, total_cost,
                resource_id, scope_id, created, updated, rare, shared,
            ) = row  # fmt: skip
            key = (shared, total_cost)
            template = templates.get(key)
            if template is None:
                template = template_of(key)
            view = template.copy()
            view["id"] = oid
            view["type"] = kind
            view["name"] = name
            view["startTime"] = start
            view["endTime"] = end
            if raw_input is not None:
                if raw_input is not last_input and raw_input != last_input:  # runs of equal text: one decode
                    last_input, input_value = raw_input, read_io(raw_input)
                view["input"] = input_value
            if raw_output is not None:
                if raw_output is not last_output and raw_output != last_output:
                    last_output, output_value = raw_output, read_io(raw_output)
                view["output"] = output_value
            found = merged.get((metadata, resource_id, scope_id))
            view["metadata"] = merge(metadata, resource_id, scope_id) if found is None else found
            view["parentObservationId"] = parent
            view["createdAt"] = created
            view["updatedAt"] = updated
            if end and start:  # the fixed-width pair inline: one call less per row than seconds_between
                if len(start) == stamp_length == len(end) and start[26] == "Z" == end[26]:
                    view["latency"] = (fromiso(end[:26]) - fromiso(start[:26])).total_seconds()
                else:
                    view["latency"] = seconds_between(start, end)
            if rare is not None:
                rare_rows.append((view, start, rare))
            append(view)
        if rare_rows:
            self._add_rare_fields(rare_rows)
        return out

    def _add_rare_fields(self, rare_rows: list[tuple[dict[str, Any], Any, Any]]) -> None:
        """Completion start, version, status message, prompt and experiment fields of the rows that have any
        (a tuple of ``RARE_COLUMNS`` values, or the rowid to read them by). The experiment's fields go last,
        over everything else, as they always did."""
        found = self._rare_values([rare for _, _, rare in rare_rows if isinstance(rare, int)])
        for view, start, rare in rare_rows:
            if isinstance(rare, tuple):
                values = rare
            else:
                stored = found.get(rare)
                if stored is None or stored[0] != view["id"]:
                    continue  # deleted (or its rowid reused) between the two queries, outside a snapshot
                values = stored[1:]
            first_token, status, version, prompt_id, prompt_name, prompt_version, experiment = values
            if first_token is not None:
                view["completionStartTime"] = first_token
                if first_token:
                    view["timeToFirstToken"] = seconds_between(start, first_token)
            if version is not None:
                view["version"] = version
            if status is not None:
                view["statusMessage"] = status
            if prompt_id is not None or prompt_name is not None or prompt_version is not None:
                view["promptId"] = prompt_id
                view["promptName"] = prompt_name
                view["promptVersion"] = prompt_version
            if experiment:
                view.update(loads(experiment))

    def _rare_values(self, rowids: list[int]) -> dict[int, tuple[Any, ...]]:
        """rowid -> (id, *RARE_COLUMNS values) of the given rows."""
        found: dict[int, tuple[Any, ...]] = {}
        for first in range(0, len(rowids), _RARE_CHUNK):
            part = rowids[first : first + _RARE_CHUNK]
            sql = _RARE_BY_ROWID.format(", ".join("?" * len(part)))
            for rowid, *values in tuples(self._conn.execute(sql, part)):
                found[rowid] = tuple(values)
        return found

    def _template(self, key: tuple[Any, Any]) -> dict[str, Any]:
        """The fields a row shares with every row of the same shared columns and total cost."""
        shared, total_cost = key
        # the shared columns: json_array's text from the SELECT, or a tuple (plain columns, view_row)
        values = orjson.loads(shared) if isinstance(shared, str) else shared
        if self._trace_id is None:
            trace_id, *values = values
        else:
            trace_id = self._trace_id
        environment, level, model, model_parameters, usage, cost, model_id, tier_id, tier_name = values
        template = self._blank.copy()
        template["traceId"] = trace_id
        template["model"] = model
        template["modelParameters"] = (loads(model_parameters) or {}) if model_parameters is not None else {}
        template["level"] = level or "DEFAULT"
        template["environment"] = environment or "default"
        for field, value in zip(
            _USAGE_KEYS, self._usage_of(usage) if usage else _NO_USAGE_VALUES, strict=True
        ):
            template[field] = value
        cost_details, input_cost, output_cost, total = self._cost(cost) if cost else _NO_COST
        if total is _NO_TOTAL:
            total = total_cost
        template["costDetails"] = cost_details
        template["modelId"] = model_id
        # the matched model's default-tier prices (a project model's are read once per request)
        prices = self._prices.get(model_id)
        if prices is None:
            prices = self._prices[model_id] = _price_fields(model_id)
        template["inputPrice"] = prices["inputPrice"]
        template["outputPrice"] = prices["outputPrice"]
        template["totalPrice"] = prices["totalPrice"]
        template["usagePricingTierId"], template["usagePricingTierName"] = tier_id, tier_name
        template["calculatedInputCost"] = input_cost
        template["calculatedOutputCost"] = output_cost
        # Langfuse reports 0 (not null) when no total cost is known
        template["calculatedTotalCost"] = total if isinstance(total, _NUMBER) else 0.0
        self._templates[key] = template
        return template

    def _merged_metadata(self, text: Any, resource_id: Any, scope_id: Any) -> Any:
        """The stored metadata with the row's resource and scope attributes, once per distinct triple."""
        key = (text, resource_id, scope_id)
        found = self._metadata.get(key)
        if found is None:
            found = loads(text) or {}
            if resource_id is not None:
                found["resourceAttributes"] = self._blobs.body(self._conn, resource_id)
                found["scope"] = self._blobs.body(self._conn, scope_id)
            self._metadata[key] = found
        return found

    def _usage_of(self, text: Any) -> tuple[Any, ...]:
        """The usage fields of stored usage details, in ``_USAGE_KEYS`` order."""
        found = self._usage.get(text)
        if found is None:
            fields = _usage_fields(loads(text))
            found = self._usage[text] = tuple(fields[key] for key in _USAGE_KEYS)
        return found

    def _cost(self, text: Any) -> tuple[dict[str, Any], Any, Any, Any]:
        """Cost details, their input and output sums, and their "total" (``_NO_TOTAL`` when absent)."""
        found = self._costs.get(text)
        if found is None:
            details = loads(text) or {}
            total = details.get("total", _NO_TOTAL)
            found = self._costs[text] = (details, *_input_output_sums(details), total)
        return found


def view_row(row: sqlite3.Row | Record) -> tuple[Any, ...]:
    """A stored row (any column selection holding the view's columns) laid out as ``VIEW_SELECT`` selects
    it, with the rare and shared columns as tuples (the rare ones None when all are)."""
    record = as_record(row)
    rare = tuple(record.get(column) for column in RARE_COLUMNS)
    return (
        *(record.get(column) for column in VIEW_COLUMNS),
        None if all(value is None for value in rare) else rare,
        tuple(record.get(column) for column in SHARED_COLUMNS),
    )


def to_view(
    row: sqlite3.Row | Record, conn: sqlite3.Connection, blobs: BlobCache, project_id: str = PROJECT_ID
) -> dict[str, Any]:
    """The v1 ``ObservationsView`` shape of one row, field for field as Langfuse returns it."""
    return ViewBuilder(conn, blobs, project_id).view(view_row(row))
