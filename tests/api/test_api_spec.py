"""Pure request-description helpers, as tables."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import pytest

from langfuse_nb.api import CreateDatasetRequest, DatasetStatus
from langfuse_nb.api._spec import OMIT, as_body, path, query_params, to_jsonable
from langfuse_nb.api.headers import merge_headers, sdk_headers
from langfuse_nb.wire.models import serialize_datetime

UTC = dt.timezone.utc
PLUS2 = dt.timezone(dt.timedelta(hours=2))


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        (("a/b c",), "x/a%2Fb%20c"),
        (("ä&?#%",), "x/%C3%A4%26%3F%23%25"),
        ((7,), "x/7"),
        ((DatasetStatus.ACTIVE,), "x/ACTIVE"),
    ],
)
def test_path_segments_are_fully_encoded(segments: tuple, expected: str) -> None:
    assert path("x/{}", *segments) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"a": None, "b": OMIT}, []),
        ({"tags": ["x", "y"], "one": "z"}, [("tags", "x"), ("tags", "y"), ("one", "z")]),
        ({"tags": ("x",)}, [("tags", "x")]),
        ({"flag": True, "off": False, "n": 0}, [("flag", "true"), ("off", "false"), ("n", "0")]),
        ({"t": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)}, [("t", "2024-01-02T03:04:05Z")]),
        (
            {"t": dt.datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=PLUS2)},
            [("t", "2024-01-02T03:04:05.000600+02:00")],
        ),
        ({"level": DatasetStatus.ARCHIVED}, [("level", "ARCHIVED")]),
        ({"obj": {"k": 1, "l": [1, 2]}}, [("obj[k]", "1"), ("obj[l]", "1"), ("obj[l]", "2")]),
    ],
)
def test_query_encoding(query: dict, expected: list) -> None:
    assert query_params(query) == expected


def test_naive_datetimes_are_local_time() -> None:
    naive = dt.datetime(2024, 6, 1, 12, 0)
    assert dt.datetime.fromisoformat(serialize_datetime(naive).replace("Z", "+00:00")) == naive.astimezone()


class Color(enum.Enum):
    RED = "red"


def test_to_jsonable() -> None:
    value = {
        "when": dt.datetime(2024, 1, 1, tzinfo=UTC),
        "day": dt.date(2024, 1, 2),
        "enum": Color.RED,
        "id": uuid.UUID(int=1),
        "skip": OMIT,
        "null": None,
        "nested": [CreateDatasetRequest(name="d", metadata=None)],
        1: (1, 2),
    }
    assert to_jsonable(value) == {
        "when": "2024-01-01T00:00:00Z",
        "day": "2024-01-02",
        "enum": "red",
        "id": "00000000-0000-0000-0000-000000000001",
        "null": None,
        "nested": [{"name": "d", "metadata": None}],
        "1": [1, 2],
    }


def test_as_body_rejects_invalid_dicts() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError):
        as_body({"description": "no name"}, CreateDatasetRequest)


def test_sdk_headers_for_other_channels() -> None:
    assert sdk_headers("pk-1") == {
        "x-langfuse-sdk-name": "python",
        "x-langfuse-sdk-version": "3.11.2",
        "x-langfuse-public-key": "pk-1",
    }
    assert "x-langfuse-public-key" not in sdk_headers(None)


def test_merge_headers_is_case_insensitive() -> None:
    assert merge_headers({"X-A": "1", "B": "2"}, {"x-a": "3"}) == {"B": "2", "x-a": "3"}
    assert merge_headers({"A": "1"}, None) == {"A": "1"}
