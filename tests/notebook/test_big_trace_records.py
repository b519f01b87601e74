"""The notebook's trace reads give the same records as before the fast paths.

``old_*`` below is the conversion as it was (models validated, then read field by field); the new
readers (`from_api` on models and dicts, and `trace_records_from_json` on the raw answer with its fallback
to the models) must give records equal to it, field by field and type by type.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from langfuse_nb.api import NotFoundError
from langfuse_nb.api._http import send_raw
from langfuse_nb.api._spec import parse
from langfuse_nb.notebook import commands
from langfuse_nb.views.records import (
    ObservationRecord,
    from_api,
    trace_records_from_api,
    trace_records_from_json,
)
from langfuse_nb.wire.models import TraceWithFullDetails

# ---- the conversion before this change (kept verbatim as the golden) ---------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def old_epoch_ns(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - _EPOCH) // timedelta(microseconds=1) * 1000


def old_get(obj: Any, *names: str) -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def old_from_api(obs: Any, trace_name: str | None = None) -> ObservationRecord:
    metadata = old_get(obs, "metadata")
    usage = old_get(obs, "usage_details", "usageDetails")
    return ObservationRecord(
        id=str(old_get(obs, "id")),
        trace_id=str(old_get(obs, "trace_id", "traceId")),
        name=str(old_get(obs, "name") or ""),
        type=str(old_get(obs, "type") or "SPAN").lower(),
        parent_id=old_get(obs, "parent_observation_id", "parentObservationId"),
        start_ns=old_epoch_ns(old_get(obs, "start_time", "startTime")) or 0,
        end_ns=old_epoch_ns(old_get(obs, "end_time", "endTime")),
        level=str(getattr(old_get(obs, "level"), "value", old_get(obs, "level")) or "DEFAULT"),
        status_message=old_get(obs, "status_message", "statusMessage"),
        model=old_get(obs, "model"),
        usage=dict(usage) if isinstance(usage, Mapping) and usage else None,
        cost=old_api_cost(obs),
        input=old_get(obs, "input"),
        output=old_get(obs, "output"),
        metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
        trace_name=trace_name,
    )


def old_api_cost(obs: Any) -> dict[str, Any] | None:
    details = old_get(obs, "cost_details", "costDetails")
    if isinstance(details, Mapping) and details:
        return dict(details)
    total = old_get(obs, "calculated_total_cost", "calculatedTotalCost", "total_cost", "totalCost")
    return {"total": total} if isinstance(total, int | float) and total > 0 else None


def old_trace_records_from_api(trace: Any) -> list[ObservationRecord]:
    name = old_get(trace, "name")
    return [old_from_api(obs, name) for obs in (old_get(trace, "observations") or [])]


def old_notebook_records(data: Any) -> list[ObservationRecord]:
    """What ``trace_records`` did with a server answer: validate the models, then convert."""
    return old_trace_records_from_api(parse(TraceWithFullDetails, data))


def new_notebook_records(data: Any) -> list[ObservationRecord]:
    """What `commands.server_records` does with the decoded answer."""
    records = trace_records_from_json(data)
    return old_trace_records_from_api(parse(TraceWithFullDetails, data)) if records is None else records


# ---- strict comparison -------------------------------------------------------------------------------------


def shape(value: Any) -> Any:
    if isinstance(value, ObservationRecord):
        return ("record", [(key, shape(val)) for key, val in vars(value).items()])
    if isinstance(value, dict):
        return ("dict", [(key, shape(val)) for key, val in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [shape(val) for val in value])
    if isinstance(value, float):
        return ("float", value.hex() if value == value else "nan")
    return (type(value).__name__, value)


def outcome(convert: Any, data: Any) -> Any:
    try:
        return ("records", shape(convert(data)))
    except Exception as exc:  # noqa: BLE001 - the same failure is what is compared
        return ("error", type(exc).__name__)


# ---- a realistic trace on a real server: every kind of field -----------------------------------------------


def _ingest_legacy(client: Any, trace_id: str) -> None:
    """Observations only the ingestion API makes: no end time, integer cost details, snake-free extras."""
    settings = client._settings
    now = datetime.now(timezone.utc)
    events = [
        {
            "id": uuid.uuid4().hex,
            "timestamp": now.isoformat(),
            "type": "generation-create",
            "body": {
                "id": f"legacy-{kind}",
                "traceId": trace_id,
                "name": f"legacy {kind}",
                "startTime": (now + timedelta(milliseconds=n)).isoformat(),
                "model": "gpt-4o-mini",
                "usageDetails": {"input": 7, "output": 3},
                "costDetails": {"input": 1, "output": 0.5} if kind == "costed" else None,
                "level": "WARNING",
                "statusMessage": "slow",
                "metadata": ["not", "a", "dict"],
                "input": 42,
            },
        }
        for n, kind in enumerate(("running", "costed"))
    ]
    answer = httpx.post(
        f"{settings.base_url}/api/public/ingestion",
        json={"batch": events},
        auth=(settings.public_key, settings.secret_key),
        timeout=10,
    )
    assert answer.status_code in (200, 207), answer.text


def _make_trace(client: Any, children: int) -> str:
    with client.start_as_current_observation(
        name="root ü", input={"question": "why?", "n": 3}, output="because", metadata={"k": [1, 2.5, None]}
    ) as root:
        client.update_current_trace(name="big trace", user_id="u1", tags=["t"])
        for i in range(children):
            kind = ["generation", "span", "tool", "event", "agent", "retriever", "chain", "embedding"][i % 8]
            if kind == "event":
                client.create_event(name=f"event {i}", output={"i": i}, level="DEBUG")
                continue
            extra: dict[str, Any] = {}
            if kind in ("generation", "embedding"):
                extra = {"model": "gpt-4o", "usage_details": {"input": 10 + i, "output": i}}
                if i % 3 == 0:
                    extra["cost_details"] = {"total": 0.001 * i}
            with client.start_as_current_observation(
                name=f"{kind} {i}", as_type=kind, input=[{"role": "user", "content": f"q{i}"}], **extra
            ) as obs:
                if i % 5 == 0:
                    obs.update(level="ERROR", status_message=f"boom {i}", output=None)
                else:
                    obs.update(output={"answer": i, "unicode": "ß😀"}, metadata={"step": i})
    client.flush()
    return str(root.trace_id)


def _wait_for(client: Any, trace_id: str, count: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        with contextlib.suppress(NotFoundError):
            data = send_raw(client.api.trace, "get", trace_id)
            if len(data["observations"]) >= count or time.monotonic() > deadline:
                return dict(data)
        time.sleep(0.1)


@pytest.fixture
def big_trace(lf: Any) -> tuple[Any, str, dict[str, Any]]:
    trace_id = _make_trace(lf, children=60)
    _ingest_legacy(lf, trace_id)
    return lf, trace_id, _wait_for(lf, trace_id, 61 + 2)


def test_server_records_equal_the_old_conversion(big_trace: tuple[Any, str, dict[str, Any]]) -> None:
    client, trace_id, data = big_trace
    model = client.api.trace.get(trace_id)
    golden = old_trace_records_from_api(model)
    assert len(golden) == len(data["observations"]) >= 63
    kinds = {(r.type, r.level, r.end_ns is None, bool(r.cost), bool(r.usage)) for r in golden}
    assert len(kinds) >= 10, kinds  # the trace exercises many field combinations
    assert any(r.cost and "total" in r.cost and len(r.cost) == 1 for r in golden)  # server-priced
    assert trace_records_from_json(data) is not None  # the fast reader took this answer
    for records in (
        commands.server_records(client, trace_id, commands.REQUEST),
        trace_records_from_json(data),
        trace_records_from_api(model),
        [from_api(obs, model.name) for obs in model.observations],
    ):
        assert shape(records) == shape(golden)
    assert shape(trace_records_from_api(data)) == shape(old_trace_records_from_api(data))  # dicts as before


def test_add_server_costs_still_fills_computed_costs(big_trace: tuple[Any, str, dict[str, Any]]) -> None:
    client, trace_id, _data = big_trace
    golden = old_trace_records_from_api(client.api.trace.get(trace_id))
    bare = [copy.copy(r) for r in golden]
    for rec in bare:
        rec.cost = None
    commands.add_server_costs(client, bare)
    priced = {r.id: r.cost for r in golden if r.type in commands.PRICED_TYPES and r.usage and r.cost}
    assert priced and {r.id: r.cost for r in bare if r.id in priced} == priced


# ---- answers the fast reader must hand to the models -------------------------------------------------------


def _base_answer() -> dict[str, Any]:
    observation = {
        "id": "o1",
        "traceId": "t" * 32,
        "type": "GENERATION",
        "name": "llm",
        "startTime": "2024-05-01T10:00:00.123456Z",
        "endTime": "2024-05-01T10:00:01.500+02:00",
        "level": "DEFAULT",
        "statusMessage": None,
        "parentObservationId": "o0",
        "model": "gpt-4o",
        "input": [{"role": "user", "content": "hi"}],
        "output": "hello",
        "metadata": {"a": 1},
        "usageDetails": {"input": 3, "output": 4},
        "costDetails": {},
        "calculatedTotalCost": 0.25,
        "latency": 1.0,
    }
    return {
        "id": "t" * 32,
        "timestamp": "2024-05-01T10:00:00Z",
        "name": "trace",
        "htmlPath": "/t",
        "latency": 1.0,
        "totalCost": 0.25,
        "scores": [],
        "observations": [observation, {**observation, "id": "o0", "parentObservationId": None}],
    }


ODD_VALUES: list[Any] = [
    None, 0, 1, -1, 2**60, 2**70, 1.0, 2.5, -0.0, float("nan"), float("inf"), True, False, "", "x", "5",
    "2.5", "DEFAULT", "ERROR", "error", [], {}, {"a": 1}, {"a": 1.0}, {"a": True}, {"a": "1"}, {"a": 2**60},
    {"a": None}, {"a": 1, "b": None}, {"a": float("nan")}, ["x"],
    "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.1234567Z", "2024-05-01 10:00:00Z", "2024-05-01",
    "2024-05-01T10:00:00+0200", "2024-05-01T10:00:00+02", "2024-02-30T10:00:00Z", "2024-05-01T24:00:00Z",
    "2024-05-01T10:00Z", "2024-05-01t10:00:00z", "20240501T100000Z", "2024-05-01T10:00:60Z", 1714557600,
    "2024-05-01T10:00:00,5Z", "2024-05-01T10:00:00.5-00:00",
]  # fmt: skip
# what the view reads of an observation, and the snake_case names the models would read in their place
# (a field the view does not draw is not validated by the fast reader: see trace_records_from_json)
FIELDS = [
    "id", "traceId", "type", "name", "startTime", "endTime", "level", "statusMessage", "parentObservationId",
    "model", "input", "output", "metadata", "usageDetails", "costDetails", "calculatedTotalCost",
    "total_cost", "totalCost", "trace_id", "start_time", "usage_details", "cost_details",
    "calculated_total_cost",
]  # fmt: skip


def _mutated(rng: random.Random) -> Any:
    answer = _base_answer()
    for _ in range(rng.randrange(1, 4)):
        observations = answer.get("observations")
        items = observations if isinstance(observations, list) else []
        target = rng.choice([answer, *(item for item in items if isinstance(item, dict))])
        key = rng.choice(["name", "observations"] if target is answer else FIELDS)
        roll = rng.random()
        if roll < 0.15:
            target.pop(key, None)
        elif roll < 0.3:  # a details-like dict whose entries are odd
            target[key] = {rng.choice(["total", "input", "a"]): rng.choice(ODD_VALUES) for _ in range(2)}
        else:
            target[key] = copy.deepcopy(rng.choice(ODD_VALUES))
    return answer if rng.random() > 0.02 else rng.choice([[], "x", None, answer.get("observations")])


@pytest.mark.parametrize("seed", [15, 1, 2])
def test_unusual_answers_give_what_the_models_give(seed: int) -> None:
    """Random odd values in every field read: the same records, or the same validation error."""
    rng = random.Random(seed)
    taken = 0
    for _ in range(3000):
        data = _mutated(rng)
        taken += trace_records_from_json(copy.deepcopy(data)) is not None
        assert outcome(new_notebook_records, data) == outcome(old_notebook_records, data), json.dumps(
            data, default=repr
        )
    assert 0 < taken < 3000  # both paths were exercised


def test_plain_answer_takes_the_fast_reader_and_matches() -> None:
    data = _base_answer()
    records = trace_records_from_json(data)
    assert records is not None
    assert shape(records) == shape(old_notebook_records(data))
    assert records[0].cost == {"total": 0.25} and records[0].end_ns == 1714550401500000000


SNAKE = {
    "trace_id": "traceId",
    "start_time": "startTime",
    "end_time": "endTime",
    "status_message": "statusMessage",
    "parent_observation_id": "parentObservationId",
    "usage_details": "usageDetails",
    "cost_details": "costDetails",
    "calculated_total_cost": "calculatedTotalCost",
}
SNAKE_VALUES = {
    "trace_id": "other-trace",
    "start_time": "2020-01-01T00:00:00Z",
    "end_time": "2020-01-01T00:00:01Z",
    "status_message": "by name",
    "parent_observation_id": "p9",
    "usage_details": {"input": 99},
    "cost_details": {"total": 9.5},
    "calculated_total_cost": 7.0,
}


@pytest.mark.parametrize("snake", sorted(SNAKE))
def test_snake_case_keys_are_read_as_the_models_read_them(snake: str) -> None:
    for drop_alias in (True, False):
        data = _base_answer()
        observation = data["observations"][0]
        if drop_alias:
            observation.pop(SNAKE[snake])
        if snake == "calculated_total_cost":
            observation["costDetails"] = None
        observation[snake] = SNAKE_VALUES[snake]
        assert outcome(new_notebook_records, data) == outcome(old_notebook_records, data)


def test_cloud_configured_client_reads_the_same_records() -> None:
    """The raw read goes through the client's own REST stack (base URL, auth, options) to Langfuse Cloud."""
    import types

    from langfuse_nb.api import LangfuseAPI

    answer = _base_answer()
    for obs in answer["observations"]:  # Cloud's spelling: milliseconds, extra fields, integer costs
        obs.update(startTime="2024-05-01T10:00:00.123Z", endTime="2024-05-01T10:00:02.000Z", projectId="p")
        obs.update(costDetails={"input": 0, "output": 1}, unit="TOKENS", promptTokens=3)
    seen: list[httpx.Request] = []

    def cloud(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer)

    api = LangfuseAPI(
        base_url="https://cloud.langfuse.com",
        username="pk-lf-cloud",
        password="sk-lf-cloud",
        httpx_client=httpx.Client(transport=httpx.MockTransport(cloud)),
    )
    client = types.SimpleNamespace(api=api)
    records = commands.server_records(client, "t" * 32, commands.REQUEST)
    assert str(seen[0].url) == "https://cloud.langfuse.com/api/public/traces/" + "t" * 32
    assert seen[0].headers["authorization"].startswith("Basic ")
    assert seen[0].extensions["timeout"]["read"] == commands.REQUEST["timeout_in_seconds"]
    assert trace_records_from_json(answer) is not None
    assert shape(records) == shape(old_notebook_records(answer))
    assert records[0].cost == {"input": 0.0, "output": 1.0}


