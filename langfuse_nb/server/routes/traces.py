"""Trace read and delete endpoints (v1)."""

from __future__ import annotations

import itertools
import math
import operator
import sqlite3
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request

from langfuse_nb.server import gcpause
from langfuse_nb.server.config import PROJECT_ID
from langfuse_nb.server.errors import BadRequest, NotFound
from langfuse_nb.server.http import JsonBody, JsonResponse, blobs_of, config_of, db_of, ok
from langfuse_nb.server.query import Column, Page, Where, apply_filter, order_by, parse_filter
from langfuse_nb.server.routes import Route
from langfuse_nb.server.routes.paging import list_page
from langfuse_nb.server.store import counts, observations, scores, traces
from langfuse_nb.server.store.observations import epoch_sql, seconds_between
from langfuse_nb.server.store.resources import BlobCache
from langfuse_nb.server.values import loads

# Per-trace aggregates over its observations, as correlated subqueries (observations_trace index).
# Stored times are fixed-width ISO text, so min/max on the text are chronological.
_PER_TRACE = "(SELECT {0} FROM observations o WHERE o.trace_id = t.id)"
_DURATION = f"{epoch_sql('max(coalesce(o.end_time, o.start_time))')} - {epoch_sql('min(o.start_time)')}"
LATENCY_SQL = f"coalesce({_PER_TRACE.format(_DURATION)}, 0)"
TOTAL_COST_SQL = _PER_TRACE.format("coalesce(sum(o.total_cost), 0)")


def _per_trace_sum(column: str, key: str) -> str:
    return _PER_TRACE.format(f"coalesce(sum(json_extract(o.{column}, '$.{key}')), 0)")


def _level_count(level: str) -> str:
    return _PER_TRACE.format(f"count(*) FILTER (WHERE coalesce(o.level, 'DEFAULT') = '{level}')")


def _level_column(level: str) -> Column:
    # "has an error" (the notebook's errors-only list) reads the few ERROR rows through the level index
    # instead of counting every trace's observations
    having = f"t.id IN (SELECT o.trace_id FROM observations o WHERE coalesce(o.level, 'DEFAULT') = '{level}')"
    return Column(_level_count(level), "number", any_of_set=having)


FILTER_COLUMNS = {
    "id": Column("t.id", "string"),
    "name": Column("t.name", "string"),
    "timestamp": Column("t.timestamp", "datetime"),
    "userId": Column("t.user_id", "string"),
    "sessionId": Column("t.session_id", "string"),
    "environment": Column("t.environment", "string"),
    "version": Column("t.version", "string"),
    "release": Column("t.release", "string"),
    "tags": Column("t.id", "tags"),
    "bookmarked": Column("t.bookmarked", "boolean"),
    "public": Column("t.public", "boolean"),
    "metadata": Column("t.metadata", "json", members=("t.id", "trace_metadata")),
    "latency": Column(LATENCY_SQL, "number"),
    "totalCost": Column(TOTAL_COST_SQL, "number"),
    "inputCost": Column(_per_trace_sum("cost_details", "input"), "number"),
    "outputCost": Column(_per_trace_sum("cost_details", "output"), "number"),
    "inputTokens": Column(_per_trace_sum("usage_details", "input"), "number"),
    "outputTokens": Column(_per_trace_sum("usage_details", "output"), "number"),
    "totalTokens": Column(_per_trace_sum("usage_details", "total"), "number"),
    "errorCount": _level_column("ERROR"),
    "warningCount": _level_column("WARNING"),
    "defaultCount": _level_column("DEFAULT"),
    "debugCount": _level_column("DEBUG"),
}
ORDER_COLUMNS = {
    "id": "t.id",
    "timestamp": "t.timestamp",
    "name": "t.name",
    "userId": "t.user_id",
    "release": "t.release",
    "version": "t.version",
    "public": "t.public",
    "bookmarked": "t.bookmarked",
    "sessionId": "t.session_id",
    "environment": "t.environment",
    "latency": LATENCY_SQL,
    "totalCost": TOTAL_COST_SQL,
}
FIELD_GROUPS = {"core", "io", "scores", "observations", "metrics"}
StrList = Annotated[list[str] | None, Query()]


