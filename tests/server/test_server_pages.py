"""The read-only HTML pages at the UI links the SDK prints: a trace, a dataset run (real server + SDK)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from langfuse_nb.experiment import Evaluation
from langfuse_nb.server.runner import ServerHandle, start_in_thread

pytestmark = pytest.mark.timeout(60)

XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[ServerHandle, Any]]:
    """A fresh server and an SDK client on it; fresh keys because clients of one key share a pipeline."""
    from langfuse_nb.sdk.client import Langfuse

    suffix = uuid.uuid4().hex[:12]
    handle = start_in_thread(
        port=0, db_path=tmp_path / "lf.db", public_key=f"pk-lf-{suffix}", secret_key=f"sk-lf-{suffix}"
    )
    client = Langfuse(public_key=handle.public_key, secret_key=handle.secret_key, base_url=handle.url)
    yield handle, client
    client.shutdown(timeout=5)
    handle.stop()


def _browser(handle: ServerHandle) -> httpx.Client:
    return httpx.Client(auth=(handle.public_key, handle.secret_key), timeout=10)


def _wait_for_page(http: httpx.Client, url: str, ready: Callable[[str], bool]) -> httpx.Response:
    """Ingestion is asynchronous on the SDK side: poll until the page shows what the test needs."""
    deadline = time.monotonic() + 15
    while True:
        response = http.get(url)
        if response.status_code == 200 and ready(response.text):
            return response
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} never became ready: {response.status_code} {response.text[:500]}")
        time.sleep(0.1)


def _assert_page_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def _ingest_trace(lf: Any) -> str:
    with lf.start_as_current_observation(name=f"root {XSS}", input={"question": XSS}) as root:
        root.update_trace(
            name=f"trace {XSS}", user_id="user-42", session_id="session-7", tags=["alpha", f"tag {XSS}"]
        )
        with lf.start_as_current_observation(name="retrieve step", as_type="span") as child:
            with lf.start_as_current_observation(name="inner tool", as_type="tool") as tool:
                tool.update(output={"docs": ["d1", "d2"]})
            child.update(output=XSS)
        with lf.start_as_current_observation(
            name="llm call", as_type="generation", model="gpt-test-model", input=[{"role": "user"}]
        ) as gen:
            gen.update(output="answer", usage_details={"input": 11, "output": 22})
            gen.score(name="helpful", value="yes", data_type="CATEGORICAL")
        root.score_trace(name="quality", value=0.75, comment=f"c {XSS}")
        trace_id = root.trace_id
    lf.flush()
    return trace_id


def test_trace_page_shows_waterfall_attributes_and_scores(site: tuple[ServerHandle, Any]) -> None:
    handle, lf = site
    trace_id = _ingest_trace(lf)
    url = lf.get_trace_url(trace_id=trace_id)
    assert url == f"{handle.url}/project/langfuse-nb-local/traces/{trace_id}"
    with _browser(handle) as http:
        response = _wait_for_page(http, url, lambda text: "helpful" in text and "quality" in text)
    _assert_page_headers(response)
    html = response.text
    assert html.startswith("<!DOCTYPE html>")
    for expected in (
        trace_id,
        "retrieve step",
        "inner tool",
        "llm call",
        "gpt-test-model",
        "input 11 / output 22",
        "user-42",
        "session-7",
        "alpha",
        "GENERATION",
        "TOOL",
        "0.75",
        "yes",
        f"trace {XSS_ESCAPED}",
        f"root {XSS_ESCAPED}",
    ):
        assert expected in html, expected
    assert "<script" not in html.lower()  # every payload is escaped, and the page carries no script
    # the waterfall nests: the tool sits one level below the span, which sits below the root
    assert 'padding-left:28px"><span class="lfnb-badge lfnb-t-tool">' in html


def test_pages_ask_a_browser_for_keys(site: tuple[ServerHandle, Any]) -> None:
    handle, _ = site
    url = f"{handle.url}/project/langfuse-nb-local/traces/{'a' * 32}"
    for auth in (None, (handle.public_key, "wrong-secret")):
        response = httpx.get(url, auth=auth)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith('Basic realm="langfuse_nb"')
        assert response.headers["content-type"].startswith("text/html")
        assert "public key" in response.text
    # the API keeps its JSON 401
    api = httpx.get(f"{handle.url}/api/public/traces")
    assert api.status_code == 401 and api.json()["error"] == "UnauthorizedError"


def test_unknown_ids_give_an_html_404(site: tuple[ServerHandle, Any]) -> None:
    handle, _ = site
    with _browser(handle) as http:
        for path in (
            f"/project/langfuse-nb-local/traces/{XSS}",
            "/project/another-project/traces/abc",
            "/project/langfuse-nb-local/datasets/nope/runs/nope",
            "/project/langfuse-nb-local/sessions/s-1",
        ):
            response = http.get(handle.url + path)
            assert response.status_code == 404, path
            _assert_page_headers(response)
            assert "Not found" in response.text and "<script" not in response.text.lower()


def test_dataset_run_page_lists_items_and_links_their_traces(site: tuple[ServerHandle, Any]) -> None:
    handle, lf = site
    name = f"ds-{uuid.uuid4().hex[:8]}"
    lf.create_dataset(name=name)
    for i in range(3):
        lf.create_dataset_item(dataset_name=name, input={"q": f"{XSS} {i}"}, expected_output=f"A{i}")
    dataset = lf.get_dataset(name)

    def task(*, item: Any, **_: Any) -> str:
        return f"A{item.input['q'][-1]}"

    def exact(*, output: Any, expected_output: Any, **_: Any) -> Evaluation:
        return Evaluation(name="exact", value=float(output == expected_output))

    result = dataset.run_experiment(name="pages-exp", task=task, evaluators=[exact])
    lf.flush()
    url = result.dataset_run_url
    assert url and url.startswith(handle.url)
    with _browser(handle) as http:
        response = _wait_for_page(http, url, lambda text: "exact" in text and text.count("A0") >= 2)
        _assert_page_headers(response)
        html = response.text
        for item in dataset.items:
            assert item.id in html
        assert f"{XSS_ESCAPED} 1" in html and "<script" not in html.lower()
        assert "avg 1" in html  # every output matched, summarised under the score's name
        for item_result in result.item_results:
            href = f'href="../../../traces/{item_result.trace_id}"'
            assert href in html
            trace = http.get(urljoin(url, f"../../../traces/{item_result.trace_id}"))
            assert trace.status_code == 200 and item_result.trace_id in trace.text


def test_server_and_views_stay_below_the_sdk_and_notebook() -> None:
    """The pages come from ``langfuse_nb.views``; neither it nor the server may pull in the SDK/notebook."""
    import subprocess
    import sys

    script = (
        "import sys, langfuse_nb.server.app, langfuse_nb.views.pages\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('langfuse_nb.notebook', 'langfuse_nb.sdk',"
        " 'langfuse_nb.api', 'IPython', 'ipywidgets', 'pandas')))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
