"""The third-party span mapping as tables: the mapping spec's worked examples and its precedence rules."""

from __future__ import annotations

import orjson
import pytest

from langfuse_nb.server import otel_io
from langfuse_nb.server import otel_mapping as mapping
from langfuse_nb.server.otlp import ScopeSpans, SpanRecord
from langfuse_nb.server.spans import map_groups

GEN_AI_ATTRS = {
    "gen_ai.operation.name": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.request.temperature": 0.2,
    "gen_ai.request.max_tokens": 256,
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.response.id": "chatcmpl-9x",
    "gen_ai.response.finish_reasons": ["stop"],
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 80,
    "gen_ai.usage.cache_read.input_tokens": 1000,
    "gen_ai.conversation.id": "conv-42",
    "server.address": "api.openai.com",
}
GEN_AI_EVENTS = [
    {"name": "gen_ai.system.message", "attributes": {"content": "You are terse."}},
    {"name": "gen_ai.user.message", "attributes": {"content": "Hi"}},
    {
        "name": "gen_ai.choice",
        "attributes": {
            "index": 0,
            "finish_reason": "stop",
            "message": '{"role":"assistant","content":"Hello!"}',
        },
    },
]


def _map(attrs, scope="opentelemetry.instrumentation.openai_v2", events=(), parent=None, resource=None):
    span = SpanRecord(
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
        parent,
        "chat gpt-4o-mini",
        1767225600123456789,
        1767225601623999999,
        dict(attrs),
        0,
        "",
        list(events),
    )
    group = ScopeSpans(resource or {"service.name": "support-bot"}, {"name": scope, "version": "1"}, [span])
    [observation], [trace] = map_groups([group])
    return observation, trace


def test_spec_example_gen_ai_span_with_events():
    obs, trace = _map(GEN_AI_ATTRS, events=GEN_AI_EVENTS)
    assert obs["type"] == "GENERATION" and obs["name"] == "chat gpt-4o-mini"
    assert obs["model"] == "gpt-4o-mini-2024-07-18"  # the response model beats the request model
    assert orjson.loads(obs["model_parameters"]) == {"temperature": 0.2, "max_tokens": 256}
    assert orjson.loads(obs["provided_usage_details"]) == {
        "input": 200,
        "output": 80,
        "input_cached_tokens": 1000,
    }
    assert orjson.loads(obs["input"]) == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hi"},
    ]
    assert orjson.loads(obs["output"])["message"] == '{"role":"assistant","content":"Hello!"}'
    attributes = orjson.loads(obs["metadata"])["attributes"]
    assert attributes["gen_ai.request.temperature"] == "0.2"
    assert attributes["gen_ai.response.finish_reasons"] == '["stop"]'
    assert trace["session_id"] == "conv-42" and trace["is_root"]


def test_spec_example_openinference_child_span():
    attrs = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o-mini-2024-07-18",
        "llm.invocation_parameters": '{"temperature": 0.1, "max_tokens": 512, "stop": ["END"]}',
        "input.value": '{"messages": [{"role": "user", "content": "What is RAG?"}]}',
        "output.value": "Retrieval-augmented generation.",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "What is RAG?",
        "llm.token_count.prompt": 520,
        "llm.token_count.completion": 40,
        "llm.token_count.total": 560,
        "llm.token_count.prompt_details.cache_read": 256,
        "llm.token_count.prompt_details.audio": 0,
        "session.id": "s-1",
        "user.id": "u-7",
        "tag.tags": ["rag", "prod"],
    }
    obs, trace = _map(attrs, scope="openinference.instrumentation.openai", parent="53995c3f42cd8ad8")
    assert obs["type"] == "GENERATION" and obs["model"] == "gpt-4o-mini-2024-07-18"
    assert orjson.loads(obs["model_parameters"]) == {"temperature": 0.1, "max_tokens": 512, "stop": '["END"]'}
    assert orjson.loads(obs["provided_usage_details"]) == {
        "prompt_details.audio": 0,
        "input": 264,
        "output": 40,
        "total": 560,
        "input_cached_tokens": 256,
    }
    assert obs["input"] == attrs["input.value"] and obs["output"] == "Retrieval-augmented generation."
    assert "llm.input_messages.0.message.role" not in orjson.loads(obs["metadata"])["attributes"]
    assert (trace["user_id"], trace["session_id"], trace["tags"]) == ("u-7", "s-1", ["rag", "prod"])