def list_traces(
    request: Request,
    page: int | None = None,
    limit: int | None = None,
    userId: str | None = None,
    name: str | None = None,
    sessionId: str | None = None,
    fromTimestamp: str | None = None,
    toTimestamp: str | None = None,
    orderBy: str | None = None,
    tags: StrList = None,
    version: str | None = None,
    release: str | None = None,
    environment: StrList = None,
    fields: str | None = None,
    filter_: Annotated[str | None, Query(alias="filter")] = None,
) -> JsonResponse:
    # up to 1,000 traces of small dicts: built, rendered and freed while the collector is off (freed inside
    # the block, or leaving it would start a collection that walks all of them)
    with gcpause.paused():
        response = ok(
            query_traces(
                db_of(request).reader,
                blobs_of(request),
                page=page,
                limit=limit,
                userId=userId,
                name=name,
                sessionId=sessionId,
                fromTimestamp=fromTimestamp,
                toTimestamp=toTimestamp,
                orderBy=orderBy,
                tags=tags,
                version=version,
                release=release,
                environment=environment,
                fields=fields or config_of(request).traces_default_fields,
                filter_=filter_,
                project_id=config_of(request).project_id,
            )
        )
    return response


def query_traces(
    conn: sqlite3.Connection,
    blobs: BlobCache,
    *,
    page: int | None = None,
    limit: int | None = None,
    userId: str | None = None,
    name: str | None = None,
    sessionId: str | None = None,
    fromTimestamp: str | None = None,
    toTimestamp: str | None = None,
    orderBy: str | None = None,
    tags: list[str] | None = None,
    version: str | None = None,
    release: str | None = None,
    environment: list[str] | None = None,
    fields: str | None = None,
    filter_: str | None = None,
    project_id: str = PROJECT_ID,
) -> dict[str, Any]:
    """One page of traces with their summaries, ``{"data", "meta"}`` (the list API and the HTML pages)."""
    paging = list_page(page, limit)
    where = Where(estimate=lambda sql, params: conn.execute(sql, params).fetchone()[0])
    for column, value in (
        ("t.user_id", userId),
        ("t.name", name),
        ("t.session_id", sessionId),
        ("t.version", version),
        ("t.release", release),
    ):
        where.eq(column, value)
    where.any_of("t.environment", environment)
    where.time("t.timestamp", ">=", fromTimestamp)
    where.time("t.timestamp", "<", toTimestamp)
    if tags:
        tags = _rarest_first(conn, tags)
        apply_filter(where, [{"column": "tags", "operator": "all of", "value": tags}], FILTER_COLUMNS)
    apply_filter(where, parse_filter(filter_), FILTER_COLUMNS)
    order = order_by(orderBy, ORDER_COLUMNS, "ORDER BY t.timestamp DESC")
    sql_where = where.sql()
    groups = _field_groups(fields)
    columns = _LIST_IO if "io" in groups else _LIST_CORE  # no input/output/metadata bytes when not shown
    rows = _page_rows(conn, f"SELECT {columns} FROM traces t {sql_where} {order}", where.params, paging)
    total = _total(conn, where)
    data = _with_summaries(conn, rows, groups, blobs, project_id)
    return {"data": data, "meta": paging.meta(total)}


# Pages in timestamp order without SQL's ", t.id" tie-break: for it SQLite passes every row of the page
# through a sorter after walking the timestamp index (~0.9 ms of a 1,000-row page's 3.5 ms). Without it,
# equal timestamps come in an order of SQLite's choosing, but the page holds the same rows unless a run
# of equal timestamps crosses one of its ends, which one more row on each side shows (then the exact
# query runs); ties inside the page are put in id order here, as the tie-break would have.
_TIMESTAMP_ORDERS = frozenset({"ORDER BY t.timestamp DESC", "ORDER BY t.timestamp ASC"})
_TIMESTAMP, _ID = operator.itemgetter(1), operator.itemgetter(0)  # positions in _CORE_COLUMNS


