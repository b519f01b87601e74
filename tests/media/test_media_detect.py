"""Pure media tests: LangfuseMedia ids/reference strings, the detection walk and its fast path."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest

from langfuse_nb.media import LangfuseMedia
from langfuse_nb.sdk import media as media_mod
from langfuse_nb.sdk.media import MediaManager, may_contain_media
from langfuse_nb.sdk.serialize import dumps

ref_media = pytest.importorskip("langfuse.media")

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()


class Recorder(MediaManager):
    """A manager that records jobs instead of uploading."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(api=None, **kwargs)
        self.jobs: list[media_mod.UploadJob] = []

    def _next_worker(self) -> Any:
        return type("W", (), {"put": lambda _, job: self.jobs.append(job)})()


def process(value: Any, manager: MediaManager | None = None) -> Any:
    return (manager or Recorder()).process(value, field="input", trace_id="t" * 32, observation_id="o" * 16)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base64_data_uri": PNG_URI},
        {"content_bytes": b"hello", "content_type": "text/plain"},
        {"content_bytes": PNG, "content_type": "image/png"},
    ],
)
def test_ids_and_reference_match_reference(kwargs: dict) -> None:
    ours, ref = LangfuseMedia(**kwargs), ref_media.LangfuseMedia(**kwargs)
    assert ours._media_id == ref._media_id and len(ours._media_id) == 22
    assert ours._content_sha256_hash == ref._content_sha256_hash
    assert ours._reference_string == ref._reference_string
    assert ours._content_length == ref._content_length


