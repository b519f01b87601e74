"""Traces, observations, scores and sessions as pandas DataFrames, fetched through the public API.

Each query is described once (`_Query`: which list endpoint, its filters, how a page item becomes a row) and
run by one of two small executors: threads over the blocking client, or tasks over the asyncio client.
Pages after the first are fetched concurrently; ``limit`` caps rows (newest first) and so the pages asked
for. pandas is imported only when a DataFrame is built.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NoReturn

from typing_extensions import TypedDict, Unpack

from langfuse_nb.errors import ApiError
from langfuse_nb.sdk.experiments.progress import Progress, resolve
from langfuse_nb.sdk.params import public_signature

if TYPE_CHECKING:
    import pandas

    from langfuse_nb.api import AsyncLangfuseAPI, LangfuseAPI

BULK_PAGE_SIZE = 1000  # the local server (and self-hosted Langfuse) serve pages this large
PAGE_SIZE = 100  # Langfuse Cloud's page size; used when a server refuses the bulk size
CONCURRENCY = 4  # pages in flight at once after the first
_TRACE_FIELDS = "core,io,scores,observations,metrics"


@dataclass(frozen=True)
class _Query:
    """One run of an endpoint: its API parameters and the row cap."""

    endpoint: _Endpoint
    params: Mapping[str, Any]
    limit: int | None
    desc: str
    page_limit: int = BULK_PAGE_SIZE

    def call(self, api: Any, page: int) -> Any:
        """Request one page; JSON as plain dicts (thousands of rows skip model validation)."""
        # the REST layer (and its models) loads on the first query, not with the client
        from langfuse_nb.api._resource import send_json

        resource = getattr(api, self.endpoint.resource)
        return send_json(resource, self.endpoint.method, **self.params, page=page, limit=self.page_size)

    @property
    def page_size(self) -> int:
        return min(self.page_limit, self.limit) if self.limit else self.page_limit

    def smaller_pages(self, error: ApiError) -> _Query | None:
        """The same query with Cloud-sized pages, if the server refused the bulk size."""
        if error.status_code in (400, 422) and self.page_size > PAGE_SIZE:
            return replace(self, page_limit=PAGE_SIZE)
        return None

    def pages_after(self, first: Any) -> list[int]:
        """Page numbers still needed once the first page (with its meta) is known."""
        total_pages = int(first["meta"].get("totalPages") or 0)
        if self.limit is not None:
            total_pages = min(total_pages, math.ceil(self.limit / self.page_size))
        return list(range(2, total_pages + 1))

    def rows(self, pages: Iterable[Any]) -> list[dict[str, Any]]:
        """Rows in page order without duplicates (items shift between pages while new data arrives)."""
        seen: set[str] = set()
        out: list[dict[str, Any]] = []
        for page in pages:
            for item in page["data"]:
                if item["id"] not in seen:
                    seen.add(item["id"])
                    out.append(self.endpoint.to_row(item))
        return out[: self.limit] if self.limit is not None else out


def fetch_rows(api: LangfuseAPI, query: _Query, progress: bool | None) -> list[dict[str, Any]]:
    """All pages through the blocking client, the later ones on a few threads."""
    try:
        first = query.call(api, 1)
    except ApiError as exc:
        query = query.smaller_pages(exc) or _reraise(exc)
        first = query.call(api, 1)
    bar = _bar(query, first, progress)
    from concurrent.futures import ThreadPoolExecutor  # not needed until a query runs

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        pages = list(pool.map(lambda n: _counted(bar, query.call(api, n)), query.pages_after(first)))
    bar.close()
    return query.rows([first, *pages])


async def fetch_rows_async(
    api: AsyncLangfuseAPI, query: _Query, progress: bool | None
) -> list[dict[str, Any]]:
    """All pages through the asyncio client, at most CONCURRENCY requests at a time."""
    try:
        first = await query.call(api, 1)
    except ApiError as exc:
        query = query.smaller_pages(exc) or _reraise(exc)
        first = await query.call(api, 1)
    bar = _bar(query, first, progress)
    import asyncio  # not needed until a query runs

    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(number: int) -> Any:
        async with gate:
            return _counted(bar, await query.call(api, number))

    pages = await asyncio.gather(*(one(n) for n in query.pages_after(first)))
    bar.close()
    return query.rows([first, *pages])


def _reraise(error: ApiError) -> NoReturn:
    raise error


def _bar(query: _Query, first: Any, progress: bool | None) -> Progress:
    total = int(first["meta"].get("totalItems") or 0)
    bar = Progress(
        resolve(progress), total=min(total, query.limit) if query.limit else total, desc=query.desc
    )
    bar.update(len(first["data"]))
    return bar


def _counted(bar: Progress, page: Any) -> Any:
    bar.update(len(page["data"]))
    return page


# ---- queries: one filter list per entity, named as the reference's `api` client names them ---------------


class TraceFilters(TypedDict, total=False):
    name: str | None
    user_id: str | None
    session_id: str | None
    tags: str | Sequence[str] | None  # every tag must match
    from_timestamp: dt.datetime | None
    to_timestamp: dt.datetime | None
    environment: str | Sequence[str] | None
    release: str | None
    version: str | None
    metadata: Mapping[str, Any] | None  # key -> value, all must match
    limit: int | None  # at most this many rows, newest first


class ObservationFilters(TypedDict, total=False):
    name: str | None
    user_id: str | None
    type: str | None
    trace_id: str | None
    level: str | None
    parent_observation_id: str | None
    from_timestamp: dt.datetime | None
    to_timestamp: dt.datetime | None
    environment: str | Sequence[str] | None
    version: str | None
    metadata: Mapping[str, Any] | None
    limit: int | None


class ScoreFilters(TypedDict, total=False):
    name: str | None
    user_id: str | None
    trace_id: str | None
    session_id: str | None
    observation_id: str | None
    dataset_run_id: str | None
    config_id: str | None
    source: str | None
    data_type: str | None
    from_timestamp: dt.datetime | None
    to_timestamp: dt.datetime | None
    environment: str | Sequence[str] | None
    trace_tags: str | Sequence[str] | None
    limit: int | None


class SessionFilters(TypedDict, total=False):
    from_timestamp: dt.datetime | None
    to_timestamp: dt.datetime | None
    environment: str | Sequence[str] | None
    limit: int | None


@dataclass(frozen=True)
class _Endpoint:
    """Which list endpoint serves an entity, and how our filter names and rows map onto it."""

    resource: str
    method: str
    filters: type
    to_row: Callable[[Any], dict[str, Any]]
    columns: tuple[str, ...]
    time_columns: tuple[str, ...] = ("timestamp",)
    renamed: Mapping[str, str] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)

    def query(self, filters: Mapping[str, Any], desc: str) -> _Query:
        unknown = sorted(filters.keys() - self.filters.__annotations__.keys())
        if unknown:
            allowed = ", ".join(sorted(self.filters.__annotations__))
            raise TypeError(f"unknown filter {unknown[0]!r} for {desc}; use one of: {allowed}")
        given = dict(filters)
        limit = _checked_limit(given.pop("limit", None))
        metadata = given.pop("metadata", None)
        params = {self.renamed.get(key, key): value for key, value in given.items()}
        params.update(self.fixed)
        if metadata:
            params["filter"] = _metadata_filter(metadata)
        return _Query(self, params, limit, desc)


def _checked_limit(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive whole number of rows or None, got {limit!r}")
    return limit


def _metadata_filter(metadata: Mapping[str, Any]) -> str:
    """``{"key": "value"}`` -> the API's JSON filter (string equality per key, all must match)."""
    conditions = [
        {"type": "stringObject", "column": "metadata", "key": str(key), "operator": "=", "value": str(value)}
        for key, value in metadata.items()
    ]
    return json.dumps(conditions)


