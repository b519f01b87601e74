"""Helpers for the REST client tests: clients wired to an in-memory transport that records requests."""

from __future__ import annotations

import httpx
import pytest
from api_testkit import Recorder

from langfuse_nb.api import AsyncLangfuseAPI, LangfuseAPI


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def api(recorder: Recorder) -> LangfuseAPI:
    client = httpx.Client(transport=httpx.MockTransport(recorder))
    lf = LangfuseAPI(base_url="http://lf.test", username="pk-lf-1", password="sk-lf-1", httpx_client=client)
    lf._executor.sleep = lambda seconds: None  # retries without waiting
    return lf


@pytest.fixture
def async_api(recorder: Recorder) -> AsyncLangfuseAPI:
    client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    lf = AsyncLangfuseAPI(
        base_url="http://lf.test", username="pk-lf-1", password="sk-lf-1", httpx_client=client
    )

    async def no_wait(seconds: float) -> None:
        return None

    lf._executor.sleep = no_wait
    return lf
