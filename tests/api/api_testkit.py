"""A recording httpx handler for the REST client tests (importable: ``from api_testkit import Recorder``)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pydantic


class Recorder:
    """An httpx handler that records every request and answers from a queue (default: 200 ``{}``)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.replies: list[httpx.Response | Exception] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if self.replies else httpx.Response(200, json={})
        if isinstance(reply, Exception):
            raise reply
        return reply

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        content = self.requests[index].content
        return json.loads(content) if content else None


def quiet() -> contextlib.AbstractContextManager[None]:
    """Ignore the response parse error of the default ``{}`` reply (the request is what is tested)."""
    return contextlib.suppress(pydantic.ValidationError)
