"""HTTP Basic auth on every /api/public route except health and the tokenised media URLs."""

from __future__ import annotations

import base64

import httpx
import pytest
import server_testkit as kit

PROTECTED = [
    ("GET", "/api/public/projects"),
    ("POST", "/api/public/otel/v1/traces"),
    ("POST", "/api/public/ingestion"),
    ("GET", "/api/public/traces"),
    ("GET", "/api/public/traces/x"),
    ("DELETE", "/api/public/traces/x"),
    ("GET", "/api/public/observations"),
    ("GET", "/api/public/v2/scores"),
    ("GET", "/api/public/sessions"),
    ("GET", "/api/public/v2/prompts"),
    ("GET", "/api/public/v2/prompts/a%2Fb"),
    ("POST", "/api/public/v2/datasets"),
    ("GET", "/api/public/dataset-items"),
    ("POST", "/api/public/dataset-run-items"),
    ("POST", "/api/public/media"),
    ("GET", "/api/public/media/AAAAAAAAAAAAAAAAAAAAAA"),
    ("GET", "/api/public/does-not-exist"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "auth", [None, ("pk-lf-local", "wrong"), ("wrong", "sk-lf-local"), "Bearer abc", "Basic !!notbase64"]
)
def test_rejected_without_valid_keys(server, method, path, auth):
    headers = {}
    if isinstance(auth, str):
        headers["authorization"] = auth
    kwargs = {"auth": auth} if isinstance(auth, tuple) else {}
    response = httpx.request(method, server.url + path, headers=headers, **kwargs)
    assert response.status_code == 401
    assert response.json()["error"] == "UnauthorizedError" and "Basic" in response.json()["message"]


def test_health_needs_no_auth_and_keys_work(server):
    health = httpx.get(f"{server.url}/api/public/health").json()
    assert health["status"] == "OK"
    kit.check(health, "HealthResponse")
    token = base64.b64encode(f"{server.public_key}:{server.secret_key}".encode()).decode()
    projects = httpx.get(f"{server.url}/api/public/projects", headers={"authorization": f"basic {token}"})
    assert projects.status_code == 200 and projects.json()["data"][0]["id"]
    kit.check(projects.json(), "Projects")


def test_custom_keys(tmp_path):
    from langfuse_nb.server.runner import start_in_thread

    handle = start_in_thread(db_path=tmp_path / "k.db", public_key="pk-lf-custom", secret_key="sk-lf-custom")
    try:
        assert (
            httpx.get(f"{handle.url}/api/public/projects", auth=("pk-lf-local", "sk-lf-local")).status_code
            == 401
        )
        assert (
            httpx.get(f"{handle.url}/api/public/projects", auth=("pk-lf-custom", "sk-lf-custom")).status_code
            == 200
        )
    finally:
        handle.stop()


def test_non_ascii_credentials_are_401_not_500(server):
    for user, password in (("pké", "sk"), (server.public_key, "sk-lf-locál")):
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        response = httpx.get(f"{server.url}/api/public/projects", headers={"authorization": f"Basic {token}"})
        assert response.status_code == 401, response.text


def test_non_ascii_configured_keys_work(tmp_path):
    from langfuse_nb.server.runner import start_in_thread

    handle = start_in_thread(db_path=tmp_path / "u.db", public_key="pk-ключ", secret_key="sk-秘密")
    try:
        token = base64.b64encode("pk-ключ:sk-秘密".encode()).decode()
        ok = httpx.get(f"{handle.url}/api/public/projects", headers={"authorization": f"Basic {token}"})
        assert ok.status_code == 200
        default = httpx.get(f"{handle.url}/api/public/projects", auth=("pk-lf-local", "sk-lf-local"))
        assert default.status_code == 401
    finally:
        handle.stop()
