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


# ---- trace list, sessions, header, root redirect ---------------------------------------------------

PROJECT = "/project/langfuse-nb-local"
SESSION = "chat/1 a"  # a slash and a space: the session page's id is one quoted path segment
SESSION_HREF = "chat%2F1%20a"
SLASH_TRACE = "trace/with slash"


def _event(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"id": uuid.uuid4().hex, "type": kind, "timestamp": "2026-01-01T00:00:00.000Z", "body": body}


def _seed(handle: ServerHandle) -> dict[str, str]:
    """Three traces through the ingestion API (synchronous, so the pages can be read at once)."""
    ids = {
        "alpha": "t-alpha-" + uuid.uuid4().hex[:6],
        "xss": "t-xss-" + uuid.uuid4().hex[:6],
        "gamma": SLASH_TRACE,
    }
    batch = [
        _event(
            "trace-create",
            {
                "id": ids["alpha"],
                "timestamp": "2026-01-01T00:01:00.000Z",
                "name": "alpha",
                "userId": "u-1",
                "sessionId": SESSION,
                "tags": ["red", "blue"],
                "environment": "production",
            },
        ),
        _event(
            "trace-create",
            {
                "id": ids["xss"],
                "timestamp": "2026-01-01T00:02:00.000Z",
                "name": f"xss {XSS}",
                "userId": f"user {XSS}",
                "sessionId": SESSION,
                "tags": [f"tag {XSS}", "red"],
                "environment": "staging",
            },
        ),
        _event(
            "generation-create",
            {
                "id": "g-" + uuid.uuid4().hex[:6],
                "traceId": ids["xss"],
                "name": "llm",
                "startTime": "2026-01-01T00:02:00.000Z",
                "endTime": "2026-01-01T00:02:01.500Z",
                "costDetails": {"total": 0.25},
                "environment": "staging",
            },
        ),
        _event("score-create", {"id": uuid.uuid4().hex, "traceId": ids["xss"], "name": "q", "value": 1.0}),
        _event(
            "trace-create",
            {
                "id": ids["gamma"],
                "timestamp": "2026-01-01T00:03:00.000Z",
                "name": "gamma",
                "userId": "u-2",
                "sessionId": f"s {XSS}",
                "tags": ["blue"],
            },
        ),
    ]
    with _browser(handle) as http:
        response = http.post(f"{handle.url}/api/public/ingestion", json={"batch": batch})
    assert response.status_code in (200, 207) and not response.json()["errors"], response.text
    return ids


def _shown(html: str, ids: dict[str, str]) -> list[str]:
    """Which seeded traces a list page links, in page order."""
    from urllib.parse import quote

    found = [(html.find(f'traces/{quote(i, safe="")}"'), key) for key, i in ids.items()]
    return [key for pos, key in sorted(found) if pos >= 0]


def test_trace_list_shows_newest_first_with_summaries_links_and_header(
    site: tuple[ServerHandle, Any],
) -> None:
    from langfuse_nb.server.config import SERVER_VERSION

    handle, _ = site
    ids = _seed(handle)
    url = f"{handle.url}{PROJECT}/traces"
    with _browser(handle) as http:
        response = http.get(url)
        assert response.status_code == 200
        _assert_page_headers(response)
        assert "form-action 'self'" in response.headers["content-security-policy"]
        html = response.text
        assert _shown(html, ids) == ["gamma", "xss", "alpha"]
        assert "<script" not in html.lower()
        for expected in (
            f"xss {XSS_ESCAPED}",
            f"user {XSS_ESCAPED}",
            f"tag {XSS_ESCAPED}",
            f"s {XSS_ESCAPED}",
            "1.50 s",  # the generation's span is the trace's latency
            "$0.25",
            'href="traces/trace%2Fwith%20slash"',
            f'href="sessions/{SESSION_HREF}"',
            'href="traces?userId=u-1"',
            'href="traces?userId=user+%3Cscript%3Ealert%281%29%3C%2Fscript%3E"',
            '<form class="lfnb-filters" method="get">',
            SERVER_VERSION,
            "page 1 of 1 (3 items)",
        ):
            assert expected in html, expected
        # the header links both lists; every link resolves to a working page
        assert '<nav class="lfnb-nav">' in html and 'href="sessions"' in html
        for href in (
            "traces/trace%2Fwith%20slash",
            f"sessions/{SESSION_HREF}",
            "sessions",
            "traces?userId=u-1",
        ):
            assert http.get(urljoin(url, href)).status_code == 200, href
        # the trace page links its user and session, and carries the header too
        trace = http.get(urljoin(url, f"traces/{ids['alpha']}")).text
        assert f'href="../sessions/{SESSION_HREF}"' in trace and 'href="../traces?userId=u-1"' in trace
        assert 'href="../traces"' in trace and 'href="../sessions"' in trace
        slash = http.get(urljoin(url, "traces/trace%2Fwith%20slash"))
        assert slash.status_code == 200 and "gamma" in slash.text


