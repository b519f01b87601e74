"""The OTLP/HTTP span exporter, configured with Langfuse auth and SDK headers."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from langfuse_nb._settings import Settings
from langfuse_nb.wire.attributes import SDK_NAME, SDK_VERSION

if TYPE_CHECKING:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter


def auth_header(public_key: str, secret_key: str) -> str:
    token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode("ascii")
    return f"Basic {token}"


def otlp_headers(settings: Settings) -> dict[str, str]:
    """Headers of the OTLP channel; ``additional_headers`` override the defaults."""
    headers = {
        "Authorization": auth_header(settings.public_key or "", settings.secret_key or ""),
        "x-langfuse-sdk-name": SDK_NAME,
        "x-langfuse-sdk-version": SDK_VERSION,
        "x-langfuse-public-key": settings.public_key or "",
    }
    headers.update(settings.additional_headers or {})
    return headers


def build_exporter(settings: Settings) -> OTLPSpanExporter:
    # imported here: the exporter pulls in protobuf and requests; `import langfuse_nb` should not pay
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(
        endpoint=settings.traces_endpoint,
        headers=otlp_headers(settings),
        timeout=settings.timeout,
    )
