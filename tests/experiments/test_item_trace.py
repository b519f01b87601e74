"""The root span of an experiment item, written in one closing write: every attribute it carried when
they were set at creation, after the task and on failure; and the score stamp's format."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from langfuse_nb.sdk.scores import utc_now_text
from langfuse_nb.sdk.serialize import serialize_datetime
from langfuse_nb.tracing.recorder import add_span_listener, remove_span_listener
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def ended() -> Iterator[list[Any]]:
    """Every span this process ends while the test runs."""
    spans: list[Any] = []
    add_span_listener(spans.append)
    yield spans
    remove_span_listener(spans.append)


def _roots(spans: list[Any], run_name: str) -> dict[str, dict[str, Any]]:
    """Root spans of one run, by their expected output."""
    return {
        str(span.attributes.get(A.EXPERIMENT_ITEM_EXPECTED_OUTPUT)): dict(span.attributes)
        for span in spans
        if span.name == "experiment-item-run" and span.attributes.get(A.EXPERIMENT_DESCRIPTION) == run_name
    }


def _task(*, item: Any, **_: Any) -> Any:
    if item["input"] == "boom":
        raise ValueError("task failed")
    return item["input"].upper() if isinstance(item["input"], str) else {"echo": item["input"]}


def test_root_span_attributes_of_plain_structured_failed_and_skipped_items(lf: Any, ended: list[Any]) -> None:
    run = f"attrs-{uuid.uuid4().hex[:8]}"
    data = [
        {"input": "abc", "expected_output": "ABC"},
        {"input": {"q": 1}, "expected_output": {"a": 1}, "metadata": {"tag": "x"}},
        {"input": "boom", "expected_output": "never"},
        {"expected_output": "no input"},
    ]
    lf.run_experiment(
        name="attrs", run_name=run, description=run, data=data, task=_task, metadata={"m": 1}, progress=False
    )
    lf.flush()
    roots = _roots(ended, run)
    assert set(roots) == {"ABC", '{"a": 1}', "never", "no input"}
    for attributes in roots.values():  # what the span was created with, on every item however it ended
        assert attributes[A.OBSERVATION_TYPE] == "span"
        assert attributes[A.EXPERIMENT_DESCRIPTION] == run
        assert A.EXPERIMENT_ITEM_EXPECTED_OUTPUT in attributes
    plain, structured, failed = roots["ABC"], roots['{"a": 1}'], roots["never"]
    assert plain[A.OBSERVATION_OUTPUT] == "ABC" and plain[A.ENVIRONMENT] == "sdk-experiment"
    assert plain[f"{A.OBSERVATION_METADATA}.m"] == 1
    assert plain[f"{A.OBSERVATION_METADATA}.experiment_run_name"] == run
    assert plain[A.OBSERVATION_INPUT] == "abc" and structured[A.OBSERVATION_INPUT] == '{"q": 1}'
    assert structured[A.OBSERVATION_OUTPUT] == '{"echo": {"q": 1}}'
    assert structured[f"{A.OBSERVATION_METADATA}.tag"] == "x"  # the item's own metadata joins the run's
    assert structured[A.EXPERIMENT_ITEM_METADATA] == '{"tag": "x"}'
    assert failed[A.OBSERVATION_OUTPUT] == "Error: task failed" and failed[A.OBSERVATION_LEVEL] == "ERROR"
    assert failed[A.ENVIRONMENT] == "sdk-experiment" and A.EXPERIMENT_ITEM_ID in failed  # propagated
    skipped = roots["no input"]
    assert A.EXPERIMENT_ITEM_ID not in skipped  # failed before its attributes were propagated
    assert skipped[A.OBSERVATION_LEVEL] == "ERROR"


def test_a_mask_still_sees_the_root_span_input_output_and_metadata(server: Any, ended: list[Any]) -> None:
    from langfuse_nb import Langfuse

    def mask(*, data: Any, **_: Any) -> Any:
        return "MASKED" if isinstance(data, str) else {"masked": True}

    client = Langfuse(
        base_url=server.url,
        public_key=f"pk-lf-{uuid.uuid4().hex[:10]}",
        secret_key="sk-lf-mask",
        mask=mask,
    )
    run = f"mask-{uuid.uuid4().hex[:8]}"
    try:
        client.run_experiment(
            name="mask", run_name=run, data=[{"input": "secret"}], task=_task, progress=False
        )
        client.flush()
    finally:
        client.shutdown(timeout=5)  # a second registered client would leave later tests' get_client() keyless
    (root,) = [
        dict(span.attributes)
        for span in ended
        if span.name == "experiment-item-run" and span.attributes.get(A.EXPERIMENT_NAME) == run
    ]
    assert root[A.OBSERVATION_INPUT] == "MASKED" and root[A.OBSERVATION_OUTPUT] == "MASKED"
    assert root[f"{A.OBSERVATION_METADATA}.masked"] is True
    assert f"{A.OBSERVATION_METADATA}.experiment_name" not in root


def test_utc_now_text_is_serialize_datetime_of_now() -> None:
    before = serialize_datetime(dt.datetime.now(dt.timezone.utc))
    stamp = utc_now_text()
    after = serialize_datetime(dt.datetime.now(dt.timezone.utc))
    assert before[:19] <= stamp[:19] <= after[:19]
    assert stamp.endswith("Z") and len(stamp) in (20, 27)
    parsed = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert serialize_datetime(parsed) == stamp  # same text for the same instant, whole seconds included


def test_utc_now_text_of_a_whole_second_has_no_fraction(monkeypatch: pytest.MonkeyPatch) -> None:
    import langfuse_nb.sdk.scores as scores

    monkeypatch.setattr(scores.time, "time_ns", lambda: 1_700_000_000 * 10**9)
    assert utc_now_text() == serialize_datetime(dt.datetime.fromtimestamp(1_700_000_000, dt.timezone.utc))
    monkeypatch.setattr(scores.time, "time_ns", lambda: 1_700_000_000 * 10**9 + 5_000)
    assert utc_now_text() == "2023-11-14T22:13:20.000005Z"