def test_models_with_their_own_attribute_rules_are_read_as_before() -> None:
    """from_api reads our models' fields as a dict; other models keep the attribute reads."""
    import pydantic

    class Custom(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="allow")
        id: str = "c1"

        def __getattr__(self, name: str) -> Any:
            return f"made-up {name}" if name.startswith("status") else None

    class WithProperty(pydantic.BaseModel):
        id: str = "p1"

        @property
        def model(self) -> str:
            return "from a property"

    observation = parse(TraceWithFullDetails, _base_answer()).observations[0]
    custom = Custom.model_validate({"startTime": "2024-01-01T00:00:00Z", "usageDetails": {"a": 1}})
    for obs in (custom, WithProperty(), observation):
        assert shape(from_api(obs, "n")) == shape(old_from_api(obs, "n"))


# ---- records from this kernel's spans ----------------------------------------------------------------------


def old_maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


ATTRIBUTE_TEXTS = [
    "", "{", "[", "{}", "[]", " {}", "{} ", "{}\n\t\r ", "{} x", "[1] [2]", '{"a": 1}', '{"a": 1,}', "[1,]",
    "[NaN, Infinity, -Infinity]", "[1e400]", "[123456789012345678901234567890]", '["\\ud800"]',
    '{"a":1,"a":2}',
    "[" * 50 + "]" * 50, "[" * 3000 + "]" * 3000, '{"a": "\x00"}', "[1]\x0c", "[1]\u00a0", "{'a': 1}",
    '{"ü": "ß 😀"}', "plain text", "[not json", '{"a": [1, 2.5e-7, true, false, null]}  ', "[\ufeff]",
]  # fmt: skip


