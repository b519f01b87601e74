"""Magic argument parsing: a table of lines and what they give (or which one-line error)."""

from __future__ import annotations

import pytest

from langfuse_nb.notebook import args as A


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", {}),
        ("name=demo", {"name": "demo"}),
        ("name='two words' as_type=generation", {"name": "two words", "as_type": "generation"}),
        ("tags=a,b, metadata='{\"k\": [1, 2]}'", {"tags": ["a", "b"], "metadata": {"k": [1, 2]}}),
        ("capture_output=false display=link", {"capture_output": False, "display": "link"}),
        ("user_id=u-1 session_id=s-1", {"user_id": "u-1", "session_id": "s-1"}),
    ],
)
def test_trace_params(line: str, expected: dict) -> None:
    assert A.parse(line, A.TRACE_PARAMS) == expected


@pytest.mark.parametrize("as_type", A.OBSERVATION_TYPES)
def test_all_ten_types_accepted(as_type: str) -> None:
    assert A.parse(f"as_type={as_type}", A.TRACE_PARAMS) == {"as_type": as_type}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("nme=x", "unknown argument 'nme' (expected: name, as_type,"),
        ("as_type=banana", "bad value for as_type='banana': expected one of span, generation,"),
        ("metadata={oops", "bad value for metadata='{oops': not valid JSON"),
        ("metadata=[1]", "expected a JSON object"),
        ("capture_output=maybe", "expected true or false"),
        ("name=a name=b", "name given twice"),
        ("loose", "expected key=value, got 'loose'"),
        ("name='unclosed", "cannot parse arguments"),
        ("name=", "must not be empty"),
    ],
)
def test_errors_are_one_line(line: str, message: str) -> None:
    with pytest.raises(A.ArgumentError) as info:
        A.parse(line, A.TRACE_PARAMS)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_positional_name() -> None:
    assert A.parse("greeting label=staging", A.PROMPT_PARAMS, positional="name") == {
        "name": "greeting",
        "label": "staging",
    }
    assert A.parse("version=3 greeting", A.PROMPT_PARAMS, positional="name") == {
        "name": "greeting",
        "version": 3,
    }
    with pytest.raises(A.ArgumentError, match="positive integer"):
        A.parse("greeting version=0", A.PROMPT_PARAMS, positional="name")


def test_describe_lists_every_key() -> None:
    text = A.describe(A.TRACE_PARAMS)
    assert all(p.name in text for p in A.TRACE_PARAMS)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'name=x metadata={"notebook":"quickstart","step":2}',
            {"name": "x", "metadata": {"notebook": "quickstart", "step": 2}},
        ),
        (
            'metadata={"note": "a b } c", "list": [1, {"x": "]"}]} name="two words"',
            {"metadata": {"note": "a b } c", "list": [1, {"x": "]"}]}, "name": "two words"},
        ),
        ("metadata={'k': 1}", {"metadata": {"k": 1}}),
        ('tags=["a", "b c"]', {"tags": ["a", "b c"]}),
        ("tags=a,b user_id=u\\ 1", {"tags": ["a", "b"], "user_id": "u 1"}),
        ('name="say \\"hi\\""', {"name": 'say "hi"'}),
    ],
)
def test_what_people_type(line: str, expected: dict) -> None:
    """JSON typed as JSON (no shell quotes, spaces inside strings), quoted values, key=value lists."""
    assert A.parse(line, A.TRACE_PARAMS) == expected


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("metadata={oops", ("metadata", 'example: metadata={"step": 2}')),
        ("metadata=[1, 2]", ("metadata", "expected a JSON object")),
        ("nme=x", ("'nme'", "e.g. name=")),
        ("as_type=banana", ("as_type", "example: as_type=generation")),
    ],
)
def test_errors_name_the_key_and_give_an_example(line: str, names: tuple[str, ...]) -> None:
    with pytest.raises(A.ArgumentError) as info:
        A.parse(line, A.TRACE_PARAMS)
    assert all(part in str(info.value) for part in names) and "\n" not in str(info.value)
