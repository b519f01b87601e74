"""traces_df / observations_df / scores_df / sessions_df against the real local server."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pandas as pd
import pytest

from langfuse_nb import Langfuse


@pytest.fixture
def populated(lf: Langfuse) -> dict[str, Any]:
    """Six traces across two users/sessions/environments-worth of filters, with generations and scores."""
    ids: dict[str, Any] = {"traces": []}
    for i in range(6):
        user = "alice" if i % 2 == 0 else "bob"
        with lf.start_as_current_span(name=f"job-{i % 3}", input={"i": i}) as span:
            span.update_trace(
                user_id=user,
                session_id=f"s-{i % 2}",
                tags=["df", f"n{i % 3}"],
                metadata={"team": user},
                version="v1",
            )
            with span.start_as_current_generation(
                name="llm",
                model="gpt-4o-mini",
                usage_details={"input": 10 * (i + 1), "output": 5},
                cost_details={"input": 0.001, "output": 0.002, "total": 0.003},
            ) as gen:
                gen.update(output="hi")
            span.update(output={"done": i})
            span.score_trace(name="quality", value=i / 10)
            span.score_trace(name="label", value="good" if i % 2 == 0 else "bad", data_type="CATEGORICAL")
            ids["traces"].append(span.trace_id)
    lf.flush()
    return ids


def test_traces_df_columns_filters_scores(lf: Langfuse, populated: dict[str, Any]) -> None:
    frame = lf.traces_df(progress=False)
    assert list(frame["id"]) == list(reversed(populated["traces"]))  # newest first
    assert pd.api.types.is_datetime64_any_dtype(frame["timestamp"])
    assert frame["observation_count"].tolist() == [2] * 6
    assert set(frame.columns) >= {"latency", "total_cost", "input", "output", "metadata", "tags"}
    assert frame.loc[frame["id"] == populated["traces"][3], "score_quality"].item() == pytest.approx(0.3)
    assert frame.loc[frame["id"] == populated["traces"][3], "score_label"].item() == "bad"
    assert frame["total_cost"].tolist() == pytest.approx([0.003] * 6)
    assert "raw" not in frame.columns and "raw" in lf.traces_df(raw=True).columns

    assert set(lf.traces_df(user_id="alice")["id"]) == set(populated["traces"][0::2])
    assert set(lf.traces_df(tags=["df", "n1"])["id"]) == {populated["traces"][1], populated["traces"][4]}
    assert set(lf.traces_df(name="job-2", session_id="s-1")["id"]) == {populated["traces"][5]}
    assert set(lf.traces_df(metadata={"team": "bob"})["id"]) == set(populated["traces"][1::2])
    assert len(lf.traces_df(version="v1", environment="default")) == 6
    assert len(lf.traces_df(release="other")) == 0 and len(lf.traces_df(environment="prod")) == 0
    capped = lf.traces_df(limit=4, scores=False)
    assert list(capped["id"]) == list(reversed(populated["traces"]))[:4]
    assert not any(c.startswith("score_") for c in capped.columns)
    later = lf.traces_df(from_timestamp=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))
    assert later.empty and "id" in later.columns


def test_observations_scores_sessions(lf: Langfuse, populated: dict[str, Any]) -> None:
    gens = lf.observations_df(type="GENERATION")
    assert len(gens) == 6 and set(gens["trace_id"]) == set(populated["traces"])
    assert sorted(gens["input_tokens"].tolist()) == [10, 20, 30, 40, 50, 60]
    assert gens["total_cost"].tolist() == pytest.approx([0.003] * 6)
    assert pd.api.types.is_datetime64_any_dtype(gens["start_time"])
    one = lf.observations_df(trace_id=populated["traces"][0])
    assert sorted(one["type"]) == ["GENERATION", "SPAN"]
    scores = lf.scores_df(name="quality")
    assert len(scores) == 6 and scores["value"].max() == pytest.approx(0.5)
    assert set(lf.scores_df(trace_id=populated["traces"][2])["name"]) == {"quality", "label"}
    assert lf.scores_df(data_type="CATEGORICAL")["string_value"].value_counts().to_dict() == {
        "good": 3,
        "bad": 3,
    }
    sessions = lf.sessions_df()
    assert set(sessions["id"]) == {"s-0", "s-1"}


def test_paging_many_pages_concurrently(lf: Langfuse) -> None:
    for i in range(230):
        lf.start_span(name=f"bulk-{i}").end()
    lf.flush()
    frame = lf.traces_df(scores=False, progress=False)
    assert len(frame) == 230 and frame["id"].is_unique
    assert len(lf.traces_df(limit=150, scores=False)) == 150
    assert len(lf.observations_df(limit=101)) == 101


def test_async_twins(lf: Langfuse, populated: dict[str, Any]) -> None:
    async def run() -> tuple[Any, ...]:
        return await asyncio.gather(
            lf.traces_df_async(),
            lf.observations_df_async(limit=3),
            lf.scores_df_async(),
            lf.sessions_df_async(),
        )

    traces, observations, scores, sessions = asyncio.run(run())
    assert list(traces["id"]) == list(reversed(populated["traces"]))
    assert "score_quality" in traces.columns
    assert len(observations) == 3 and len(scores) == 12 and len(sessions) == 2


def test_bad_filters_fail_with_one_line(lf: Langfuse) -> None:
    with pytest.raises(TypeError, match="unknown filter 'usr_id' for traces"):
        lf.traces_df(usr_id="x")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="limit must be a positive"):
        lf.scores_df(limit=0)


@pytest.mark.reference
def test_same_rows_as_the_reference_sdk_sees(lf: Langfuse, populated: dict[str, Any]) -> None:
    from langfuse import Langfuse as Reference

    settings = lf._settings
    ref = Reference(
        public_key=settings.public_key,
        secret_key=settings.secret_key,
        host=settings.base_url,
        tracing_enabled=False,
    )
    seen = ref.api.trace.list(user_id="bob", limit=50)
    assert {t.id for t in seen.data} == set(lf.traces_df(user_id="bob")["id"])
    observed = ref.api.observations.get_many(type="GENERATION", limit=50)
    assert {o.id for o in observed.data} == set(lf.observations_df(type="GENERATION")["id"])
    scored = ref.api.score_v_2.get(name="label", limit=50)
    assert {s.id for s in scored.data} == set(lf.scores_df(name="label")["id"])


def test_falls_back_to_cloud_sized_pages(lf: Langfuse, monkeypatch: pytest.MonkeyPatch) -> None:
    from langfuse_nb.server import query

    for i in range(120):
        lf.start_span(name=f"small-pages-{i}").end()
    lf.flush()
    monkeypatch.setattr(
        query, "MAX_LIMIT", 100
    )  # the in-thread server now refuses limit=1000 like a strict API
    frame = lf.traces_df(scores=False, progress=False)
    assert len(frame) == 120 and frame["id"].is_unique