@pytest.mark.parametrize(
    ("attrs", "span_name", "scope", "expected"),
    [
        ({"openinference.span.kind": "TOOL", "gen_ai.operation.name": "chat"}, "s", "x", "TOOL"),
        ({"gen_ai.operation.name": "embeddings", "gen_ai.request.model": "m"}, "s", "x", "EMBEDDING"),
        ({"gen_ai.operation.name": "invoke_agent"}, "s", "x", "AGENT"),
        ({"openinference.span.kind": "Agent"}, "s", "x", "SPAN"),  # values are case-sensitive
        ({"model": ""}, "s", "x", "SPAN"),
        ({"ai.model.id": "m"}, "s", "x", "SPAN"),  # not a type rule on its own
        ({"operation.name": "ai.streamText.doStream fn", "ai.model.id": "m"}, "s", "ai", "GENERATION"),
        ({"ai.operationId": "ai.toolCall"}, "s", "ai", "TOOL"),
        ({"genkit:metadata:subtype": "embedder"}, "s", "genkit-tracer", "EMBEDDING"),
        ({"flue.task.id": "t"}, "s", "x", "AGENT"),
        ({}, "function_tool", "livekit-agents", "TOOL"),
        ({"gen_ai.tool.name": "search"}, "s", "x", "TOOL"),
    ],
)
def test_type_rules(attrs, span_name, scope, expected):
    assert mapping.observation_type(attrs, scope, span_name) == expected


def test_agent_spans_carry_no_model_or_usage():
    attrs = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 5,
    }
    obs, _ = _map(attrs)
    assert obs["type"] == "AGENT" and obs["model"] is None and obs["provided_usage_details"] is None


def test_span_type_drops_model_fields():
    obs, _ = _map(
        {
            "langfuse.observation.type": "span",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 5,
        }
    )
    assert obs["type"] == "SPAN" and obs["model"] is None and obs["provided_usage_details"] is None


def test_usage_generic_rule():
    attrs = {
        "gen_ai.usage.prompt_tokens": "100",  # numeric strings count
        "gen_ai.usage.completion_tokens": 50,
        "gen_ai.usage.reasoning.output_tokens": 20,
        "gen_ai.usage.details.reasoning_tokens": 7,  # not an alias: passes through without "details."
        "gen_ai.usage.cost": 0.5,
    }
    assert mapping.usage_details(attrs) == {
        "input": 100,
        "output": 30,
        "output_reasoning_tokens": 20,
        "reasoning_tokens": 7,
    }
    assert mapping.cost_details(attrs) == {"total": 0.5}


def test_indexed_attributes_rebuild_and_system_instructions():
    attrs = {
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": "Hi",
        "gen_ai.prompt.1.role": "assistant",
        "gen_ai.completion.0.content": "Hello",
    }
    assert otel_io.input_output(attrs, [], "traceloop") == (
        [{"role": "user", "content": "Hi"}, {"role": "assistant"}],
        [{"content": "Hello"}],
    )
    messages = '[{"role":"user","content":"Hi"}]'
    given = {"gen_ai.input.messages": messages, "gen_ai.system_instructions": "Be brief."}
    got_in, _ = otel_io.input_output(given, [], "x")
    assert orjson.loads(got_in) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]


@pytest.mark.parametrize(
    ("attrs", "scope", "expected"),
    [
        ({"mlflow.spanInputs": '{"q": 1}', "mlflow.spanOutputs": "a"}, "x", ('{"q": 1}', "a")),
        ({"traceloop.entity.input": "i", "input.value": "later"}, "x", ("i", None)),
        ({"input.value": "v", "gen_ai.input.messages": "[]"}, "x", ("v", None)),
        ({"tool_arguments": "{}", "tool_response": "r"}, "x", ("{}", "r")),
        ({"ai.prompt": "p", "ai.response.text": "t"}, "ai", ("p", "t")),
        ({"genkit:input": '{"messages": [1]}', "genkit:output": '{"message": 2}'}, "genkit-tracer", ([1], 2)),
        ({"pydantic_ai.all_messages": "[]", "final_result": "done"}, "pydantic-ai", ("[]", "done")),
    ],
)
def test_input_output_sources(attrs, scope, expected):
    assert otel_io.input_output(attrs, [], scope) == expected


def test_model_parameters_sources():
    attrs = {
        "gen_ai.request.temperature": 0.5,
        "llm.invocation_parameters.temperature": 0.7,
        "gen_ai.request.model": "m",
    }
    assert mapping.model_parameters(attrs, "x") == {"temperature": 0.7}
    assert mapping.model_parameters({"model_config": '{"top_k": 3, "stream": true}'}, "x") == {
        "top_k": 3,
        "stream": "true",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Production", "production"),
        ("langfuse-prod", "prod"),
        ("langfuselangfuse-x", "x"),
        ("my env", "default"),
    ],
)
def test_environment_normalization(value, expected):
    obs, trace = _map({"deployment.environment.name": value})
    assert obs["environment"] == trace["environment"] == expected