# ---- rows -----------------------------------------------------------------------------------------------


def _trace_row(trace: dict[str, Any]) -> dict[str, Any]:
    get = trace.get
    return {
        "id": trace["id"],
        "timestamp": get("timestamp"),
        "name": get("name"),
        "user_id": get("userId"),
        "session_id": get("sessionId"),
        "tags": get("tags") or [],
        "environment": get("environment"),
        "release": get("release"),
        "version": get("version"),
        "latency": get("latency"),
        "total_cost": get("totalCost"),
        "observation_count": len(get("observations") or ()),
        "input": get("input"),
        "output": get("output"),
        "metadata": get("metadata"),
        "raw": trace,
    }


def _observation_row(obs: dict[str, Any]) -> dict[str, Any]:
    get = obs.get
    usage = get("usageDetails") or {}
    cost = get("costDetails") or {}
    return {
        "id": obs["id"],
        "trace_id": get("traceId"),
        "parent_observation_id": get("parentObservationId"),
        "type": get("type"),
        "name": get("name"),
        "timestamp": get("startTime"),
        "start_time": get("startTime"),
        "end_time": get("endTime"),
        "completion_start_time": get("completionStartTime"),
        "latency": get("latency"),
        "time_to_first_token": get("timeToFirstToken"),
        "level": get("level"),
        "status_message": get("statusMessage"),
        "model": get("model"),
        "input_tokens": usage.get("input"),
        "output_tokens": usage.get("output"),
        "total_tokens": usage.get("total"),
        "input_cost": cost.get("input", get("calculatedInputCost")),
        "output_cost": cost.get("output", get("calculatedOutputCost")),
        "total_cost": cost.get("total", get("calculatedTotalCost")),
        "prompt_name": get("promptName"),
        "prompt_version": get("promptVersion"),
        "environment": get("environment"),
        "version": get("version"),
        "input": get("input"),
        "output": get("output"),
        "metadata": get("metadata"),
        "usage_details": get("usageDetails"),
        "cost_details": get("costDetails"),
        "raw": obs,
    }


