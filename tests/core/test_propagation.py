"""propagate_attributes and the internal propagate_span_attributes."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from langfuse_nb import observe, propagate_attributes
from langfuse_nb.sdk.context import propagate_span_attributes
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A


def test_values_reach_current_and_new_spans_but_not_older_ones(lf: Any) -> None:
    client = lf.client()
    with client.start_as_current_span(name="root"):
        early = client.start_span(name="early")
        with propagate_attributes(
            user_id="u", session_id="s", version="v", tags=["t1"], metadata={"k": "v"}, trace_name="tn"
        ):
            client.start_span(name="inside").end()
        early.end()
        client.start_span(name="after").end()
    expected = {
        A.TRACE_USER_ID: "u",
        A.TRACE_SESSION_ID: "s",
        A.VERSION: "v",
        A.TRACE_TAGS: ["t1"],
        "langfuse.trace.metadata.k": "v",
        A.TRACE_NAME: "tn",
    }
    spans = {s["name"]: s["attributes"] for s in lf.spans(client)}
    for name in ("root", "inside"):
        assert expected.items() <= spans[name].items(), name
    for name in ("early", "after"):
        assert A.TRACE_USER_ID not in spans[name]


def test_nested_merge_tags_and_metadata(lf: Any) -> None:
    client = lf.client()
    with (
        propagate_attributes(tags=["a", "b"], metadata={"x": "1", "y": "1"}, user_id="outer"),
        propagate_attributes(tags=["b", "c"], metadata={"y": "2"}, user_id="inner"),
    ):
        client.start_span(name="n").end()
    a = lf.span(client, "n")["attributes"]
    assert a[A.TRACE_TAGS] == ["a", "b", "c"]
    assert a["langfuse.trace.metadata.x"] == "1" and a["langfuse.trace.metadata.y"] == "2"
    assert a[A.TRACE_USER_ID] == "inner"


def test_duplicate_tags_are_dropped_at_every_level(lf: Any) -> None:
    client = lf.client()
    with client.start_as_current_span(name="outer"), propagate_attributes(tags=["a", "a", "b"]):
        client.start_span(name="inner").end()
    spans = {s["name"]: s["attributes"] for s in lf.spans(client)}
    assert spans["outer"][A.TRACE_TAGS] == ["a", "b"] == spans["inner"][A.TRACE_TAGS]


def test_invalid_values_dropped_with_warning_f9(lf: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = lf.client()
    with (
        caplog.at_level(logging.WARNING, logger="langfuse_nb"),
        propagate_attributes(
            user_id="ü-nicode",
            session_id="x" * 201,
            version=3,
            tags=["ok", "ä", "y" * 300],  # type: ignore[arg-type]
            metadata={"good": "1", "bad": "é"},
        ),
    ):
        client.start_span(name="v").end()
    a = lf.span(client, "v")["attributes"]
    assert A.TRACE_USER_ID not in a and A.TRACE_SESSION_ID not in a and A.VERSION not in a
    assert a[A.TRACE_TAGS] == ["ok"]
    assert a["langfuse.trace.metadata.good"] == "1" and "langfuse.trace.metadata.bad" not in a
    assert len([r for r in caplog.records if "Dropping value." in r.getMessage()]) == 6  # the reference text


def test_reaches_observe_children_and_third_party_spans(lf: Any) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider()
    client = lf.client(tracer_provider=provider)

    @observe
    def leaf() -> None:
        provider.get_tracer("lib").start_span("lib-span").end()

    with propagate_attributes(session_id="sess"):
        leaf()
    assert lf.span(client, "leaf")["attributes"][A.TRACE_SESSION_ID] == "sess"
    assert lf.sink.span("lib-span")["attributes"][A.TRACE_SESSION_ID] == "sess"


def test_baggage_round_trip_and_no_alias_f10(lf: Any) -> None:
    from opentelemetry import baggage
    from opentelemetry import context as context_api

    client = lf.client()
    with propagate_attributes(
        user_id="bu", metadata={"user_id": "not-an-alias"}, tags=["a", "b"], as_baggage=True
    ):
        entries = baggage.get_all()
        assert entries["langfuse_user_id"] == "bu"
        assert entries["langfuse_metadata_user_id"] == "not-an-alias"
    # a context carrying only baggage (e.g. from another service) still maps onto spans
    ctx = baggage.set_baggage("langfuse_session_id", "from-baggage")
    ctx = baggage.set_baggage("langfuse_metadata_user_id", "meta", ctx)
    token = context_api.attach(ctx)
    try:
        client.start_span(name="b").end()
    finally:
        context_api.detach(token)
    a = lf.span(client, "b")["attributes"]
    assert a[A.TRACE_SESSION_ID] == "from-baggage"
    assert a["langfuse.trace.metadata.user_id"] == "meta" and A.TRACE_USER_ID not in a


def test_internal_propagation_for_experiments_k9(lf: Any) -> None:
    client = lf.client(environment="dev")
    with (
        client.start_as_current_span(name="experiment-item-run") as root,
        propagate_span_attributes(
            {
                A.EXPERIMENT_ID: "exp",
                A.EXPERIMENT_NAME: "run",
                A.EXPERIMENT_ITEM_ROOT_OBSERVATION_ID: root.id,
            }
        ),
    ):
        client.start_span(name="task").end()
    task = lf.span(client, "task")["attributes"]
    assert task[A.EXPERIMENT_ID] == "exp" and task[A.EXPERIMENT_NAME] == "run"
    assert task[A.ENVIRONMENT] == "sdk-experiment"
    assert lf.span(client, "experiment-item-run")["attributes"][A.EXPERIMENT_ID] == "exp"


def test_propagation_outside_any_span_is_harmless() -> None:
    with propagate_attributes(user_id="u"):
        pass
