"""Media end to end: upload from a traced span, reference stored in the observation, resolve back."""

from __future__ import annotations

import base64
from typing import Any

from langfuse_nb.media import LangfuseMedia

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()


def test_media_round_trip(lf: Any) -> None:
    pdf = LangfuseMedia(content_bytes=b"%PDF-1.4 tiny", content_type="application/pdf")
    with lf.start_as_current_span(name="with-media", input={"image": PNG_URI, "doc": pdf}) as span:
        span.update(output=[{"nested": {"deeper": PNG_URI}}])
        trace_id, observation_id = span.trace_id, span.id
    lf.flush(timeout=10)

    observation = lf.api.observations.get(observation_id)
    assert observation.trace_id == trace_id
    image_ref = LangfuseMedia(content_bytes=PNG, content_type="image/png")._reference_string.replace(
        "source=bytes", "source=base64_data_uri"
    )
    assert observation.input == {"image": image_ref, "doc": pdf._reference_string}
    assert observation.output == [{"nested": {"deeper": image_ref}}]
    assert "base64," not in str(observation.input)

    resolved = lf.resolve_media_references(obj=observation.input, resolve_with="base64_data_uri")
    assert resolved["image"] == PNG_URI
    assert resolved["doc"] == "data:application/pdf;base64," + base64.b64encode(b"%PDF-1.4 tiny").decode()


def test_anthropic_block_in_span_output(lf: Any) -> None:
    block = {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PNG).decode()}
    with lf.start_as_current_span(name="anthropic", output={"content": [block]}) as span:
        observation_id = span.id
    lf.flush(timeout=10)
    stored = lf.api.observations.get(observation_id).output["content"][0]
    assert stored["type"] == "base64" and stored["data"].startswith("@@@langfuseMedia:type=image/png|")
    resolved = lf.resolve_media_references(obj=stored, resolve_with="base64_data_uri")
    assert resolved["data"] == PNG_URI


def test_unknown_reference_is_left_unchanged(lf: Any) -> None:
    ref = "@@@langfuseMedia:type=image/png|id=AAAAAAAAAAAAAAAAAAAAAA|source=bytes@@@"
    assert lf.resolve_media_references(obj={"x": [f"see {ref}"]}, resolve_with="base64_data_uri") == {
        "x": [f"see {ref}"]
    }


def test_text_input_with_data_uri(lf: Any) -> None:
    with lf.start_as_current_span(name="uri-input", input=PNG_URI) as span:
        observation_id = span.id
    lf.flush(timeout=10)
    stored = lf.api.observations.get(observation_id).input
    assert isinstance(stored, str) and stored.startswith("@@@langfuseMedia:type=image/png|id=")
    assert lf.resolve_media_references(obj=stored, resolve_with="base64_data_uri") == PNG_URI