def _score_row(score: dict[str, Any]) -> dict[str, Any]:
    get = score.get
    return {
        "id": score["id"],
        "trace_id": get("traceId"),
        "observation_id": get("observationId"),
        "session_id": get("sessionId"),
        "dataset_run_id": get("datasetRunId"),
        "timestamp": get("timestamp"),
        "name": get("name"),
        "value": get("value"),
        "string_value": get("stringValue"),
        "data_type": get("dataType"),
        "source": get("source"),
        "comment": get("comment"),
        "config_id": get("configId"),
        "environment": get("environment"),
        "metadata": get("metadata"),
        "raw": score,
    }


def _session_row(session: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": session["id"],
        "timestamp": session.get("createdAt"),
        "environment": session.get("environment"),
        "raw": session,
    }


# ---- the endpoint table ---------------------------------------------------------------------------------

# fmt: off
TRACES = _Endpoint(
    "trace", "list", TraceFilters, _trace_row,
    ("id", "timestamp", "name", "user_id", "session_id", "tags", "environment", "release", "version",
     "latency", "total_cost", "observation_count", "input", "output", "metadata", "raw"),
    fixed={"order_by": "timestamp.desc", "fields": _TRACE_FIELDS},
)
OBSERVATIONS = _Endpoint(
    "observations", "get_many", ObservationFilters, _observation_row,
    ("id", "trace_id", "parent_observation_id", "type", "name", "timestamp", "start_time", "end_time",
     "completion_start_time", "latency", "time_to_first_token", "level", "status_message", "model",
     "input_tokens", "output_tokens", "total_tokens", "input_cost", "output_cost", "total_cost",
     "prompt_name", "prompt_version", "environment", "version", "input", "output", "metadata",
     "usage_details", "cost_details", "raw"),
    time_columns=("timestamp", "start_time", "end_time", "completion_start_time"),
    renamed={"from_timestamp": "from_start_time", "to_timestamp": "to_start_time"},
)
SCORES = _Endpoint(
    "score_v_2", "get", ScoreFilters, _score_row,
    ("id", "trace_id", "observation_id", "session_id", "dataset_run_id", "timestamp", "name", "value",
     "string_value", "data_type", "source", "comment", "config_id", "environment", "metadata", "raw"),
)
SESSIONS = _Endpoint(
    "sessions", "list", SessionFilters, _session_row, ("id", "timestamp", "environment", "raw")
)
# fmt: on


# ---- frames ---------------------------------------------------------------------------------------------


