"""Pulls through a real pull-through proxy registry: cold and warm, platforms, digests, errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from regsupport import MultiArch, RegistryServer, make_image, make_multiarch, push_multiarch

from ecrcache.registry import (
    Credentials,
    Digest,
    DigestMismatchError,
    Platform,
    PlatformNotFoundError,
    RegistryAuthError,
    RegistryClient,
    RegistryNotFoundError,
    pull_image,
)

pytestmark = pytest.mark.registry

PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7"]


def _assert_pulled(dest: Path, result_digests: list[Digest], image_blobs: dict[str, bytes]) -> None:
    assert {str(d) for d in result_digests} == set(image_blobs)
    for digest in result_digests:
        assert (dest / digest.hex).read_bytes() == image_blobs[str(digest)]
    assert not list(dest.glob("*.partial"))


def _wait_cached(proxy: RegistryServer, digests: list[Digest]) -> None:
    """The proxy stores blobs in the background after serving them; wait until it has."""
    deadline = time.monotonic() + 20
    while not all(proxy.blob_path(d).exists() for d in digests):
        if time.monotonic() > deadline:
            pytest.fail("the proxy never stored the blobs it served")
        time.sleep(0.05)


def test_ping_needs_the_right_credentials(shared_pair: tuple[RegistryServer, ...]) -> None:
    _, proxy = shared_pair
    with pytest.raises(RegistryAuthError) as anon:
        RegistryClient(proxy.url).ping()
    assert anon.value.status == 401
    with pytest.raises(RegistryAuthError) as wrong:
        RegistryClient(proxy.url, credentials=Credentials("tester", "wrong")).ping()
    assert wrong.value.status == 401
    assert "wrong" not in wrong.value.message
    ping = proxy.client().ping()
    assert ping.auth_scheme == "basic"
    assert ping.api_version == "registry/2.0"


@pytest.mark.parametrize("oci", [True, False], ids=["oci-index", "docker-manifest-list"])
def test_cold_then_warm_pull_through_the_proxy(
    fresh_pair: tuple[RegistryServer, ...], tmp_path: Path, oci: bool
) -> None:
    upstream, proxy = fresh_pair
    image = make_multiarch(PLATFORMS, [2048, 300_000, 70_000], oci=oci)
    push_multiarch(upstream.client(), "library/app", "1.0", image)
    arm64 = image.for_platform("linux/arm64")

    cold = pull_image(
        proxy.client(),
        "library/app",
        "1.0",
        platform=Platform.parse("linux/arm64"),
        dest=tmp_path / "cold",
        workers=3,
    )
    assert cold.platform == Platform("linux", "arm64")
    assert cold.index_digest == image.digest
    assert cold.manifest.digest == arm64.digest
    assert cold.manifest.media_type == arm64.media_type
    assert (tmp_path / "cold" / "manifest.json").read_bytes() == arm64.manifest
    digests = [b.digest for b in cold.blobs]
    _assert_pulled(tmp_path / "cold", digests, arm64.blobs)
    assert cold.bytes == sum(len(b) for b in arm64.blobs.values())

    # Warm: with the upstream gone, only the proxy's cache can answer.
    _wait_cached(proxy, digests)
    upstream.stop()
    warm = pull_image(
        proxy.client(),
        "library/app",
        "1.0",
        platform=Platform.parse("linux/arm64"),
        dest=tmp_path / "warm",
    )
    assert warm.manifest.digest == arm64.digest
    _assert_pulled(tmp_path / "warm", [b.digest for b in warm.blobs], arm64.blobs)


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("linux/amd64", "linux/amd64"),
        ("linux/arm64", "linux/arm64"),
        ("linux/arm64/v8", "linux/arm64"),  # index entries for arm64 often omit the variant
        ("linux/arm/v7", "linux/arm/v7"),
        ("linux/arm", "linux/arm/v7"),
    ],
)
def test_platform_selection(
    shared_pair: tuple[RegistryServer, ...], requested: str, expected: str, multiarch: MultiArch
) -> None:
    _, proxy = shared_pair
    result = pull_image(proxy.client(), "select/app", "multi", platform=Platform.parse(requested))
    want = multiarch.for_platform(expected)
    assert result.manifest.digest == want.digest
    config = json.loads(want.config)
    assert (config["os"], config["architecture"]) == (want.platform.os, want.platform.architecture)
    assert str(result.platform) == expected


@pytest.fixture(scope="module")
def multiarch(shared_pair: tuple[RegistryServer, ...]) -> MultiArch:
    upstream, _ = shared_pair
    image = make_multiarch(PLATFORMS, [1024])
    push_multiarch(upstream.client(), "select/app", "multi", image)
    return image


def test_missing_platform_names_the_available_ones(
    shared_pair: tuple[RegistryServer, ...], multiarch: MultiArch
) -> None:
    _, proxy = shared_pair
    with pytest.raises(PlatformNotFoundError) as err:
        pull_image(proxy.client(), "select/app", "multi", platform=Platform.parse("linux/s390x"))
    assert "linux/arm64" in (err.value.hint or "")


def test_single_platform_manifest_by_digest(shared_pair: tuple[RegistryServer, ...]) -> None:
    upstream, proxy = shared_pair
    image = make_image("linux/amd64", [4096], oci=False)
    client = upstream.client()
    for blob in image.blobs.values():
        client.push_blob("single/app", blob)
    client.push_manifest("single/app", "v1", image.manifest, image.media_type)
    result = pull_image(proxy.client(), "single/app", str(image.digest))
    assert result.index_digest is None and result.platform is None
    assert result.digest == image.digest
    assert {str(b.digest) for b in result.blobs} == set(image.blobs)


def test_tampered_blob_is_reported_and_not_kept(
    shared_pair: tuple[RegistryServer, ...], tmp_path: Path
) -> None:
    upstream, proxy = shared_pair
    image = make_multiarch(["linux/amd64"], [50_000])
    push_multiarch(upstream.client(), "tampered/app", "v1", image)
    layer = Digest.of(image.images[0].layers[0])
    data = upstream.blob_path(layer)
    content = bytearray(data.read_bytes())
    content[len(content) // 2] ^= 0xFF  # same size, different bytes
    data.write_bytes(bytes(content))

    with pytest.raises(DigestMismatchError) as err:
        pull_image(proxy.client(), "tampered/app", "v1", dest=tmp_path)
    assert str(layer) in err.value.message
    assert not (tmp_path / layer.hex).exists()
    assert not list(tmp_path.glob("*.partial"))


def test_unknown_tag_is_not_found(shared_pair: tuple[RegistryServer, ...]) -> None:
    _, proxy = shared_pair
    with pytest.raises(RegistryNotFoundError) as err:
        proxy.client().get_manifest("nothing/here", "v0")
    assert err.value.status == 404
    assert "MANIFEST_UNKNOWN" in err.value.message or "NAME_UNKNOWN" in err.value.message
