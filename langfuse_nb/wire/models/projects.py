"""Projects and their API keys."""

from __future__ import annotations

from typing import Any

from ._base import Datetime, WireModel


class Project(WireModel):
    id: str
    name: str
    metadata: dict[str, Any]
    retention_days: int | None = None


class Projects(WireModel):
    data: list[Project]


class ProjectDeletionResponse(WireModel):
    success: bool
    message: str


class ApiKeySummary(WireModel):
    id: str
    created_at: Datetime
    expires_at: Datetime | None = None
    last_used_at: Datetime | None = None
    note: str | None = None
    public_key: str
    display_secret_key: str


class ApiKeyList(WireModel):
    api_keys: list[ApiKeySummary]


class ApiKeyResponse(WireModel):
    id: str
    created_at: Datetime
    public_key: str
    secret_key: str
    display_secret_key: str
    note: str | None = None


class ApiKeyDeletionResponse(WireModel):
    success: bool


__all__ = [
    "ApiKeyDeletionResponse",
    "ApiKeyList",
    "ApiKeyResponse",
    "ApiKeySummary",
    "Project",
    "ProjectDeletionResponse",
    "Projects",
]
