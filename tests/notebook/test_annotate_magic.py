"""%langfuse_annotate through a real in-process IPython shell against the session test server."""

from __future__ import annotations

import uuid

import pytest
from IPython.core.error import UsageError

from langfuse_nb.notebook import extension


def test_annotate_magic_shows_the_widget_and_scores(loaded) -> None:
    from langfuse_nb import get_client

    client = get_client()
    name = f"magic-annot-{uuid.uuid4().hex[:8]}"
    config = client.api.score_configs.create(request={"name": name[:35], "dataType": "BOOLEAN"})
    loaded.run_cell(f'%%langfuse_trace name={name}\n"answer"')
    client.flush(timeout=5)
    loaded.run_line_magic("langfuse_annotate", f"traces name={name} configs={config.name} limit=5")
    widget = extension._LOADED[id(loaded)].last_widget
    assert len(widget.session.items) == 1 and widget.session.item.output is not None
    widget.controls[config.id].children[0].click()
    assert widget.session.done_count == 1
    scores = client.api.score_v_2.get(config_id=config.id).data
    assert [s.root.string_value if hasattr(s, "root") else s.string_value for s in scores] == ["True"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("configs=does-not-exist", "no active score config"),
        ("source=missing_variable", "no such variable"),
        ("limit=zero", "bad value for limit"),
        ("colour=red", "unknown argument 'colour'"),
    ],
)
def test_annotate_magic_errors_are_one_line(loaded, line: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        loaded.run_line_magic("langfuse_annotate", line)