def test_file_source(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(PNG)
    media = LangfuseMedia(file_path=str(path), content_type="image/png")
    assert (
        media._reference_string
        == ref_media.LangfuseMedia(file_path=str(path), content_type="image/png")._reference_string
    )
    assert "source=file" in media._reference_string


def test_unreadable_media_warns_and_has_no_reference(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="langfuse_nb"):
        bad = LangfuseMedia(base64_data_uri="data:image/png,notbase64")
        missing = LangfuseMedia(file_path=str(tmp_path / "nope"), content_type="image/png")
    assert bad._reference_string is None and missing._reference_string is None
    assert dumps({"m": bad}) == '{"m": "<Upload handling failed for LangfuseMedia of type None>"}'
    assert len(caplog.records) == 2


def test_parse_reference_string_roundtrip() -> None:
    media = LangfuseMedia(content_bytes=b"x", content_type="text/plain")
    parsed = LangfuseMedia.parse_reference_string(media._reference_string)
    assert parsed == {"media_id": media._media_id, "source": "bytes", "content_type": "text/plain"}
    with pytest.raises(ValueError):
        LangfuseMedia.parse_reference_string("@@@langfuseMedia:id=x@@@")


def _copy(text: str) -> str:
    return "".join(list(text))  # a distinct str object with the same value


def test_walk_replaces_media_like_the_reference() -> None:
    # Distinct string objects: the reference skips any object it has already seen (even a repeated,
    # non-cyclic string), we only guard against cycles; with distinct objects both agree.
    b64 = base64.b64encode(PNG).decode()
    value = {
        "text": "plain",
        "uri": PNG_URI,
        "list": [1, None, _copy(PNG_URI), {"deep": _copy(PNG_URI)}],
        "anthropic": {"type": "base64", "media_type": "image/png", "data": b64},
        "vertex": {"type": "media", "mime_type": "image/png", "data": b64},
        "obj": LangfuseMedia(content_bytes=b"abc", content_type="text/plain"),
    }
    manager = Recorder()
    ours = dumps(process(value, manager))
    assert ours == _reference_process(value)
    assert "data:image" not in ours and ours.count("@@@langfuseMedia:type=image/png") == 5
    assert {job.media_id for job in manager.jobs} == {
        LangfuseMedia(content_bytes=PNG, content_type="image/png")._media_id,
        LangfuseMedia(content_bytes=b"abc", content_type="text/plain")._media_id,
    }
    assert all(job.field == "input" and job.trace_id == "t" * 32 for job in manager.jobs)


def _reference_process(value: Any) -> str:
    """The reference SDK's walk + serializer on the same value."""
    import json
    import queue

    from langfuse._task_manager.media_manager import MediaManager as RefManager
    from langfuse._utils.serializer import EventSerializer

    manager = RefManager(api_client=None, media_upload_queue=queue.Queue())  # type: ignore[arg-type]
    processed = manager._find_and_process_media(data=value, trace_id="t", observation_id="o", field="input")
    return json.dumps(_to_ref_media(processed), cls=EventSerializer)


def _to_ref_media(value: Any) -> Any:
    """Swap our LangfuseMedia for the reference's so its serializer renders reference strings."""
    if isinstance(value, LangfuseMedia):
        return ref_media.LangfuseMedia(content_bytes=value._content_bytes, content_type=value._content_type)
    if isinstance(value, dict):
        return {k: _to_ref_media(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_ref_media(v) for v in value]
    return value


def test_depth_limit_and_cycles() -> None:
    deep: Any = PNG_URI
    for _ in range(10):
        deep = [deep]
    assert process(deep) == deep  # the URI sits at level 11: beyond the limit, left alone
    shallow: Any = PNG_URI
    for _ in range(9):
        shallow = [shallow]
    assert process(shallow) != shallow
    same = [PNG_URI, PNG_URI]  # one object twice: both occurrences are replaced
    assert all(isinstance(item, LangfuseMedia) for item in process(same))
    cyclic: dict[str, Any] = {"uri": PNG_URI}
    cyclic["self"] = cyclic
    out = process(cyclic)
    assert isinstance(out["uri"], LangfuseMedia) and out["self"] is cyclic


def test_top_level_string_and_fast_paths() -> None:
    assert isinstance(process(PNG_URI), LangfuseMedia)
    for value in (None, 1, 2.5, True, "text", {"a": [1, "b"]}, ("data:x",), {"t": "see data: here"}):
        assert process(value) == value if not isinstance(value, tuple) else process(value) is value
    assert not may_contain_media({"a": ["x" * 1000, {"b": 1}]})
    assert may_contain_media({"a": [PNG_URI]})
    assert may_contain_media({"m": LangfuseMedia(content_bytes=b"1", content_type="text/plain")})
    assert may_contain_media([{"type": "base64", "media_type": "image/png", "data": "AAAA"}])


def test_fast_path_without_orjson_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media_mod, "orjson", None)
    assert not may_contain_media({"a": ["x", {"b": 1}]})
    assert may_contain_media({"a": [{"b": PNG_URI}]})
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    assert not may_contain_media(cyclic)


def test_invalid_data_uri_becomes_failure_note() -> None:
    manager = Recorder()
    out = process({"x": "data: not media"}, manager)
    assert dumps(out) == '{"x": "<Upload handling failed for LangfuseMedia of type None>"}'
    assert manager.jobs == []


def test_disabled_by_env_or_flag() -> None:
    assert process({"u": PNG_URI}, Recorder(environ={"LANGFUSE_MEDIA_UPLOAD_ENABLED": "false"})) == {
        "u": PNG_URI
    }
    assert process({"u": PNG_URI}, Recorder(enabled=False)) == {"u": PNG_URI}


def test_oversized_and_unsupported_media_are_not_uploaded(caplog: pytest.LogCaptureFixture) -> None:
    manager = Recorder(max_media_bytes=10)
    with caplog.at_level(logging.WARNING, logger="langfuse_nb"):
        out = process({"u": PNG_URI, "odd": "data:image/x-odd;base64,AAAA"}, manager)
    assert manager.jobs == [] and len(caplog.records) == 2
    assert dumps(out).count("@@@langfuseMedia:") == 2  # the span still carries references, not bytes