def _page_rows(
    conn: sqlite3.Connection, select: str, params: list[Any], paging: Page
) -> list[tuple[Any, ...]]:
    """The rows of ``select`` (ending in its ORDER BY) at the page, ties in id order."""
    limit, offset = paging.limit, paging.offset
    if limit and select.endswith(tuple(_TIMESTAMP_ORDERS)):
        before = 1 if offset else 0  # the row before the page, and the row after it
        rows = observations.tuples(
            conn.execute(f"{select} LIMIT ? OFFSET ?", [*params, limit + before + 1, offset - before])
        )
        page = rows[before : before + limit]
        crosses = (before and len(rows) > 1 and rows[0][1] == rows[1][1]) or (
            len(rows) > before + limit and rows[-1][1] == page[-1][1]
        )
        if not crosses:
            try:
                return _ties_in_id_order(page)
            except TypeError:  # ids of different types: SQLite orders those
                pass
    return observations.tuples(conn.execute(f"{select}, t.id LIMIT ? OFFSET ?", [*params, limit, offset]))


def _ties_in_id_order(page: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    if all(a[1] != b[1] for a, b in zip(page, page[1:], strict=False)):  # the usual case: no ties
        return page
    ordered: list[tuple[Any, ...]] = []
    for _, run in itertools.groupby(page, key=_TIMESTAMP):
        ordered.extend(sorted(run, key=_ID))
    return ordered


_TAG_SAMPLE = 5000
_ALL_TRACES = "SELECT n FROM row_counts WHERE name = 'traces'"


def _total(conn: sqlite3.Connection, where: Where) -> int:
    """``totalItems``; with no filter, the count the row_counts triggers keep instead of counting 1M rows."""
    if not where.clauses:
        try:
            return counts.count(conn, _ALL_TRACES, ())
        except sqlite3.OperationalError:  # a database from before the row_counts migration
            pass
    return counts.count(conn, where.count_query("traces t"), where.params)


def _rarest_first(conn: sqlite3.Connection, tags: list[str]) -> list[str]:
    """Tags ordered by (capped) frequency, so an all-of count walks the shortest list."""
    if len(tags) < 2:
        return tags
    sql = "SELECT count(*) FROM (SELECT 1 FROM trace_tags WHERE tag = ? LIMIT ?)"
    return sorted(tags, key=lambda tag: conn.execute(sql, (tag, _TAG_SAMPLE)).fetchone()[0])


def _finite(total: float) -> float:
    """Sums of huge costs can overflow to inf, which JSON renders as null: the SDK's models reject that."""
    return total if math.isfinite(total) else float(sys.float_info.max)


def _field_groups(fields: str | None) -> set[str]:
    """The requested groups; like Langfuse, unknown names are ignored and ``core`` is always included."""
    if not fields:
        return set(FIELD_GROUPS)
    return ({part.strip() for part in fields.split(",")} & FIELD_GROUPS) | {"core"}


# The trace columns a view reads, in the order TraceViews.view unpacks them; the last five only with "io".
_CORE_COLUMNS = (
    "id",
    "timestamp",
    "name",
    "session_id",
    "release",
    "version",
    "user_id",
    "tags",
    "public",
    "environment",
    "bookmarked",
    "created_at",
    "updated_at",
)
_IO_COLUMNS = ("input", "output", "metadata", "resource_id", "scope_id")
_LIST_CORE = ", ".join(f"t.{c}" for c in _CORE_COLUMNS)
_LIST_IO = ", ".join(f"t.{c}" for c in _CORE_COLUMNS + _IO_COLUMNS)
SELECT_TRACE_VIEW = f"SELECT {_LIST_IO} FROM traces t"  # rows for TraceViews.view/views with io


# Observations of a page's traces, each trace's in start time order (ties in stored order, as the sort of
# the rows read through the observations_trace index left them): that index answers this order unsorted.
_PAGE_OBSERVATIONS = (
    "SELECT trace_id, id, start_time, end_time, total_cost FROM observations "
    "WHERE trace_id IN ({}) ORDER BY trace_id, start_time, rowid"
)
_NO_OBSERVATIONS: tuple[list[str], Any, Any, float] = ([], None, None, 0.0)
_NO_SCORES: list[str] = []  # shared by the items without scores: views are serialised, never mutated
_MAX_FLOAT = float(sys.float_info.max)
_NO_TRACE = object()


def _observation_summaries(
    conn: sqlite3.Connection, ids: list[str], marks: str
) -> dict[str, tuple[list[str], Any, Any, float]]:
    """Per trace with observations: (observation ids by start time, first start, last end, summed cost)."""
    found: dict[str, tuple[list[str], Any, Any, float]] = {}
    current: Any = _NO_TRACE
    obs_ids: list[str] = []
    first: Any = None
    last: Any = None
    total = 0.0
    for trace_id, obs_id, start, end, cost in observations.tuples(
        conn.execute(_PAGE_OBSERVATIONS.format(marks), ids)
    ):
        if trace_id != current:  # a trace's rows are consecutive, the earliest first
            if current is not _NO_TRACE:
                found[current] = (obs_ids, first, last, total)
            current, obs_ids, first, last, total = trace_id, [], start, None, 0.0
        obs_ids.append(obs_id)
        finish = end or start
        if last is None or finish > last:
            last = finish
        if cost:  # in start order, as before: a float sum depends on the order (total is never -0.0,
            total += cost  # so skipping a null, 0.0 or -0.0 cost leaves it as adding 0.0 did)
    if current is not _NO_TRACE:
        found[current] = (obs_ids, first, last, total)
    return found


def _with_summaries(
    conn: sqlite3.Connection,
    rows: list[tuple[Any, ...]],
    groups: set[str],
    blobs: BlobCache,
    project_id: str = PROJECT_ID,
) -> list[dict[str, Any]]:
    """Trace list items with observation/score ids, latency and cost, computed for the page only."""
    metrics, with_observations, with_scores = (
        "metrics" in groups,
        "observations" in groups,
        "scores" in groups,
    )
    summaries: dict[str, tuple[list[str], Any, Any, float]] = {}
    score_ids: dict[str, list[str]] = {}
    ids = [row[0] for row in rows]
    marks = ", ".join("?" * len(ids))
    if ids and (metrics or with_observations):  # each query only when its fields are shown
        summaries = _observation_summaries(conn, ids, marks)
    if ids and with_scores:
        for trace_id, score_id in observations.tuples(
            conn.execute(
                f"SELECT trace_id, id FROM scores WHERE trace_id IN ({marks}) ORDER BY timestamp, rowid", ids
            )
        ):
            found = score_ids.get(trace_id)
            if found is None:
                score_ids[trace_id] = [score_id]
            else:
                found.append(score_id)
    views, io = TraceViews(conn, blobs, project_id), "io" in groups
    items = views.build(rows, io, views.template(io, summaries=True))
    if not (metrics or with_observations or with_scores):
        return items
    summary_of, scores_of, fromiso, isfinite = (
        summaries.get,
        score_ids.get,
        datetime.fromisoformat,
        math.isfinite,
    )
    for item in items:
        trace_id = item["id"]
        obs_ids, start, end, cost = summary_of(trace_id, _NO_OBSERVATIONS)
        if metrics:
            if start and end and len(start) == 27 == len(end) and start[26] == "Z" == end[26]:
                item["latency"] = (fromiso(end[:26]) - fromiso(start[:26])).total_seconds() or 0.0
            else:  # seconds_between's other forms; None (no observations) reads 0.0
                item["latency"] = seconds_between(start, end) or 0.0
            item["totalCost"] = cost if isfinite(cost) else _MAX_FLOAT
        if with_observations:
            item["observations"] = obs_ids
        if with_scores:
            item["scores"] = scores_of(trace_id, _NO_SCORES)
    return items


# The fields of a trace view in Langfuse's order; input, output and metadata with "io", and a list item's
# summaries after them (-1 and [] when their group is not requested).
_TRACE_KEYS = (
    "id", "timestamp", "name", "sessionId", "release", "version", "userId", "tags", "public", "environment",
    "bookmarked", "projectId", "createdAt", "updatedAt", "externalId", "htmlPath",
)  # fmt: skip
_IO_KEYS = ("input", "output", "metadata")
_UNSET: Any = object()  # no input/output decoded yet in this request


class TraceViews:
    """Trace views (without the per-trace summaries) for one request.

    Each view is a copy of a template holding every field in Langfuse's order, the row's values assigned
    over it (cheaper than a dict literal that grows as it is built). Tags are decoded once per distinct
    text; metadata is merged with its resource and scope attributes once per distinct (metadata,
    resource, scope); an input or output equal to the row before's is decoded once. Shared parts are the
    same objects in several views, which are serialised, never mutated.
    """

    def __init__(self, conn: sqlite3.Connection, blobs: BlobCache, project_id: str = PROJECT_ID) -> None:
        self._conn, self._blobs, self._project_id = conn, blobs, project_id
        self._html_prefix = f"/project/{project_id}/traces/"
        self._metadata: dict[tuple[Any, Any, Any], Any] = {}
        self._tags: dict[Any, Any] = {}
        self._bodies: dict[tuple[Any, Any], tuple[Any, Any]] = {}  # (resource, scope) -> their bodies

    def template(self, io: bool = True, summaries: bool = False) -> dict[str, Any]:
        """A view with every field and no row's values, for ``build``."""
        template: dict[str, Any] = dict.fromkeys(_TRACE_KEYS + _IO_KEYS if io else _TRACE_KEYS)
        template.update(projectId=self._project_id, public=False, bookmarked=False, tags=[])
        if summaries:  # each request its own empty lists
            template.update(latency=-1, totalCost=-1, observations=[], scores=[])
        return template

    def view(self, row: Sequence[Any], io: bool = True) -> dict[str, Any]:
        """The view of a row selected as ``_CORE_COLUMNS`` (+ ``_IO_COLUMNS`` when ``io``)."""
        return self.build([row], io, self.template(io))[0]

    def views(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """Views (with input, output and metadata) of rows selected with ``SELECT_TRACE_VIEW``."""
        return self.build(rows, True, self.template())

    def build(
        self, rows: Sequence[Sequence[Any]], io: bool, template: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Copies of ``template`` (a ``template(io)``) with the values of ``rows``, selected as
        ``_CORE_COLUMNS`` (+ ``_IO_COLUMNS`` when ``io``). One loop with its lookups in locals: a page has
        up to 1,000 rows."""
        copy, tags_found, tags_of = template.copy, self._tags, self._tags_of
        merged, merge, prefix = self._metadata, self._merged_metadata, self._html_prefix
        last_input = last_output = _UNSET
        input_value = output_value = None
        out: list[dict[str, Any]] = []
        append = out.append
        for row in rows:
            view = copy()
            if io:  # input, output and metadata first: a template's keys keep their places either way
                (
                    trace_id, timestamp, name, session_id, release, version, user_id, tags, public,
                    environment, bookmarked, created, updated, raw_input, raw_output, metadata, resource_id,
                    scope_id,
                ) = row  # fmt: skip
                if raw_input is not None:
                    if raw_input is not last_input and raw_input != last_input:  # runs of equal text
                        last_input, input_value = raw_input, observations.read_io(raw_input)
                    view["input"] = input_value
                if raw_output is not None:
                    if raw_output is not last_output and raw_output != last_output:
                        last_output, output_value = raw_output, observations.read_io(raw_output)
                    view["output"] = output_value
                found = merged.get((metadata, resource_id, scope_id))
                view["metadata"] = merge(metadata, resource_id, scope_id) if found is None else found
            else:
                (
                    trace_id, timestamp, name, session_id, release, version, user_id, tags, public,
                    environment, bookmarked, created, updated,
                ) = row  # fmt: skip
            view["id"] = trace_id
            view["timestamp"] = timestamp
            view["name"] = name
            view["sessionId"] = session_id
            view["release"] = release
            view["version"] = version
            view["userId"] = user_id
            if tags is not None:
                found = tags_found.get(tags)
                view["tags"] = tags_of(tags) if found is None else found
            if public:
                view["public"] = True
            view["environment"] = environment
            if bookmarked:
                view["bookmarked"] = True
            view["createdAt"] = created
            view["updatedAt"] = updated
            view["htmlPath"] = prefix + trace_id if trace_id.__class__ is str else f"{prefix}{trace_id}"
            append(view)
        return out

    def _tags_of(self, text: Any) -> Any:
        found = self._tags[text] = loads(text) or []
        return found

    def _merged_metadata(self, text: Any, resource_id: Any, scope_id: Any) -> Any:
        key = (text, resource_id, scope_id)
        found = self._metadata.get(key)
        if found is None:
            found = loads(text) or {}
            if resource_id is not None:  # interned once, shared by every trace of that resource
                bodies = self._bodies.get((resource_id, scope_id))
                if bodies is None:
                    bodies = self._bodies[resource_id, scope_id] = (
                        self._blobs.body(self._conn, resource_id),
                        self._blobs.body(self._conn, scope_id),
                    )
                found["resourceAttributes"], found["scope"] = bodies
            self._metadata[key] = found
        return found


def trace_view(
    row: dict[str, Any] | sqlite3.Row,
    conn: sqlite3.Connection,
    blobs: BlobCache,
    io: bool = True,
    project_id: str = PROJECT_ID,
) -> dict[str, Any]:
    """The view of one stored trace row (by column name)."""
    columns = _CORE_COLUMNS + _IO_COLUMNS if io else _CORE_COLUMNS
    return TraceViews(conn, blobs, project_id).view(tuple(row[c] for c in columns), io=io)


def get_trace(request: Request, traceId: str) -> JsonResponse:
    with gcpause.paused():  # a trace can hold thousands of observations (see list_traces)
        view = trace_detail(db_of(request).reader, blobs_of(request), traceId, config_of(request).project_id)
        if view is None:
            raise NotFound(f"Trace {traceId} not found within authorized project")
        response = ok(view)
        del view
    return response


def trace_detail(
    conn: sqlite3.Connection, blobs: BlobCache, traceId: str, project_id: str = PROJECT_ID
) -> dict[str, Any] | None:
    """``TraceWithFullDetails`` of one trace (also drawn by the trace page), None when unknown."""
    with observations.read_snapshot(conn):  # the trace, its observations (two queries) and scores as one
        row = traces.get(conn, traceId)
        if row is None:
            return None
        obs_rows = _trace_observations(conn, traceId)
        view = trace_view(row, conn, blobs, project_id=project_id)
        view.update(
            {
                "latency": _span_seconds(obs_rows),
                "totalCost": _finite(sum(o[_TOTAL_COST] or 0.0 for o in obs_rows)),
                "observations": observations.ViewBuilder(conn, blobs, project_id, traceId).views(obs_rows),
                "scores": [
                    scores.to_view(s, v1=True, project_id=project_id)
                    for s in scores.for_traces(conn, [traceId])
                ],
            }
        )
    return view


# In index order (trace_id, start_time), ties put in id order here: SQLite's sort for "ORDER BY
# start_time, id" copies every selected column of every row into a temporary b-tree (~1-3 ms for 1,000).
_TRACE_OBSERVATIONS = "WHERE o.trace_id = ? ORDER BY o.start_time"
_SORTED_OBSERVATIONS = f"{_TRACE_OBSERVATIONS}, o.id"
_START, _END, _TOTAL_COST = observations.START_TIME, observations.END_TIME, observations.TOTAL_COST
_START_AND_ID = operator.itemgetter(_START, 0)


def _trace_observations(conn: sqlite3.Connection, trace_id: str) -> list[tuple[Any, ...]]:
    """A trace's observation rows (``observations.select_view_rows`` of the trace) by start time, then id."""
    rows = observations.select_view_rows(conn, _TRACE_OBSERVATIONS, (trace_id,), trace_id)
    try:
        rows.sort(key=_START_AND_ID)  # text order is SQLite's BINARY order; nearly sorted already
    except TypeError:  # a non-text value somewhere: let SQLite order the mixed types
        rows = observations.select_view_rows(conn, _SORTED_OBSERVATIONS, (trace_id,), trace_id)
    return rows


def _span_seconds(obs_rows: list[tuple[Any, ...]]) -> float | None:
    """Seconds from the first start to the last end (or start) of a trace's observations; 0.0 without any."""
    if not obs_rows:
        return 0.0
    first = min(o[_START] for o in obs_rows)
    last = max(o[_END] or o[_START] for o in obs_rows)
    return seconds_between(first, last)


def delete_trace(request: Request, traceId: str) -> JsonResponse:
    with db_of(request).write() as conn:
        if not traces.delete(conn, [traceId]):
            raise NotFound(f"Trace {traceId} not found within authorized project")
    return ok({"message": "Trace deleted successfully"})


def delete_traces(request: Request, body: JsonBody) -> JsonResponse:
    ids = body.get("traceIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise BadRequest('body must be {"traceIds": [<trace id>, ...]} with at least one id')
    with db_of(request).write() as conn:
        traces.delete(conn, ids)
    return ok({"message": "Traces deleted successfully"})


ROUTES = [
    Route("GET", "/api/public/traces", list_traces),
    Route("DELETE", "/api/public/traces", delete_traces),
    Route("GET", "/api/public/traces/{traceId:path}", get_trace),
    Route("DELETE", "/api/public/traces/{traceId:path}", delete_trace),
]
