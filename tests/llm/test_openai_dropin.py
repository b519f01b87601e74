"""``langfuse_nb.openai``: the real openai SDK against the local fake LLM, traced to a real local server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llmkit import GPT4O_MINI, read_observations, read_trace

pytest.importorskip("openai")

from langfuse_nb.openai import AsyncOpenAI, AzureOpenAI, OpenAI, openai  # noqa: E402
from langfuse_nb.sdk.client import Langfuse  # noqa: E402
from langfuse_nb.server.runner import start_in_thread  # noqa: E402

MESSAGES = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}]
# the fake server's chat usage: 20 prompt tokens (4 cached), 10 completion tokens
CHAT_COST = 16 * GPT4O_MINI["input"] + 4 * GPT4O_MINI["input_cached_tokens"] + 10 * GPT4O_MINI["output"]
CHAT_USAGE = {
    "input": 16,
    "input_cached_tokens": 4,
    "input_audio_tokens": 0,
    "output": 10,
    "output_reasoning_tokens": 0,
    "total": 30,
}


class Traced:
    """A local server, a Langfuse client with its own keys, and the OpenAI client pointed at the fake LLM."""

    def __init__(self, server: Any, client: Langfuse, base_url: str) -> None:
        self.server, self.langfuse, self.base_url = server, client, base_url
        self.key = server.public_key

    def openai(self) -> OpenAI:
        return OpenAI(base_url=self.base_url, api_key="sk-test")

    def observations(self) -> list[dict[str, Any]]:
        self.langfuse.flush()
        with_traces = [o for o in self._all() if o["type"] in ("GENERATION", "EMBEDDING", "SPAN")]
        return sorted(with_traces, key=lambda o: o["startTime"])

    def _all(self) -> list[dict[str, Any]]:
        import httpx

        auth = (self.server.public_key, self.server.secret_key)
        with httpx.Client(base_url=self.server.url, auth=auth) as client:
            return list(client.get("/api/public/observations", params={"limit": 100}).json()["data"])

    def only(self) -> dict[str, Any]:
        [observation] = self.observations()
        return observation


@pytest.fixture
def traced(tmp_path: Path, fake_llm: Any) -> Iterator[Traced]:
    suffix = uuid.uuid4().hex[:12]
    handle = start_in_thread(
        port=0, db_path=tmp_path / "lf.db", public_key=f"pk-lf-{suffix}", secret_key=f"sk-lf-{suffix}"
    )
    client = Langfuse(public_key=handle.public_key, secret_key=handle.secret_key, base_url=handle.url)
    yield Traced(handle, client, fake_llm.base_url)
    client.shutdown(timeout=5)
    handle.stop()


def test_chat_completion_is_a_costed_generation(traced):
    response = traced.openai().chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        temperature=0.2,
        name="greet",
        metadata={"team": "search"},
        user_id="u-1",
        session_id="s-1",
        tags=["demo"],
        langfuse_public_key=traced.key,
    )
    assert response.choices[0].message.content == "Hello from the fake model."
    obs = traced.only()
    assert obs["type"] == "GENERATION" and obs["name"] == "greet"
    assert obs["model"] == "gpt-4o-mini" and obs["input"] == MESSAGES
    assert obs["output"] == {"role": "assistant", "content": "Hello from the fake model."}
    assert obs["modelParameters"]["temperature"] == 0.2 and obs["metadata"]["team"] == "search"
    assert obs["usageDetails"] == CHAT_USAGE
    assert obs["calculatedTotalCost"] == pytest.approx(CHAT_COST) == pytest.approx(8.7e-06)
    trace = read_trace(traced.server, obs["traceId"])
    assert (trace["userId"], trace["sessionId"], trace["tags"]) == ("u-1", "s-1", ["demo"])
    assert trace["totalCost"] == pytest.approx(CHAT_COST)


def test_streaming_uses_final_chunk_usage_and_first_token_time(traced):
    stream = traced.openai().chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
        langfuse_public_key=traced.key,
    )
    with stream:
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Hello from the fake model."
    obs = traced.only()
    assert obs["output"] == text and obs["usageDetails"] == CHAT_USAGE
    assert obs["calculatedTotalCost"] == pytest.approx(CHAT_COST)
    assert obs["startTime"] <= obs["completionStartTime"] <= obs["endTime"]


def test_async_chat_and_async_stream(traced):
    async def run() -> str:
        client = AsyncOpenAI(base_url=traced.base_url, api_key="sk-test")
        await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, name="plain", langfuse_public_key=traced.key
        )
        stream = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
            name="streamed",
            langfuse_public_key=traced.key,
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(run()) == "Hello from the fake model."
    by_name = {o["name"]: o for o in traced.observations()}
    assert set(by_name) == {"plain", "streamed"}
    for obs in by_name.values():
        assert obs["calculatedTotalCost"] == pytest.approx(CHAT_COST)
    assert by_name["streamed"]["completionStartTime"] is not None


def test_tool_calls_in_input_and_output(traced):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    traced.openai().chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, tools=tools, langfuse_public_key=traced.key
    )
    obs = traced.only()
    assert obs["input"] == {"tools": tools, "messages": MESSAGES}
    assert obs["output"]["tool_calls"][0]["function"]["name"] == "get_weather"


def test_completions_embeddings_and_responses(traced):
    client = traced.openai()
    key = traced.key
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", langfuse_public_key=key)
    client.embeddings.create(model="text-embedding-3-small", input=["a", "b"], langfuse_public_key=key)
    client.responses.create(model="gpt-4o-mini", input="Hi", langfuse_public_key=key)
    with client.responses.create(model="gpt-4o-mini", input="Hi", stream=True, langfuse_public_key=key) as s:
        events = [event.type for event in s]
    assert events[-1] == "response.completed"
    completion, embedding, response, streamed = traced.observations()
    assert completion["output"] == "Hello from the fake model." and completion["input"] == "Say hi"
    # gpt-3.5-turbo-instruct: 8 x 1.5e-6 + 6 x 2e-6
    assert completion["calculatedTotalCost"] == pytest.approx(8 * 1.5e-6 + 6 * 2e-6)
    assert embedding["type"] == "EMBEDDING" and embedding["output"] == {"dimensions": 3, "count": 2}
    assert embedding["usageDetails"] == {"input": 5, "total": 5}
    assert embedding["calculatedTotalCost"] == pytest.approx(5 * 2e-8)  # priced per total token
    for obs in (response, streamed):
        # Responses usage: 30 input, 12 output of which 2 reasoning (gpt-4o-mini prices no reasoning key)
        assert obs["usageDetails"]["input"] == 30 and obs["usageDetails"]["output"] == 10
        assert obs["usageDetails"]["output_reasoning_tokens"] == 2
        assert obs["calculatedTotalCost"] == pytest.approx(30 * 1.5e-7 + 10 * 6e-7)
        assert obs["output"]["content"][0]["text"] == "Hello from the fake model."


def test_errors_are_recorded_and_reraised_unchanged(traced):
    with pytest.raises(openai.BadRequestError) as caught:
        traced.openai().chat.completions.create(
            model="fail-model", messages=MESSAGES, langfuse_public_key=traced.key
        )
    assert caught.value.status_code == 400
    obs = traced.only()
    assert obs["level"] == "ERROR" and "fail-model does not exist" in obs["statusMessage"]


def test_nests_under_observe_and_explicit_trace_id(traced):
    from langfuse_nb import observe

    @observe(name="pipeline")
    def pipeline() -> None:
        traced.openai().chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, langfuse_public_key=traced.key
        )

    with traced.langfuse.start_as_current_span(name="outer") as outer:
        # several clients live in this test process: name ours, as users with several projects do
        pipeline(langfuse_public_key=traced.key)
    trace_id = traced.langfuse.create_trace_id()
    traced.openai().chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, trace_id=trace_id, langfuse_public_key=traced.key
    )
    observations = traced.observations()
    by_name = {o["name"]: o for o in observations}
    generation = next(o for o in observations if o["traceId"] == outer.trace_id and o["type"] == "GENERATION")
    assert generation["parentObservationId"] == by_name["pipeline"]["id"]
    assert any(o["traceId"] == trace_id for o in read_observations(traced.server, trace_id))


def test_langfuse_prompt_links_the_prompt_version(traced):
    prompt = traced.langfuse.create_prompt(
        name="greeter", type="chat", prompt=[{"role": "user", "content": "Hi {{who}}"}], labels=["production"]
    )
    traced.openai().chat.completions.create(
        model="gpt-4o-mini",
        messages=prompt.compile(who="you"),
        langfuse_prompt=prompt,
        langfuse_public_key=traced.key,
    )
    obs = traced.only()
    assert (obs["promptName"], obs["promptVersion"]) == ("greeter", 1)


def test_azure_client_is_traced(traced):
    client = AzureOpenAI(
        azure_endpoint=traced.base_url.removesuffix("/v1"), api_key="k", api_version="2024-10-21"
    )
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, langfuse_public_key=traced.key)
    assert traced.only()["calculatedTotalCost"] == pytest.approx(CHAT_COST)


def test_wrong_argument_types_raise_before_any_request(traced, fake_llm):
    before = len(fake_llm.requests)
    with pytest.raises(TypeError, match="tags must be a list of strings"):
        traced.openai().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tags="x")
    assert len(fake_llm.requests) == before


def test_import_langfuse_nb_does_not_import_openai():
    code = "import sys, langfuse_nb; langfuse_nb.Langfuse; print('openai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_stream_closed_early_still_ends_its_generation(traced):
    stream = traced.openai().chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, langfuse_public_key=traced.key
    )
    first = next(iter(stream))
    stream.close()
    assert first.choices[0].delta.content == "Hello"
    obs = traced.only()
    assert obs["output"] == "Hello" and obs["endTime"] is not None and obs["completionStartTime"]


def test_calls_work_without_any_langfuse_configuration(fake_llm, monkeypatch, caplog):
    for name in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "LANGFUSE_BASE_URL", "LANGFUSE_HOST"):
        monkeypatch.delenv(name, raising=False)
    client = OpenAI(base_url=fake_llm.base_url, api_key="sk-test")
    answer = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, langfuse_public_key="pk-lf-nobody"
    )
    assert answer.choices[0].message.content == "Hello from the fake model."
