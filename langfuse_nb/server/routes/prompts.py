"""Prompt management endpoints (v2). Names may contain ``/``: the path parameter is a catch-all."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from starlette.responses import Response

from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.http import JsonBody, JsonResponse, config_of, db_of, json_object, no_content, ok
from langfuse_nb.server.query import Where
from langfuse_nb.server.routes import Route
from langfuse_nb.server.routes.paging import list_page
from langfuse_nb.server.store import prompts


def _string_list(body: dict[str, Any], key: str, *, nullable: bool) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None if nullable else []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BadRequest(f"'{key}' must be a list of non-empty strings")
    return value


_VARIABLE = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")


def _chat_messages(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise BadRequest("a chat prompt needs 'prompt' to be a list of messages")
    _check_messages(value)
    placeholders = {m["name"] for m in value if m.get("type") == "placeholder"}
    variables = {v for m in value if m.get("type") != "placeholder" for v in _VARIABLE.findall(m["content"])}
    clash = placeholders & variables
    if clash:
        raise BadRequest(f"names used both as variables and placeholders: {sorted(clash)}")
    return value


def _check_messages(value: list[Any]) -> None:
    for index, message in enumerate(value):
        if not isinstance(message, dict):
            raise BadRequest(f"prompt[{index}] must be an object")
        if message.get("type") == "placeholder":
            if not isinstance(message.get("name"), str) or not message["name"]:
                raise BadRequest(f"prompt[{index}] is a placeholder and needs a non-empty 'name'")
        elif not isinstance(message.get("role"), str) or not isinstance(message.get("content"), str):
            raise BadRequest(f"prompt[{index}] needs string 'role' and 'content' (or type 'placeholder')")


def parse_create(body: Any) -> dict[str, Any]:
    body = json_object(body)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("'name' is required and must be a non-empty string")
    kind = body.get("type") or "text"
    if kind not in ("text", "chat"):
        raise BadRequest("'type' must be 'text' or 'chat'")
    prompt = body.get("prompt")
    if kind == "text" and not isinstance(prompt, str):
        raise BadRequest("a text prompt needs 'prompt' to be a string")
    labels = _string_list(body, "labels", nullable=False) or []
    if prompts.LATEST in labels:
        raise BadRequest("the label 'latest' is reserved and set automatically")
    commit = body.get("commitMessage")
    if commit is not None and not isinstance(commit, str):
        raise BadRequest("'commitMessage' must be a string or null")
    config = body.get("config")
    return {
        "name": name,
        "type": kind,
        "prompt": _chat_messages(prompt) if kind == "chat" else prompt,
        "labels": labels,
        "tags": _string_list(body, "tags", nullable=True),
        "config": {} if config is None else config,
        "commit_message": commit,
    }


def create_prompt(request: Request, body: JsonBody) -> JsonResponse:
    spec = parse_create(body)
    with db_of(request).write() as conn:
        row = prompts.create(conn, spec)
    return ok(prompts.to_view(row, config_of(request).project_id))


def get_prompt(
    request: Request,
    name: str,
    version: int | None = None,
    label: str | None = None,
) -> JsonResponse:
    found = prompts.find(db_of(request).reader, name, version, label)
    return ok(prompts.to_view(found, config_of(request).project_id))


def update_labels(request: Request, name: str, version: int, body: JsonBody) -> JsonResponse:
    labels = _string_list(json_object(body), "newLabels", nullable=False)
    if labels is None or prompts.LATEST in labels:
        raise BadRequest("'newLabels' must be a list of labels; 'latest' is reserved")
    with db_of(request).write() as conn:
        row = prompts.add_labels(conn, name, version, labels)
    return ok(prompts.to_view(row, config_of(request).project_id))


def delete_prompt(
    request: Request, name: str, version: int | None = None, label: str | None = None
) -> Response:
    with db_of(request).write() as conn:
        prompts.delete(conn, name, version, label)
    return no_content()


def list_prompts(
    request: Request,
    name: str | None = None,
    label: str | None = None,
    tag: str | None = None,
    version: int | None = None,
    page: int | None = None,
    limit: int | None = None,
    fromUpdatedAt: str | None = None,
    toUpdatedAt: str | None = None,
) -> JsonResponse:
    paging = list_page(page, limit)
    where = Where()
    where.eq("name", name)
    where.eq("version", version)
    if label is not None:
        where.add("EXISTS (SELECT 1 FROM json_each(prompts.labels) WHERE value = ?)", label)
    if tag is not None:
        where.add("EXISTS (SELECT 1 FROM json_each(prompts.tags) WHERE value = ?)", tag)
    where.time("updated_at", ">=", fromUpdatedAt)
    where.time("updated_at", "<", toUpdatedAt)
    data, total = prompts.list_grouped(
        db_of(request).reader, where.sql(), where.params, paging.limit, paging.offset
    )
    return ok({"data": data, "meta": paging.meta(total)})


ROUTES = [
    Route("GET", "/api/public/v2/prompts", list_prompts),
    Route("POST", "/api/public/v2/prompts", create_prompt),
    Route("PATCH", "/api/public/v2/prompts/{name:path}/versions/{version}", update_labels),
    Route("GET", "/api/public/v2/prompts/{name:path}", get_prompt),
    Route("DELETE", "/api/public/v2/prompts/{name:path}", delete_prompt),
]
