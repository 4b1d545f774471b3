"""test-pull against real registries: an upstream holding multi-arch images pushed here, and a
distribution registry in proxy mode (basic auth) in front of it as the pull-through cache."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from regsupport import MultiArch, RegistryServer, make_multiarch, push_multiarch

from ecrcache.cli.app import run
from ecrcache.registry import Credentials, Digest, Platform, RegistryClient
from ecrcache.registry import testpull as pulltest

pytestmark = pytest.mark.registry

PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7"]


def run_test_pull(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    proxy: RegistryServer,
    *args: str,
    password: str | None = None,
) -> tuple[int, str, str]:
    """Run ``test-pull --registry-url <proxy>``, credentials in the environment as the CLI reads
    them; returns (exit code, stdout, stderr)."""
    assert proxy.credentials is not None
    monkeypatch.setenv("ECRCACHE_REGISTRY_USERNAME", proxy.credentials.username)
    monkeypatch.setenv("ECRCACHE_REGISTRY_PASSWORD", password or proxy.credentials.password)
    code = run(["test-pull", "--registry-url", proxy.url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def pushed(upstream: RegistryServer, repository: str, tag: str = "1.0") -> MultiArch:
    image = make_multiarch(PLATFORMS, [2048, 200_000, 60_000])
    push_multiarch(upstream.client(), repository, tag, image)
    return image


def wait_cached(proxy: RegistryServer, digests: list[Digest]) -> None:
    """The proxy stores what it served in the background: wait until it has."""
    deadline = time.monotonic() + 20
    while not all(proxy.blob_path(d).exists() for d in digests):
        if time.monotonic() > deadline:
            pytest.fail("the proxy never stored the blobs it served")
        time.sleep(0.05)


def data(out: str) -> dict[str, Any]:
    doc = json.loads(out)
    assert doc["command"] == "test-pull" and doc["ok"] is True, doc
    return dict(doc["data"])


def test_cold_then_warm_through_the_proxy_fills_the_cache(
    fresh_pair: tuple[RegistryServer, ...],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, proxy = fresh_pair
    image = pushed(upstream, "library/app")
    arm64 = image.for_platform("linux/arm64")
    blobs = [Digest.parse(d) for d in arm64.blobs]
    assert not any(proxy.blob_path(d).exists() for d in blobs)  # the cache starts cold

    args = ("library/app:1.0", "--platform", "linux/arm64", "-o", "json")
    code, out, err = run_test_pull(capsys, monkeypatch, proxy, *args)
    assert code == 0, err
    d = data(out)
    assert [a["attempt"] for a in d["attempts"]] == ["cold", "warm"]
    assert d["method"] == "registry-api" and d["simulated"] is False
    assert d["repository"] == "library/app" and d["verification"] is None
    for attempt in d["attempts"]:
        assert attempt["digest"] == str(image.digest)
        assert attempt["manifest_digest"] == str(arm64.digest)
        assert attempt["platform"] == "linux/arm64"
        assert attempt["manifest"]["bytes"] == len(image.index) + len(arm64.manifest)
        assert attempt["blobs"]["bytes"] == sum(len(b) for b in arm64.blobs.values())
        assert attempt["blobs"]["count"] == len(arm64.blobs)

    # The cold pull went through the cache and filled it: with the upstream gone, both pulls of a
    # second run are served by the proxy alone.
    wait_cached(proxy, blobs)
    upstream.stop()
    code, out, err = run_test_pull(capsys, monkeypatch, proxy, *args)
    assert code == 0, err
    assert {a["manifest_digest"] for a in data(out)["attempts"]} == {str(arm64.digest)}


@pytest.mark.parametrize(
    ("flags", "expected"),
    [((), "linux/amd64"), (("--platform", "linux/arm64"), "linux/arm64")],
    ids=["default-amd64", "arm64"],
)
def test_picks_the_requested_platform(
    shared_pair: tuple[RegistryServer, ...],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flags: tuple[str, ...],
    expected: str,
) -> None:
    upstream, proxy = shared_pair
    repository = f"platforms/{expected.replace('/', '-')}"
    image = pushed(upstream, repository)
    code, out, err = run_test_pull(
        capsys, monkeypatch, proxy, f"{repository}:1.0", *flags, "-o", "json"
    )
    assert code == 0, err
    d = data(out)
    assert d["platform"] == expected
    want = image.for_platform(expected)
    assert [a["manifest_digest"] for a in d["attempts"]] == [str(want.digest)] * 2
    assert [a["platform"] for a in d["attempts"]] == [expected] * 2


def test_tampered_blob_is_an_error(
    shared_pair: tuple[RegistryServer, ...],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, proxy = shared_pair
    image = pushed(upstream, "tampered/app")
    layer = Digest.of(image.for_platform("linux/amd64").layers[1])
    stored = upstream.blob_path(layer)
    content = bytearray(stored.read_bytes())
    content[len(content) // 2] ^= 0xFF  # same size, other bytes
    stored.write_bytes(bytes(content))

    code, out, err = run_test_pull(capsys, monkeypatch, proxy, "tampered/app:1.0")
    assert code == 1
    assert out == ""
    assert "Error: cold pull: blob tampered/app@" + str(layer) in err
    assert "content hashes to" in err

    code, out, _ = run_test_pull(capsys, monkeypatch, proxy, "tampered/app:1.0", "-o", "json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["data"] is None
    assert doc["error"]["code"] == "digest-mismatch"
    assert doc["error"]["exit_code"] == 1
    assert str(layer) in doc["error"]["message"]


def test_text_report(
    shared_pair: tuple[RegistryServer, ...],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, proxy = shared_pair
    image = pushed(upstream, "text/app")
    code, out, err = run_test_pull(capsys, monkeypatch, proxy, "text/app:1.0", "--no-color")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("text/app:1.0 → 127.0.0.1:")
    assert "(linux/amd64, registry-api)" in lines[0]
    cold, warm = lines[1], lines[2]
    assert cold.lstrip().startswith("cold") and warm.lstrip().startswith("warm")
    for line in (cold, warm):
        assert "manifest" in line and "4 blobs" in line  # config and 3 layers and "/s" in line
        assert f"digest {image.digest} (verified)" in line


def test_digest_only_reference_warns(
    shared_pair: tuple[RegistryServer, ...],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, proxy = shared_pair
    image = pushed(upstream, "bydigest/app")
    ref = f"bydigest/app@{image.digest}"
    code, out, err = run_test_pull(capsys, monkeypatch, proxy, ref, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert any("digest-only" in w for w in doc["warnings"])
    assert doc["data"]["cache_reference"].endswith(f"/bydigest/app@{image.digest}")


def test_unknown_digest_gets_the_ecr_hint(
    shared_pair: tuple[RegistryServer, ...],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, proxy = shared_pair
    ref = "nothing/here@sha256:" + "0" * 64
    code, _, err = run_test_pull(capsys, monkeypatch, proxy, ref)
    assert code == 1
    assert "Error: cold pull: GET /v2/nothing/here/manifests/" in err
    assert "first pull by digest" in err  # the hint says why ECR would not have it either


def test_wrong_credentials(
    shared_pair: tuple[RegistryServer, ...],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, proxy = shared_pair
    pushed(upstream, "auth/app")
    code, out, err = run_test_pull(
        capsys, monkeypatch, proxy, "auth/app:1.0", password="not-the-password"
    )
    assert code == 3  # RegistryAuthError: the credentials were refused
    assert "HTTP 401" in err and "not-the-password" not in err + out


def test_registry_in_the_reference_must_be_the_target(
    shared_pair: tuple[RegistryServer, ...],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, proxy = shared_pair
    image = pushed(upstream, "named/app")
    host = proxy.url.removeprefix("http://")
    code, out, err = run_test_pull(
        capsys, monkeypatch, proxy, f"{host}/named/app:1.0", "-o", "json"
    )
    assert code == 0, err
    assert data(out)["attempts"][0]["digest"] == str(image.digest)
    code, _, err = run_test_pull(capsys, monkeypatch, proxy, "quay.io/named/app:1.0")
    assert code == 2 and "names the registry quay.io" in err


def test_progress_reaches_every_byte(shared_pair: tuple[RegistryServer, ...]) -> None:
    upstream, proxy = shared_pair
    image = pushed(upstream, "progress/app")
    amd64 = image.for_platform("linux/amd64")
    events: list[tuple[str, int, int]] = []
    target, _ = pulltest.resolve_on("progress/app:1.0", proxy.url)
    pull = pulltest.api_puller(
        target,
        platform=Platform.parse("linux/amd64"),
        client_factory=lambda url, creds: RegistryClient(url, credentials=creds),
        credentials=proxy.credentials,
        on_progress=lambda label, done, total: events.append((label, done, total)),
    )
    result = pulltest.test_pull(
        target, reference="progress/app:1.0", platform=Platform.parse("linux/amd64"), pull=pull
    )
    total = sum(len(b) for b in amd64.blobs.values())
    for label in ("cold", "warm"):
        mine = [e for e in events if e[0] == label]
        assert mine[0] == (label, 0, total)  # announced before any blob
        assert mine[-1] == (label, total, total)
        assert [done for _, done, _ in mine] == sorted(done for _, done, _ in mine)
        assert len(mine) == 1 + len(amd64.blobs)
    assert [a.blobs.bytes for a in result.attempts if a.blobs] == [total, total]
    assert result.verification is None


def test_clients_are_made_per_attempt(shared_pair: tuple[RegistryServer, ...]) -> None:
    upstream, proxy = shared_pair
    pushed(upstream, "factory/app")
    made: list[tuple[str, Credentials | None]] = []

    def factory(url: str, creds: Credentials | None) -> RegistryClient:
        made.append((url, creds))
        return RegistryClient(url, credentials=creds)

    target, _ = pulltest.resolve_on("factory/app:1.0", proxy.url)
    pull = pulltest.api_puller(
        target,
        platform=Platform.parse("linux/amd64"),
        client_factory=factory,
        credentials=proxy.credentials,
    )
    pulltest.test_pull(
        target, reference="factory/app:1.0", platform=Platform.parse("linux/amd64"), pull=pull
    )
    assert made == [(proxy.url, proxy.credentials)] * 2
