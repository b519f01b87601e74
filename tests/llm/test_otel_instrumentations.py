"""Real OTel instrumentations of the real ``openai`` SDK -> real OTLP exporter -> our server -> read API."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from llmkit import GPT4O_MINI, read_observations, read_trace, unwrap_dropin

openai = pytest.importorskip("openai")
otlp_http = pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter")

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402

MESSAGES = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}]


def _provider(server: Any) -> TracerProvider:
    token = base64.b64encode(f"{server.public_key}:{server.secret_key}".encode()).decode()
    exporter = otlp_http.OTLPSpanExporter(
        endpoint=f"{server.url}/api/public/otel/v1/traces", headers={"Authorization": f"Basic {token}"}
    )
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.fixture
def genai_v2(fresh_server, monkeypatch) -> Iterator[TracerProvider]:
    instrumentation = pytest.importorskip("opentelemetry.instrumentation.openai_v2")
    unwrap_dropin(monkeypatch)
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    provider = _provider(fresh_server)
    instrumentor = instrumentation.OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    yield provider
    instrumentor.uninstrument()
    provider.shutdown()


@pytest.fixture
def openinference(fresh_server, monkeypatch) -> Iterator[TracerProvider]:
    instrumentation = pytest.importorskip("openinference.instrumentation.openai")
    unwrap_dropin(monkeypatch)
    provider = _provider(fresh_server)
    instrumentor = instrumentation.OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    yield provider
    instrumentor.uninstrument()
    provider.shutdown()


def _only_trace(server: Any, provider: TracerProvider, tracer_name: str = "app") -> tuple[str, list[dict]]:
    provider.force_flush()
    with httpx_client(server) as client:
        traces = client.get("/api/public/traces", params={"limit": 10}).json()["data"]
    assert len(traces) == 1
    return traces[0]["id"], read_observations(server, traces[0]["id"])


def httpx_client(server: Any) -> Any:
    import httpx

    return httpx.Client(base_url=server.url, auth=(server.public_key, server.secret_key))


def test_gen_ai_semconv_chat_becomes_costed_generation(fresh_server, genai_v2, fake_llm):
    client = openai.OpenAI(base_url=fake_llm.base_url, api_key="sk-test")
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, temperature=0.2)
    trace_id, [obs] = _only_trace(fresh_server, genai_v2)
    assert obs["type"] == "GENERATION" and obs["name"] == "chat gpt-4o-mini"
    assert obs["model"] == "gpt-4o-mini" and obs["modelParameters"] == {"temperature": 0.2}
    assert obs["usageDetails"] == {"input": 20, "output": 10, "total": 30}
    expected = 20 * GPT4O_MINI["input"] + 10 * GPT4O_MINI["output"]  # 9e-06
    assert obs["calculatedTotalCost"] == pytest.approx(expected) == pytest.approx(9e-06)
    assert obs["input"][1]["role"] == "user" and obs["output"][0]["role"] == "assistant"
    assert obs["metadata"]["attributes"]["gen_ai.request.temperature"] == "0.2"
    assert "gen_ai.input.messages" not in obs["metadata"]["attributes"]
    trace = read_trace(fresh_server, trace_id)
    assert trace["totalCost"] == pytest.approx(expected) and trace["name"] == "chat gpt-4o-mini"


def test_gen_ai_semconv_embeddings(fresh_server, genai_v2, fake_llm):
    client = openai.OpenAI(base_url=fake_llm.base_url, api_key="sk-test")
    client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    _, [obs] = _only_trace(fresh_server, genai_v2)
    assert obs["type"] == "EMBEDDING" and obs["model"] == "text-embedding-3-small"
    assert obs["usageDetails"]["input"] == 5
    # text-embedding-3-small is priced per total token (2e-8): total derived from input
    assert obs["calculatedTotalCost"] == pytest.approx(5 * 2e-8)


def test_openinference_chat_becomes_costed_generation(fresh_server, openinference, fake_llm):
    client = openai.OpenAI(base_url=fake_llm.base_url, api_key="sk-test")
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, temperature=0.2)
    trace_id, [obs] = _only_trace(fresh_server, openinference)
    assert obs["type"] == "GENERATION" and obs["name"] == "ChatCompletion"
    assert obs["model"] == "gpt-4o-mini"
    assert obs["modelParameters"] == {"model": "gpt-4o-mini", "temperature": 0.2}
    # prompt 20 of which 4 cached; the audio detail passes through verbatim
    assert obs["usageDetails"] == {
        "input": 16,
        "input_cached_tokens": 4,
        "output": 10,
        "output_reasoning_tokens": 0,
        "prompt_details.audio": 0,
        "total": 30,
    }
    expected = 16 * GPT4O_MINI["input"] + 4 * GPT4O_MINI["input_cached_tokens"] + 10 * GPT4O_MINI["output"]
    assert obs["calculatedTotalCost"] == pytest.approx(expected) == pytest.approx(8.7e-06)
    assert obs["calculatedInputCost"] == pytest.approx(16 * 1.5e-7 + 4 * 7.5e-8)
    assert obs["input"]["messages"][0]["content"] == "Be terse."  # input.value, decoded
    assert obs["output"]["choices"][0]["message"]["content"] == "Hello from the fake model."
    assert read_trace(fresh_server, trace_id)["totalCost"] == pytest.approx(expected)


def test_openinference_streaming(fresh_server, openinference, fake_llm):
    client = openai.OpenAI(base_url=fake_llm.base_url, api_key="sk-test")
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Hello from the fake model."
    _, [obs] = _only_trace(fresh_server, openinference)
    assert obs["type"] == "GENERATION" and obs["usageDetails"]["total"] == 30
    assert obs["calculatedTotalCost"] > 0
