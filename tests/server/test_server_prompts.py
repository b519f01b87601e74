"""Prompts v2: versions, labels, tags, chat placeholders, names with '/' and spaces."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import server_testkit as kit


def _name(prefix: str) -> str:
    return f"{prefix}/{uuid.uuid4().hex[:8]} with space"


def _create(client, **body):
    response = client.post("/api/public/v2/prompts", json={"type": "text", "labels": [], **body})
    assert response.status_code == 200, response.text
    kit.check(response.json(), "Prompt")
    return response.json()


def _get(client, name, **params):
    return client.get(f"/api/public/v2/prompts/{quote(name, safe='')}", params=params)


def test_versions_labels_and_latest(client):
    name = _name("folder")
    first = _create(
        client,
        name=name,
        prompt="v1 {{x}}",
        labels=["production"],
        tags=["a"],
        config={"t": 1},
        commitMessage="first",
    )
    assert (first["version"], first["labels"], first["tags"]) == (1, ["production", "latest"], ["a"])
    second = _create(client, name=name, prompt="v2", labels=["staging"], tags=None)
    assert (second["version"], second["labels"], second["tags"]) == (2, ["staging", "latest"], ["a"])
    assert _get(client, name).json()["version"] == 1  # production by default
    assert _get(client, name, label="latest").json()["version"] == 2
    assert _get(client, name, version=1).json()["labels"] == ["production"]  # latest moved away
    assert _get(client, name, version=1).json()["commitMessage"] == "first"
    third = _create(client, name=name, prompt="v3", labels=["production"], tags=["b"])
    assert _get(client, name).json()["version"] == 3
    assert _get(client, name, version=1).json()["labels"] == [] and _get(client, name, version=1).json()[
        "tags"
    ] == ["b"]
    patched = client.patch(
        f"/api/public/v2/prompts/{quote(name, safe='')}/versions/2", json={"newLabels": ["production", "qa"]}
    )
    assert patched.status_code == 200
    kit.check(patched.json(), "Prompt")
    assert patched.json()["labels"] == ["staging", "qa", "production"] or set(patched.json()["labels"]) == {
        "staging",
        "production",
        "qa",
    }
    assert "production" not in _get(client, name, version=3).json()["labels"]
    assert third["config"] == {}


def test_chat_prompt_with_placeholder(client):
    name = _name("chat")
    messages = [{"role": "system", "content": "be {{tone}}"}, {"type": "placeholder", "name": "history"}]
    created = _create(client, name=name, type="chat", prompt=messages, labels=["production"])
    fetched = _get(client, name).json()
    kit.check(fetched, "Prompt")
    assert fetched["type"] == "chat" and fetched["prompt"] == messages == created["prompt"]
    clash = client.post("/api/public/v2/prompts", json={"name": name, "type": "text", "prompt": "x"})
    assert clash.status_code == 400 and "different prompt type" in clash.json()["message"]


def test_not_found_and_both_selectors(client):
    name = _name("missing")
    missing = _get(client, name)
    assert missing.status_code == 404 and "label 'production'" in missing.json()["message"]
    _create(client, name=name, prompt="x")
    assert _get(client, name, version=7).status_code == 404
    assert _get(client, name, version=1, label="latest").status_code == 400
    assert (
        client.patch(
            f"/api/public/v2/prompts/{quote(name, safe='')}/versions/9", json={"newLabels": ["a"]}
        ).status_code
        == 404
    )


def test_list_and_delete(client):
    name = _name("listed")
    _create(client, name=name, prompt="1", tags=["t-list"], labels=["production"])
    _create(client, name=name, prompt="2")
    listing = client.get("/api/public/v2/prompts", params={"name": name}).json()
    kit.check(listing, "PromptMetaListResponse")
    assert listing["meta"]["totalItems"] == 1
    entry = listing["data"][0]
    assert entry["versions"] == [1, 2] and set(entry["labels"]) == {"production", "latest"}
    assert client.get("/api/public/v2/prompts", params={"tag": "t-list"}).json()["data"][0]["name"] == name
    assert client.get("/api/public/v2/prompts", params={"label": "production", "name": name}).json()["data"][
        0
    ]["versions"] == [1]
    assert (
        client.delete(f"/api/public/v2/prompts/{quote(name, safe='')}", params={"version": 2}).status_code
        == 204
    )
    assert _get(client, name, label="latest").json()["version"] == 1  # latest follows the newest survivor
    assert client.delete(f"/api/public/v2/prompts/{quote(name, safe='')}").status_code == 204
    assert _get(client, name, version=1).status_code == 404


def test_create_validation(client):
    cases = [
        {"prompt": "x"},
        {"name": "", "prompt": "x"},
        {"name": "n", "prompt": 3},
        {"name": "n", "type": "chat", "prompt": "text"},
        {"name": "n", "type": "chat", "prompt": [{"role": 1}]},
        {"name": "n", "prompt": "x", "labels": ["latest"]},
        {"name": "n", "prompt": "x", "tags": "t"},
        {"name": "n", "type": "other", "prompt": "x"},
        {
            "name": "n",
            "type": "chat",
            "prompt": [{"role": "user", "content": "{{ hist }}"}, {"type": "placeholder", "name": "hist"}],
        },
    ]
    for body in cases:
        response = client.post("/api/public/v2/prompts", json=body)
        assert response.status_code == 400, body
        assert response.json()["message"]


def test_list_is_ordered_by_name_and_filters_by_version(client):
    prefix = f"order-{uuid.uuid4().hex[:6]}"
    for name in (f"{prefix}/b", f"{prefix}/a", f"{prefix}/c"):
        client.post("/api/public/v2/prompts", json={"name": name, "prompt": "x", "tags": [prefix]})
    client.post("/api/public/v2/prompts", json={"name": f"{prefix}/c", "prompt": "y"})
    listing = client.get("/api/public/v2/prompts", params={"tag": prefix}).json()
    assert [p["name"] for p in listing["data"]] == [f"{prefix}/a", f"{prefix}/b", f"{prefix}/c"]
    second = client.get("/api/public/v2/prompts", params={"tag": prefix, "version": 2}).json()
    assert [(p["name"], p["versions"]) for p in second["data"]] == [(f"{prefix}/c", [2])]