def test_span_environment_key_order_and_level_aliases():
    obs, _ = _map(
        {"deployment.environment": "span-env", "langfuse.observation.level": " warn "},
        resource={"langfuse.environment": "resource-env"},
    )
    assert obs["environment"] == "resource-env"  # per key: langfuse.environment (resource) comes first
    assert obs["level"] == "WARNING"


def test_vercel_usage_first_chunk_and_prompt():
    attrs = {
        "operation.name": "ai.streamText.doStream",
        "ai.model.id": "gpt-4o",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 30,
        "ai.usage.cachedInputTokens": "20",
        "ai.usage.reasoningTokens": "5",
        "ai.response.msToFirstChunk": 250.2,
        "ai.telemetry.metadata.langfusePrompt": '{"name": "p", "version": 2}',
    }
    obs, _ = _map(attrs, scope="ai")
    assert orjson.loads(obs["provided_usage_details"]) == {
        "input": 80,
        "output": 25,
        "input_cached_tokens": 20,
        "output_reasoning_tokens": 5,
    }
    assert obs["completion_start_time"].startswith("2026-01-01T00:00:00.374")  # start .123 + ceil(250.2) ms
    assert (obs["prompt_name"], obs["prompt_version"]) == ("p", 2)


def test_genkit_and_adk_usage():
    genkit = {"genkit:output": '{"usage": {"inputTokens": 9, "outputTokens": 7, "thoughtsTokens": 2}}'}
    assert mapping.usage_for_scope(genkit, "genkit-tracer") == {
        "input": 9,
        "output": 5,
        "output_reasoning": 2,
    }
    adk = {
        "gen_ai.usage.input_tokens": 50,
        "gcp.vertex.agent.llm_response": '{"usage_metadata": {"cached_content_token_count": 10}}',
    }
    assert mapping.usage_for_scope(adk, "gcp.vertex.agent") == {"input": 40, "input_cached_tokens": 10}


def test_only_generations_link_prompts():
    attrs = {
        "langfuse.observation.type": "tool",
        "langfuse.observation.prompt.name": "p",
        "langfuse.observation.prompt.version": 1,
    }
    obs, _ = _map(attrs, scope="langfuse-sdk")
    assert obs["type"] == "TOOL" and obs["prompt_name"] is None


def test_tool_definitions_move_into_the_input():
    schema = '{"type": "function", "function": {"name": "get_weather", "parameters": {}}}'
    attrs = {
        "openinference.span.kind": "LLM",
        "input.value": '[{"role": "user", "content": "Weather?"}]',
        "llm.tools.0.tool.json_schema": schema,
    }
    obs, _ = _map(attrs, scope="openinference.instrumentation.openai")
    assert orjson.loads(obs["input"]) == {
        "messages": [{"role": "user", "content": "Weather?"}],
        "tools": [orjson.loads(schema)],
    }
    assert "llm.tools.0.tool.json_schema" not in orjson.loads(obs["metadata"])["attributes"]
    plain, _ = _map({"gen_ai.tool.definitions": '[{"name": "a"}, {"name": "a"}]', "input": "just text"})
    assert orjson.loads(plain["input"]) == {"prompt": "just text", "tools": [{"name": "a"}]}


def test_vercel_model_parameters():
    attrs = {
        "operation.name": "ai.generateText.doGenerate",
        "ai.model.id": "gpt-4o",
        "ai.model.provider": "openai.chat",
        "gen_ai.request.temperature": 1.0,
        "gen_ai.response.finish_reasons": ["stop", "length"],
        "ai.settings.maxRetries": 2,
        "ai.response.providerMetadata": '{"openai": {"serviceTier": "flex"}}',
        "langfuse.observation.model.parameters": '{"temperature": 0.5}',
    }
    obs, _ = _map(attrs, scope="ai")
    assert orjson.loads(obs["model_parameters"]) == {
        "maxSteps": None,
        "toolChoice": None,
        "maxTokens": None,
        "finishReason": "stop,length",
        "system": "openai.chat",
        "maxRetries": "2",
        "mode": None,
        "temperature": 0.5,  # the explicit Langfuse parameter wins
        "service_tier": "flex",
    }


def test_livekit_bookkeeping_spans_are_debug():
    span = SpanRecord("a" * 32, "b" * 16, None, "tts_node", 1, 2, {}, 0, "", [])
    [obs], _ = map_groups([ScopeSpans({}, {"name": "livekit-agents"}, [span])])
    assert obs["level"] == "DEBUG"
