"""The annotation widget against the real local server: clicks, keys, validation, restart recovery."""

from __future__ import annotations

from typing import Any

import pytest

from langfuse_nb import Langfuse
from langfuse_nb.notebook.annotate import AnnotationError, AnnotationItem, score_id
from langfuse_nb.notebook.widgets.annotator import Annotator, annotate


@pytest.fixture
def setup(lf: Langfuse) -> dict[str, Any]:
    api = lf.api
    configs = {
        "quality": api.score_configs.create(
            request={"name": "quality", "dataType": "NUMERIC", "minValue": 0, "maxValue": 5}
        ),
        "tone": api.score_configs.create(
            request={
                "name": "tone",
                "dataType": "CATEGORICAL",
                "categories": [{"label": "polite", "value": 1}, {"label": "rude", "value": 0}],
            }
        ),
        "correct": api.score_configs.create(request={"name": "correct", "dataType": "BOOLEAN"}),
    }
    traces = []
    for i in range(20):
        with lf.start_as_current_span(name="qa", input={"question": f"q{i}"}, output=f"answer {i}") as span:
            traces.append(span.trace_id)
    lf.flush()
    return {"configs": configs, "traces": traces}


def _score_all(widget: Annotator, count: int) -> None:
    for _ in range(count):
        session = widget.session
        numeric = session.configs[0]
        widget.controls[numeric.id].value = 4  # type: ignore[attr-defined]
        [_label, _box, save, _bounds] = widget.config_box.children[0].children  # type: ignore[attr-defined]
        save.click()
        widget.controls[session.configs[1].id].children[1].click()  # type: ignore[attr-defined]  # "rude"
        widget.controls[session.configs[2].id].children[0].click()  # type: ignore[attr-defined]  # True


def _stored(lf: Langfuse) -> list[Any]:
    return lf.scores_df(limit=1000, progress=False).to_dict("records")


def test_twenty_items_three_configs_survive_a_restart(lf: Langfuse, setup: dict[str, Any]) -> None:
    widget = annotate("traces", limit=20, client=lf, configs=["quality", "tone", "correct"])
    assert len(widget.session.items) == 20 and widget.session.done_count == 0
    _score_all(widget, 10)
    assert widget.session.done_count == 10 and widget.session.position == 10

    # a new kernel: a new session finds the ten scored items by their stable score ids
    again = annotate("traces", limit=20, client=lf, configs=["quality", "tone", "correct"])
    assert again.session.done_count == 10
    assert not again.session.done(again.session.position)
    _score_all(again, 10)
    assert again.session.done_count == 20

    stored = _stored(lf)
    assert len(stored) == 60  # exactly 20 x 3: re-scoring updates, never duplicates
    by_name: dict[str, set[Any]] = {}
    for score in stored:
        shown = score["value"] if score["data_type"] == "NUMERIC" else score["string_value"]
        by_name.setdefault(score["name"], set()).add(shown)
        assert score["config_id"] == setup["configs"][score["name"]].id
    assert by_name == {"quality": {4.0}, "tone": {"rude"}, "correct": {"True"}}
    assert "20 of 20 items scored" in again.static_html()


def test_keys_comments_and_validation(lf: Langfuse, setup: dict[str, Any]) -> None:
    widget = annotate("traces", limit=3, client=lf, configs=["tone", "quality"])
    first = widget.session.item
    widget.comment.value = "too blunt"
    widget.key_box.value = "2"  # second category of the first open config: "rude"
    assert widget.session.saved[(0, widget.session.configs[0].id)] == "rude"
    widget.key_box.value = "9"  # a numeric config: the digit is the value... 9 is out of range [0, 5]
    assert "outside" in widget.message.value and widget.session.position == 0
    widget.press("3")
    assert widget.session.position == 1  # both configs scored: moved on
    widget.press("b")
    assert widget.session.position == 0
    widget.press("n")
    widget.press("s")
    assert widget.session.position == 2
    comments = [s for s in _stored(lf) if isinstance(s["comment"], str)]
    assert [(c["trace_id"], c["comment"]) for c in comments] == [(first.trace_id, "too blunt")]


def test_sources_and_errors(lf: Langfuse, setup: dict[str, Any]) -> None:
    result = lf.run_experiment(
        name="annot", data=[{"input": "a", "expected_output": "A"}], task=lambda item, **_: "x"
    )
    lf.flush()
    from_result = annotate(result, client=lf, configs=["correct"])
    item = from_result.session.item
    assert (item.input, item.expected_output, item.output) == ("a", "A", "x")
    assert "Expected" in from_result.body.value

    manual = annotate([AnnotationItem(trace_id=setup["traces"][0])], client=lf, configs=["correct"])
    assert manual.session.load_item().output == "answer 0"  # loaded from the server when shown
    manual.trace_button.value = True
    assert "qa" in manual.trace_view.value

    with pytest.raises(AnnotationError, match="no active score config named 'nope'"):
        annotate("traces", client=lf, configs=["nope"])
    with pytest.raises(AnnotationError, match="nothing to annotate"):
        annotate("traces", client=lf, name="no-such-trace", configs=["correct"])
    with pytest.raises(AnnotationError, match="both dataset= and run="):
        annotate(client=lf, dataset="d", configs=["correct"])


def test_score_ids_are_stable() -> None:
    class Config:
        id = "cfg"

    item = AnnotationItem(trace_id="t", observation_id="o")
    assert score_id(item, Config()) == score_id(AnnotationItem(trace_id="t", observation_id="o"), Config())
    assert score_id(item, Config()) != score_id(AnnotationItem(trace_id="t"), Config())
