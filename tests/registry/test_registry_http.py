"""Client behaviour no stock registry shows: cross-host redirects, Bearer tokens, 429, timeouts.

Scripted loopback servers (fakeserver.py); 127.0.0.2 is another host than 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import pytest
from fakeserver import Handler, Reply, Seen, fake_server

from ecrcache.registry import (
    Credentials,
    Digest,
    RegistryAuthError,
    RegistryClient,
    RegistryNotFoundError,
    RegistryRateLimitError,
    RegistryTimeoutError,
)

CREDS = Credentials("AWS", "tok3n-value")
BASIC = "Basic " + base64.b64encode(b"AWS:tok3n-value").decode()
BLOB = b"layer bytes " * 1000
DIGEST = Digest.of(BLOB)


def _basic_registry(target: str) -> Handler:
    """Answers blob GETs like ECR: Basic auth required, then a 307 to pre-signed storage."""

    def handle(req: Seen) -> Reply:
        if req.headers.get("authorization") != BASIC:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="https://ecr.example"'})
        return Reply(307, {"Location": f"{target}/blob/{DIGEST.hex}?X-Amz-Signature=abc"})

    return handle


def test_redirect_to_another_host_drops_the_authorization_header(tmp_path: Path) -> None:
    with (
        fake_server(lambda req: Reply(200, body=BLOB), host="127.0.0.2") as storage,
        fake_server(_basic_registry(storage.url)) as registry,
    ):
        client = RegistryClient(registry.url, credentials=CREDS)
        result = client.download_blob("repo", DIGEST, dest=tmp_path)

    assert (tmp_path / DIGEST.hex).read_bytes() == BLOB and result.size == len(BLOB)
    assert [r.headers.get("authorization") for r in registry.seen] == [None, BASIC]
    assert len(storage.seen) == 1
    assert "authorization" not in storage.seen[0].headers
    assert storage.seen[0].path.endswith("X-Amz-Signature=abc")


def test_redirect_on_the_same_origin_keeps_the_authorization_header() -> None:
    def handle(req: Seen) -> Reply:
        if req.headers.get("authorization") != BASIC:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="r"'})
        if req.path.startswith("/v2/"):
            return Reply(307, {"Location": "/storage/blob"})
        return Reply(200, body=BLOB)

    with fake_server(handle) as registry:
        RegistryClient(registry.url, credentials=CREDS).download_blob("repo", DIGEST)
    assert registry.seen[-1].path == "/storage/blob"
    assert registry.seen[-1].headers.get("authorization") == BASIC


def test_bearer_challenge_fetches_a_token_for_the_scope() -> None:
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "x", "digest": str(DIGEST), "size": len(BLOB)},
            "layers": [],
        }
    ).encode()
    token_requests: list[Seen] = []

    def token(req: Seen) -> Reply:
        token_requests.append(req)
        if req.headers.get("authorization") != BASIC:
            return Reply(401)
        return Reply(200, body=json.dumps({"token": "bearer-xyz"}).encode())

    with fake_server(token) as auth:

        def registry(req: Seen) -> Reply:
            if req.headers.get("authorization") != "Bearer bearer-xyz":
                challenge = (
                    f'Bearer realm="{auth.url}/token",service="reg.example",'
                    'scope="repository:library/app:pull"'
                )
                return Reply(401, {"WWW-Authenticate": challenge})
            return Reply(
                200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, manifest
            )

        with fake_server(registry) as reg:
            client = RegistryClient(reg.url, credentials=CREDS)
            got = client.get_manifest("library/app", "latest")
            client.get_manifest("library/app", "latest")  # reuses the token

    assert got.config is not None and got.config.digest == DIGEST
    assert len(token_requests) == 1
    assert "scope=repository%3Alibrary%2Fapp%3Apull" in token_requests[0].path
    assert "service=reg.example" in token_requests[0].path
    assert [r.headers.get("authorization") for r in reg.seen] == [
        None,
        "Bearer bearer-xyz",
        "Bearer bearer-xyz",
    ]


def test_rate_limit_reports_docker_hub_headers() -> None:
    headers = {
        "ratelimit-limit": "100;w=21600",
        "ratelimit-remaining": "0;w=21600",
        "docker-ratelimit-source": "203.0.113.9",
        "Content-Type": "application/json",
    }
    body = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"pull rate limit reached"}]}'
    with (
        fake_server(lambda req: Reply(429, headers, body)) as reg,
        pytest.raises(RegistryRateLimitError) as err,
    ):
        RegistryClient(reg.url).get_manifest("library/nginx", "latest")
    message = err.value.message
    assert err.value.status == 429
    assert "TOOMANYREQUESTS" in message
    assert "ratelimit-remaining: 0;w=21600" in message and "ratelimit-limit: 100;w=21600" in message


@pytest.mark.parametrize(
    ("status", "error", "hint_word"),
    [
        (403, RegistryAuthError, "permission"),
        (401, RegistryAuthError, "credentials"),
        (404, RegistryNotFoundError, None),
    ],
)
def test_error_statuses_map_to_error_classes(
    status: int, error: type[Exception], hint_word: str | None
) -> None:
    with fake_server(lambda req: Reply(status)) as reg, pytest.raises(error) as err:
        RegistryClient(reg.url, credentials=CREDS).download_blob("repo", DIGEST)
    assert f"HTTP {status}" in str(err.value)
    assert "tok3n-value" not in str(err.value)
    if hint_word:
        assert hint_word in (getattr(err.value, "hint", "") or "")


def test_digest_mismatch_from_storage(tmp_path: Path) -> None:
    from ecrcache.registry import DigestMismatchError

    with (
        fake_server(lambda req: Reply(200, body=BLOB[:-1] + b"X")) as reg,
        pytest.raises(DigestMismatchError),
    ):
        RegistryClient(reg.url).download_blob("repo", DIGEST, dest=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_sha512_digests_are_verified() -> None:
    digest = Digest.of(BLOB, "sha512")
    with fake_server(lambda req: Reply(200, body=BLOB)) as reg:
        result = RegistryClient(reg.url).download_blob("repo", digest)
    assert result.digest == digest and len(digest.hex) == 128


def test_read_timeout_is_a_clear_error() -> None:
    release = threading.Event()
    with fake_server(lambda req: Reply(200, body=b"{}", delay=release)) as reg:
        client = RegistryClient(reg.url, timeout=0.2)
        try:
            with pytest.raises(RegistryTimeoutError) as err:
                client.get_manifest("repo", "latest")
        finally:
            release.set()
    assert "timed out" in err.value.message