def to_frame(rows: list[dict[str, Any]], query: _Query, *, raw: bool) -> pandas.DataFrame:
    import pandas as pd

    frame = pd.DataFrame.from_records(rows, columns=list(query.endpoint.columns))
    if not raw:
        frame = frame.drop(columns=["raw"])
    for column in query.endpoint.time_columns:
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def scores_pivot(scores: list[dict[str, Any]], trace_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{column: {trace_id: value}}``: per trace and score name, the newest score (categorical: its label).

    Scores on the trace itself win over scores on one of its observations (experiments score the item's
    root observation); within each kind, the newest wins.
    """
    wanted = set(trace_ids)

    def rank(score: dict[str, Any]) -> tuple[bool, dt.datetime]:
        return score["observation_id"] is None, _as_datetime(score["timestamp"])

    out: dict[str, dict[str, Any]] = {}
    for score in sorted((s for s in scores if s["trace_id"] in wanted), key=rank):  # the winner comes last
        value = score["string_value"] if score["data_type"] == "CATEGORICAL" else score["value"]
        out.setdefault(f"score_{score['name']}", {})[score["trace_id"]] = value
    return out


def with_scores(frame: pandas.DataFrame, pivot: Mapping[str, Mapping[str, Any]]) -> pandas.DataFrame:
    for column in sorted(pivot):
        frame[column] = frame["id"].map(pivot[column])
    return frame


def scores_for(traces: _Query, rows: list[dict[str, Any]]) -> _Query | None:
    """The score query that covers these traces: every score since the oldest of them, same environment.

    The v2 score list filters by one trace id at a time, so a time window (scores come after their trace)
    costs a few pages instead of one request per trace.
    """
    if not rows:
        return None
    oldest = min(_as_datetime(row["timestamp"]) for row in rows)
    filters: ScoreFilters = {"from_timestamp": oldest, "environment": traces.params.get("environment")}
    return SCORES.query(filters, "trace scores")


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


# ---- the client's methods ----------------------------------------------------------------------------


class AnalysisMixin:
    """``traces_df``, ``observations_df``, ``scores_df``, ``sessions_df`` and their ``*_async`` twins.

    Filters are keyword arguments named as the reference's ``api`` client names them (see `TraceFilters`
    & co.); ``progress`` shows a bar (None: automatic), ``raw=True`` keeps the API object in a ``raw`` column.
    """

    api: LangfuseAPI
    async_api: AsyncLangfuseAPI

    @public_signature
    def traces_df(
        self,
        *,
        scores: bool = True,
        progress: bool | None = None,
        raw: bool = False,
        **filters: Unpack[TraceFilters],
    ) -> pandas.DataFrame:
        """Traces, newest first: id, timestamp, name, user/session, tags, environment, release, version,
        latency (s), total_cost, observation_count, input, output, metadata, and ``score_<name>`` columns
        (the newest score of each name on the trace; ``scores=False`` skips fetching them)."""
        query = TRACES.query(filters, "traces")
        rows = fetch_rows(self.api, query, progress)
        score_query = scores_for(query, rows) if scores else None
        score_rows = fetch_rows(self.api, score_query, progress) if score_query else []
        return _traces_frame(rows, score_rows, query, raw)

    @public_signature
    async def traces_df_async(
        self,
        *,
        scores: bool = True,
        progress: bool | None = None,
        raw: bool = False,
        **filters: Unpack[TraceFilters],
    ) -> pandas.DataFrame:
        """The asyncio twin of `traces_df`."""
        query = TRACES.query(filters, "traces")
        rows = await fetch_rows_async(self.async_api, query, progress)
        score_query = scores_for(query, rows) if scores else None
        score_rows = await fetch_rows_async(self.async_api, score_query, progress) if score_query else []
        return _traces_frame(rows, score_rows, query, raw)

    @public_signature
    def observations_df(
        self, *, progress: bool | None = None, raw: bool = False, **filters: Unpack[ObservationFilters]
    ) -> pandas.DataFrame:
        """Observations, newest first, with latency, tokens (input/output/total) and cost columns."""
        query = OBSERVATIONS.query(filters, "observations")
        return to_frame(fetch_rows(self.api, query, progress), query, raw=raw)

    @public_signature
    async def observations_df_async(
        self, *, progress: bool | None = None, raw: bool = False, **filters: Unpack[ObservationFilters]
    ) -> pandas.DataFrame:
        """The asyncio twin of `observations_df`."""
        query = OBSERVATIONS.query(filters, "observations")
        return to_frame(await fetch_rows_async(self.async_api, query, progress), query, raw=raw)

    @public_signature
    def scores_df(
        self, *, progress: bool | None = None, raw: bool = False, **filters: Unpack[ScoreFilters]
    ) -> pandas.DataFrame:
        """Scores, newest first: value, string_value (categorical/boolean label), targets, source."""
        query = SCORES.query(filters, "scores")
        return to_frame(fetch_rows(self.api, query, progress), query, raw=raw)

    @public_signature
    async def scores_df_async(
        self, *, progress: bool | None = None, raw: bool = False, **filters: Unpack[ScoreFilters]
    ) -> pandas.DataFrame:
        """The asyncio twin of `scores_df`."""
        query = SCORES.query(filters, "scores")
        return to_frame(await fetch_rows_async(self.async_api, query, progress), query, raw=raw)

    @public_signature
    def sessions_df(
        self, *, progress: bool | None = None, raw: bool = False, **filters: Unpack[SessionFilters]
    ) -> pandas.DataFrame:
        """Sessions, newest first (id, timestamp = creation time, environment)."""
        query = SESSIONS.query(filters, "sessions")
        return to_frame(fetch_rows(self.api, query, progress), query, raw=raw)

    @public_signature
    async def sessions_df_async(
        self, *, progress: bool | None = None, raw: bool = False, **filters: Unpack[SessionFilters]
    ) -> pandas.DataFrame:
        """The asyncio twin of `sessions_df`."""
        query = SESSIONS.query(filters, "sessions")
        return to_frame(await fetch_rows_async(self.async_api, query, progress), query, raw=raw)


def _traces_frame(
    rows: list[dict[str, Any]], score_rows: list[dict[str, Any]], query: _Query, raw: bool
) -> pandas.DataFrame:
    frame = to_frame(rows, query, raw=raw)
    return with_scores(frame, scores_pivot(score_rows, frame["id"])) if score_rows else frame


__all__ = ["AnalysisMixin", "ObservationFilters", "ScoreFilters", "SessionFilters", "TraceFilters"]
