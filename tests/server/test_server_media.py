"""Media: upload URL, tokenised PUT with checksum, PATCH status, GET with a download URL."""

from __future__ import annotations

import base64
import hashlib
import os

import httpx
import server_testkit as kit


def _hash(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _request(data: bytes, content_type: str = "image/png") -> dict:
    return {
        "traceId": kit.trace_id(),
        "observationId": kit.span_id(),
        "contentType": content_type,
        "contentLength": len(data),
        "sha256Hash": _hash(data),
        "field": "input",
    }


def test_full_upload_flow_without_auth_on_transfer_urls(client, server):
    data = os.urandom(1000)
    created = client.post("/api/public/media", json=_request(data))
    assert created.status_code in (200, 201), created.text
    kit.check(created.json(), "GetMediaUploadUrlResponse")
    media_id = created.json()["mediaId"]
    assert media_id == _hash(data).replace("+", "-").replace("/", "_")[:22]
    assert client.get(f"/api/public/media/{media_id}").status_code == 404  # not uploaded yet
    put = httpx.put(
        created.json()["uploadUrl"],
        content=data,
        headers={
            "content-type": "image/png",
            "x-amz-checksum-sha256": _hash(data),
            "x-ms-blob-type": "BlockBlob",
        },
    )
    assert put.status_code == 200, put.text
    patch = client.patch(
        f"/api/public/media/{media_id}",
        json={
            "uploadedAt": "2024-01-01T00:00:00Z",
            "uploadHttpStatus": 200,
            "uploadHttpError": None,
            "uploadTimeMs": 5,
        },
    )
    assert patch.status_code == 204
    media = client.get(f"/api/public/media/{media_id}").json()
    kit.check(media, "GetMediaResponse")
    assert (media["contentType"], media["contentLength"]) == ("image/png", 1000) and media["uploadedAt"]
    download = httpx.get(media["url"])
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-type"] == "image/png"
    again = client.post("/api/public/media", json=_request(data)).json()
    assert again == {"mediaId": media_id, "uploadUrl": None}


def test_upload_rejects_bad_token_and_wrong_bytes(client):
    data = b"hello media"
    created = client.post("/api/public/media", json=_request(data, "text/plain")).json()
    url = created["uploadUrl"]
    assert (
        httpx.put(
            url.replace("token=", "token=x"), content=data, headers={"content-type": "text/plain"}
        ).status_code
        == 403
    )
    assert (
        httpx.put(url.split("?")[0], content=data, headers={"content-type": "text/plain"}).status_code == 403
    )
    wrong = b"hello MEDIA"
    assert httpx.put(url, content=wrong, headers={"content-type": "text/plain"}).status_code == 400
    assert (
        httpx.put(
            url, content=data, headers={"content-type": "text/plain", "x-amz-checksum-sha256": _hash(wrong)}
        ).status_code
        == 400
    )
    assert httpx.put(url, content=data, headers={"content-type": "image/png"}).status_code == 400
    # a client cannot claim success for bytes the server never verified
    client.patch(
        f"/api/public/media/{created['mediaId']}",
        json={"uploadedAt": "2024-01-01T00:00:00Z", "uploadHttpStatus": 200},
    )
    assert client.get(f"/api/public/media/{created['mediaId']}").status_code == 404
    assert httpx.put(url, content=data, headers={"content-type": "text/plain"}).status_code == 200
    media = client.get(f"/api/public/media/{created['mediaId']}").json()
    assert httpx.get(media["url"].replace("token=", "token=0")).status_code == 403


def test_media_ids_and_requests_are_validated(client, server):
    for bad in ("..%2F..%2Fetc", "short", "a" * 23, "aaaaaaaaaaaaaaaaaaaa.."):
        response = client.get(f"/api/public/media/{bad}")
        assert response.status_code in (400, 404), bad
    traversal = httpx.put(f"{server.url}/api/public/media/..%2F..%2Fx/upload?token=abc", content=b"x")
    assert traversal.status_code in (400, 401, 403, 404)
    base = _request(b"x")
    for change in (
        {"sha256Hash": "nope"},
        {"contentLength": -1},
        {"contentType": "not a mime"},
        {"field": "elsewhere"},
        {"traceId": None},
        {"contentLength": 10**12},
    ):
        response = client.post("/api/public/media", json={**base, **change})
        assert response.status_code == 400, change
    assert (
        client.patch("/api/public/media/AAAAAAAAAAAAAAAAAAAAAA", json={"uploadHttpStatus": 200}).status_code
        == 404
    )


def test_upload_token_is_checked_before_the_body_is_read(server):
    """A client without a valid token must not make the server buffer (up to) the media size limit."""
    import socket
    from urllib.parse import urlparse

    address = urlparse(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(
            b"PUT /api/public/media/AAAAAAAAAAAAAAAAAAAAAA/upload?token=forged HTTP/1.1\r\n"
            + f"Host: {address.netloc}\r\n".encode()
            + b"Content-Type: image/png\r\nContent-Length: 999999999999\r\n\r\n"
        )
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert b" 403 " in status_line, status_line  # not 413: the token decided, before any body bytes


def test_downloaded_html_is_sandboxed_and_not_sniffed(client):
    data = b"<html><script>fetch('/api/public/traces')</script></html>"
    created = client.post("/api/public/media", json=_request(data, "text/html")).json()
    put = httpx.put(created["uploadUrl"], content=data, headers={"content-type": "text/html"})
    assert put.status_code == 200, put.text
    download = httpx.get(client.get(f"/api/public/media/{created['mediaId']}").json()["url"])
    assert download.status_code == 200 and download.content == data
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]


def _uploaded(client, data: bytes) -> str:
    created = client.post("/api/public/media", json=_request(data)).json()
    headers = {"content-type": "image/png"}
    assert httpx.put(created["uploadUrl"], content=data, headers=headers).status_code == 200
    return created["mediaId"]


def test_content_type_outside_the_api_enum_is_refused(client):
    for content_type in ("application/x-unknown", "image/x-custom", "text/x-shellscript"):
        response = client.post("/api/public/media", json=_request(os.urandom(8), content_type))
        assert response.status_code == 400, (content_type, response.text)
        assert "MediaContentType" in response.json()["message"]
    for content_type in ("image/png", "application/pdf", "audio/mpeg", "application/vnd.apache.parquet"):
        response = client.post("/api/public/media", json=_request(os.urandom(8), content_type))
        assert response.status_code == 200, (content_type, response.text)


def test_links_expire_after_the_stated_hour(client, server):
    import sqlite3
    import time
    from datetime import datetime, timezone

    from langfuse_nb.server.store import media as store

    media_id = _uploaded(client, os.urandom(64))
    media = client.get(f"/api/public/media/{media_id}").json()
    expiry = datetime.fromisoformat(media["urlExpiry"].replace("Z", "+00:00"))
    assert 3590 <= (expiry - datetime.now(timezone.utc)).total_seconds() <= 3600
    assert f"expires={int(expiry.timestamp())}" in media["url"]
    assert httpx.get(media["url"]).status_code == 200
    with sqlite3.connect(server.db_path) as conn:  # the per-database signing key
        key = conn.execute("SELECT value FROM meta WHERE key = 'media_secret'").fetchone()[0].encode()
    base = f"{server.url}/api/public/media/{media_id}"
    stale, _ = store.signed_query(key, "download", media_id, now=time.time() - 3601)
    assert httpx.get(f"{base}/download?{stale}").status_code == 403  # validly signed, but expired
    fresh, expires = store.signed_query(key, "download", media_id)
    assert httpx.get(f"{base}/download?{fresh}").status_code == 200
    later = fresh.replace(f"expires={expires}", f"expires={expires + 86400}")
    assert httpx.get(f"{base}/download?{later}").status_code == 403  # the expiry is signed
    stale_upload, _ = store.signed_query(key, "upload", media_id, now=time.time() - 3601)
    assert httpx.put(f"{base}/upload?{stale_upload}", content=b"x").status_code == 403
