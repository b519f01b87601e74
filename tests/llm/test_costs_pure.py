"""Model matching, usage normalization, tiers and cost: the spec's worked examples as a table."""

from __future__ import annotations

import pytest

from langfuse_nb.server import costs


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gpt-4o", "gpt-4o"),
        ("GPT-4O", "gpt-4o"),
        ("openai/gpt-4o", "gpt-4o"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18"),
        ("anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3.5-sonnet-20241022"),
        ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
        ("claude-haiku-4-5", "claude-haiku-4-5-20251001"),
        ("my-local-llm", None),
        ("", None),
    ],
)
def test_builtin_matching(name, expected):
    model = costs.match_model(name)
    assert (model.model_name if model else None) == expected


def test_every_builtin_pattern_compiles_and_has_a_default_tier():
    models = costs.builtin_models()
    assert len(models) == 167
    assert all(m.regex is not None and m.default_tier is not None for m in models)


def test_project_model_beats_builtin():
    tier = costs.Tier("t", "Standard", True, 0, (), {"input": 1e-6})
    mine = costs.ModelDef("m1", "my-gpt4o", "(?i)^gpt-4o$", (tier,), project_owned=True)
    model = costs.match_model("gpt-4o", (mine,))
    result = costs.compute({"input": 100}, {}, model)
    assert model is mine
    assert result.cost == {"input": pytest.approx(0.0001), "total": pytest.approx(0.0001)}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (  # OpenAI Chat Completions usage with details
            {
                "prompt_tokens": 100,
                "completion_tokens": 20,
                "total_tokens": 120,
                "prompt_tokens_details": {"cached_tokens": 30, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 5},
            },
            {
                "input": 70,
                "output": 15,
                "total": 120,
                "input_cached_tokens": 30,
                "input_audio_tokens": 0,
                "output_reasoning_tokens": 5,
            },
        ),
        (  # OpenAI Responses usage
            {
                "input_tokens": 10,
                "output_tokens": 4,
                "total_tokens": 14,
                "input_tokens_details": {"cached_tokens": 2},
            },
            {"input": 8, "output": 4, "total": 14, "input_cached_tokens": 2},
        ),
        # the issue-11 case: OpenAI keys without details
        (
            {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
            {"input": 100, "output": 50, "total": 150},
        ),
        # any other map: integers, integral floats and parseInt strings survive
        (
            {"input": 5, "x": 10.0, "y": "12abc", "z": 1.5, "n": -1, "b": True, "l": [1]},
            {"input": 5, "x": 10, "y": 12},
        ),
        # an extra key makes it a plain map (no renaming)
        ({"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3, "extra": 4}, None),
    ],
)
def test_usage_normalization(raw, expected):
    if expected is None:
        expected = dict(raw)
    assert costs.normalize_usage(raw) == expected


@pytest.mark.parametrize(
    ("model", "usage", "cost", "params", "exp_cost", "exp_total", "tier"),
    [
        (
            "gpt-4o",
            {"input": 1000, "output": 200, "input_cached_tokens": 500},
            {},
            {"service_tier": "priority"},
            {"input": 0.00425, "output": 0.0034, "input_cached_tokens": 0.0010625},
            0.0087125,
            "Fast mode",
        ),
        (
            "gemini-2.5-pro",
            {"input": 250000, "output": 1000},
            {},
            None,
            {"input": 0.625, "output": 0.015},
            0.64,
            "Large Context",
        ),
        (
            "gemini-2.5-pro",
            {"input": 150000, "output": 90000},
            {},
            None,
            {"input": 0.1875, "output": 0.9},
            1.0875,
            "Standard",
        ),
        (
            "gpt-4o",
            {"input": 10},
            {},
            {"service_tier": "Priority"},
            {"input": 0.000025},
            0.000025,
            "Standard",
        ),
        ("text-embedding-3-small", {"input": 1000}, {}, None, {}, 0.00002, "Standard"),
        (
            "gpt-4o",
            {"input": 10, "output": 5},
            {"input": 0.01, "output": 0.02},
            None,
            {"input": 0.01, "output": 0.02},
            0.03,
            "Standard",
        ),
        ("gpt-4o", {}, {"total": 0.5}, None, {}, 0.5, None),
        (
            "claude-haiku-4-5",
            {"input": 12, "output": 7},
            {},
            None,
            {"input": 0.000012, "output": 0.000035},
            0.000047,
            "Standard",
        ),
        ("my-local-llm", {"input": 50, "output": 10}, {}, None, None, None, None),
        (
            "gpt-4o",
            {"input": 100, "output": 10, "total": 90},
            {},
            None,
            {"input": 0.00025, "output": 0.0001},
            0.00035,
            "Standard",
        ),
    ],
)
def test_cost_worked_examples(model, usage, cost, params, exp_cost, exp_total, tier):
    result = costs.compute(usage, cost, costs.match_model(model), params)
    if usage:
        assert result.usage["total"] == usage.get("total", sum(usage.values()))
    for key, value in (exp_cost or {}).items():
        assert result.cost[key] == pytest.approx(value, rel=1e-12)
    if exp_cost is None:
        assert result.cost == {}
    assert result.total_cost == (pytest.approx(exp_total, rel=1e-12) if exp_total is not None else None)
    assert result.tier_name == tier


def test_client_cost_without_computable_total():
    result = costs.compute({}, {"input": 0.01, "cache_read": 0.001}, None)
    assert result.cost == {"input": 0.01, "cache_read": 0.001} and result.total_cost is None


def test_cost_normalization_drops_junk():
    assert costs.normalize_cost({"a": 1, "b": "2", "c": -1, "d": float("nan"), "e": True}) == {"a": 1.0}