def test_attribute_json_is_read_as_json_loads_reads_it() -> None:
    rng = random.Random(5)
    texts = list(ATTRIBUTE_TEXTS)
    for _ in range(2000):  # random cuts and splices of the texts above
        a, b = rng.choice(ATTRIBUTE_TEXTS), rng.choice(ATTRIBUTE_TEXTS)
        texts.append(a[: rng.randrange(len(a) + 1)] + b[rng.randrange(len(b) + 1) :])
    from langfuse_nb.views import records

    for text in texts:
        assert outcome(records._maybe_json, text) == outcome(old_maybe_json, text), text[:80]
    assert records._maybe_json(42) == 42 and records._maybe_json(None) is None


def test_span_records_are_unchanged(lf: Any) -> None:
    from langfuse_nb.tracing.recorder import add_span_listener, remove_span_listener
    from langfuse_nb.views import records

    spans: list[Any] = []
    add_span_listener(spans.append)
    try:
        _make_trace(lf, children=24)
    finally:
        remove_span_listener(spans.append)
    assert len(spans) >= 22
    new = [records.from_span(span) for span in spans]
    saved = records._maybe_json
    records._maybe_json = old_maybe_json  # type: ignore[assignment]
    try:
        old = [records.from_span(span) for span in spans]
    finally:
        records._maybe_json = saved  # type: ignore[assignment]
    assert shape(new) == shape(old)
    assert any(isinstance(r.input, list) for r in new) and any(r.usage for r in new)