def test_trace_list_filters(site: tuple[ServerHandle, Any]) -> None:
    handle, _ = site
    ids = _seed(handle)
    url = f"{handle.url}{PROJECT}/traces"
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({"name": "alpha"}, ["alpha"]),
        ({"name": f"xss {XSS}"}, ["xss"]),
        ({"userId": "u-2"}, ["gamma"]),
        ({"userId": f"user {XSS}"}, ["xss"]),
        ({"sessionId": SESSION}, ["xss", "alpha"]),
        ({"tags": "red"}, ["xss", "alpha"]),
        ({"tags": " blue , red "}, ["alpha"]),
        ({"environment": "staging"}, ["xss"]),
        ({"environment": "staging,production"}, ["xss", "alpha"]),
        ({"name": "alpha", "environment": "staging"}, []),
        ({"name": ""}, ["gamma", "xss", "alpha"]),  # an empty form field is no filter
    ]
    with _browser(handle) as http:
        for params, expected in cases:
            response = http.get(url, params=params)
            assert response.status_code == 200, params
            html = response.text
            assert _shown(html, ids) == expected, params
            assert "<script" not in html.lower()
            if not expected:
                assert "No traces match these filters." in html
        # the form shows the filter back, escaped
        html = http.get(url, params={"userId": f"user {XSS}"}).text
        assert f'name="userId" value="user {XSS_ESCAPED}"' in html


def test_trace_list_paging_keeps_filters(site: tuple[ServerHandle, Any]) -> None:
    handle, _ = site
    ids = _seed(handle)
    url = f"{handle.url}{PROJECT}/traces"
    with _browser(handle) as http:
        first = http.get(url, params={"tags": "blue", "limit": "1"}).text
        assert _shown(first, ids) == ["gamma"]
        assert "page 1 of 2 (2 items)" in first
        assert 'href="?tags=blue&amp;limit=1&amp;page=2" rel="next"' in first
        assert 'rel="prev"' not in first
        assert '<input type="hidden" name="limit" value="1">' in first
        second = http.get(urljoin(url + "?tags=blue&limit=1", "?tags=blue&limit=1&page=2")).text
        assert _shown(second, ids) == ["alpha"]
        assert 'href="?tags=blue&amp;limit=1&amp;page=1" rel="prev"' in second and 'rel="next"' not in second
        # page/limit typos in the address bar give a page, not an error
        for params in ({"page": "abc"}, {"limit": "0"}, {"page": "-3", "limit": "x"}):
            response = http.get(url, params=params)
            assert response.status_code == 200, params
            assert len(_shown(response.text, ids)) >= 1, params
        beyond = http.get(url, params={"page": "9"}).text
        assert _shown(beyond, ids) == [] and 'rel="prev"' in beyond


def test_session_pages(site: tuple[ServerHandle, Any]) -> None:
    handle, _ = site
    ids = _seed(handle)
    sessions_url = f"{handle.url}{PROJECT}/sessions"
    with _browser(handle) as http:
        listing = http.get(sessions_url)
        assert listing.status_code == 200
        _assert_page_headers(listing)
        html = listing.text
        assert f'href="sessions/{SESSION_HREF}"' in html
        assert "s &lt;script&gt;" in html and "<script" not in html.lower()
        assert "page 1 of 1 (2 items)" in html
        paged = http.get(sessions_url, params={"limit": "1"}).text
        assert "page 1 of 2 (2 items)" in paged and 'href="?limit=1&amp;page=2" rel="next"' in paged

        url = urljoin(sessions_url, f"sessions/{SESSION_HREF}")
        page = http.get(url)
        assert page.status_code == 200
        _assert_page_headers(page)
        html = page.text
        assert f"Session {SESSION}" in html
        assert _shown(html, ids) == ["alpha", "xss"]  # time order
        assert f'href="../traces/{ids["alpha"]}"' in html and 'href="../traces?userId=u-1"' in html
        assert f"xss {XSS_ESCAPED}" in html and "<script" not in html.lower()
        assert http.get(urljoin(url, f"../traces/{ids['xss']}")).status_code == 200
        assert 'href="../sessions"' in html  # the header, relative to the session page
        # the XSS session id is one quoted segment too
        xss_session = http.get(urljoin(sessions_url, "sessions/s%20%3Cscript%3Ealert%281%29%3C%2Fscript%3E"))
        assert xss_session.status_code == 200 and "<script" not in xss_session.text.lower()
        assert _shown(xss_session.text, ids) == ["gamma"]


def test_list_pages_need_keys_and_other_projects_are_not_found(site: tuple[ServerHandle, Any]) -> None:
    handle, _ = site
    for path in ("/traces", "/sessions", f"/sessions/{SESSION_HREF}"):
        response = httpx.get(f"{handle.url}{PROJECT}{path}")
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith('Basic realm="langfuse_nb"')
    with _browser(handle) as http:
        for path in ("/traces", "/sessions", "/sessions/x"):
            response = http.get(f"{handle.url}/project/other-project{path}")
            assert response.status_code == 404, path
            assert "Not found" in response.text


def test_root_redirects_to_the_trace_list(site: tuple[ServerHandle, Any]) -> None:
    handle, _ = site
    response = httpx.get(f"{handle.url}/")
    assert response.status_code == 302
    target = urljoin(f"{handle.url}/", response.headers["location"])
    assert target == f"{handle.url}{PROJECT}/traces"
    with _browser(handle) as http:
        page = http.get(f"{handle.url}/", follow_redirects=True)
        assert page.status_code == 200 and "<h1>Traces</h1>" in page.text
