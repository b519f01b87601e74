"""Progress bars end at the real total, in the success colour, when a run succeeds (notebook widgets)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every bar the runs create, as tqdm.notebook widgets (what a kernel shows)."""
    import tqdm.auto
    from IPython.utils.capture import capture_output
    from tqdm.notebook import tqdm as notebook_tqdm

    made: list[Any] = []

    class Recorded(notebook_tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            with capture_output():
                super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(tqdm.auto, "tqdm", Recorded)
    return made


def _widget(bar: Any) -> Any:
    return bar.container.children[1]


def test_batch_evaluation_bar_ends_at_what_was_fetched(lf: Any, reader: Any, bars: list[Any]) -> None:
    tag = f"p-{uuid.uuid4().hex[:8]}"
    for i in range(3):
        with lf.start_as_current_observation(name="progress") as span:
            span.update_trace(tags=[tag], output=str(i))
    lf.flush()
    reader.wait_for(lambda: len(reader.all_pages("/api/public/traces", tags=tag)) == 3)
    flt = json.dumps([{"type": "arrayOptions", "column": "tags", "operator": "any of", "value": [tag]}])
    result = lf.run_batched_evaluation(
        scope="traces",
        filter=flt,
        max_items=50,
        progress=True,
        mapper=lambda *, item, **_: {"input": None, "output": item.output},
        evaluators=[],  # the bar is what matters here, not scores
    )
    assert result.completed and result.total_items_processed == 3
    (bar,) = bars
    assert (bar.n, bar.total) == (3, 3)
    assert _widget(bar).bar_style == "success" and _widget(bar).max == 3


def test_experiment_bar_is_green_when_done(lf: Any, bars: list[Any]) -> None:
    lf.run_experiment(
        name="bar", data=[{"input": i} for i in range(4)], task=lambda *, item, **_: 1, progress=True
    )
    (bar,) = bars
    assert (bar.n, bar.total) == (4, 4) and _widget(bar).bar_style == "success"
