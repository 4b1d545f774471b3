"""warm against real registries: an upstream holding multi-arch images, and a distribution
registry in proxy mode (basic auth) in front of it standing in for ECR's pull-through cache.

The proxy keeps the cache's paths (``docker-hub/library/app``), so references map through the
config's rules exactly as for ECR. Whether the proxy already held an image is read from its
storage (``ProxyStorage``), standing in for ECR's DescribeImages: the registry API of a
distribution proxy answers from the upstream first and cannot tell.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from regsupport import MultiArch, RegistryServer, make_multiarch, push_multiarch

from ecrcache.cli.app import run
from ecrcache.config.loading import load_config
from ecrcache.registry import Digest, Platform, RegistryClient
from ecrcache.registry.warm import (
    Lookup,
    WarmReport,
    jobs_from_files,
    jobs_from_references,
    warm_images,
)
from ecrcache.registry.warm.run import DIGEST_ONLY_PROBLEM
from ecrcache.rewrite.mapping import Mapping, routes_from_rules

pytestmark = pytest.mark.registry

PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7"]
CONFIG = """\
version = 1
region = "af-south-1"
account_id = "123456789012"

[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/docker-hub"
username = "acme-ci"

[rules.quay]
upstream = "quay"
"""


class ProxyStorage:
    """What the proxy has stored, read from its storage directory (the registry's own layout):
    a tag's ``current/link``, a manifest revision's ``link``."""

    decided_by = "the proxy's storage directory (standing in for DescribeImages)"

    def __init__(self, proxy: RegistryServer) -> None:
        self.repositories = proxy.root / "docker/registry/v2/repositories"
        self.asked: list[str] = []

    def lookup(self, repository: str, reference: str) -> Lookup:
        self.asked.append(f"{repository}@{reference}")
        manifests = self.repositories / repository / "_manifests"
        if ":" in reference:
            algorithm, _, hex_ = reference.partition(":")
            link = manifests / "revisions" / algorithm / hex_ / "link"
        else:
            link = manifests / "tags" / reference / "current" / "link"
        if not link.exists():
            return Lookup("absent")
        return Lookup("present", digest=link.read_text().strip())


def pushed(upstream: RegistryServer, repository: str, tag: str = "1.0") -> MultiArch:
    image = make_multiarch(PLATFORMS, [2048, 50_000])
    push_multiarch(upstream.client(), repository, tag, image)
    return image


def wait_cached(proxy: RegistryServer, image: MultiArch) -> None:
    """The proxy stores the blobs it served in the background: wait until it has."""
    digests = [Digest.parse(d) for img in image.images for d in img.blobs]
    deadline = time.monotonic() + 20
    while not all(proxy.blob_path(d).exists() for d in digests):
        if time.monotonic() > deadline:
            pytest.fail("the proxy never stored the blobs it served")
        time.sleep(0.05)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG)
    return path


def mapping_for(proxy: RegistryServer, config_path: Path) -> Mapping:
    host = proxy.url.split("://", 1)[1]
    return Mapping(routes_from_rules(load_config(config_path).rule_list), host)


def warm(
    proxy: RegistryServer, config_path: Path, refs: list[str], inspector: Any, **kw: Any
) -> WarmReport:
    jobs, _ = jobs_from_references(refs, mapping_for(proxy, config_path), registry_url=proxy.url)
    return warm_images(
        jobs,
        client_factory=lambda url: RegistryClient(url, credentials=proxy.credentials),
        inspector=inspector,
        **kw,
    )


def run_warm(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    proxy: RegistryServer,
    config_path: Path,
    *args: str,
) -> tuple[int, str, str]:
    """``ecrcache warm --registry-url <proxy> -c <config> ARGS``, credentials in the environment."""
    assert proxy.credentials is not None
    monkeypatch.setenv("ECRCACHE_REGISTRY_USERNAME", proxy.credentials.username)
    monkeypatch.setenv("ECRCACHE_REGISTRY_PASSWORD", proxy.credentials.password)
    code = run(["warm", "--registry-url", proxy.url, "-c", str(config_path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def images_of(out: str) -> dict[str, dict[str, Any]]:
    doc = json.loads(out)
    assert doc["command"] == "warm", doc
    return {i["reference"]: i for i in doc["data"]["images"]}


# -- cold, then already cached -------------------------------------------------------------


def test_cold_then_already_cached_every_platform(
    fresh_pair: tuple[RegistryServer, ...], config_path: Path
) -> None:
    upstream, proxy = fresh_pair
    image = pushed(upstream, "docker-hub/library/app")
    storage = ProxyStorage(proxy)

    cold = warm(proxy, config_path, ["app:1.0"], storage)
    (result,) = cold.images
    assert result.status == "cached-now", result
    assert result.cache_reference == f"{proxy.url.split('://')[1]}/docker-hub/library/app:1.0"
    assert result.digest == str(image.digest)
    assert [p.platform for p in result.platforms] == PLATFORMS
    assert [p.digest for p in result.platforms] == [str(i.digest) for i in image.images]
    assert {p.status for p in result.platforms} == {"cached-now"}
    assert result.bytes == sum(len(b) for i in image.images for b in i.blobs.values())
    assert not cold.failed

    # Every platform's blobs are in the cache now: with the upstream gone, the proxy serves it
    # all, and the second warm finds it cached and downloads nothing.
    wait_cached(proxy, image)
    upstream.stop()
    storage.asked.clear()
    warm_again = warm(proxy, config_path, ["app:1.0"], storage)
    (again,) = warm_again.images
    assert again.status == "already-cached", again
    assert again.bytes == 0 and {p.status for p in again.platforms} == {"already-cached"}
    # asked for the tag, then for each platform manifest by digest, before pulling anything
    assert storage.asked == ["docker-hub/library/app@1.0"] + [
        f"docker-hub/library/app@{i.digest}" for i in image.images
    ]
    for img in image.images:
        assert proxy.client().get_manifest("docker-hub/library/app", str(img.digest))


def test_a_platform_missing_from_the_cache_is_pulled_alone(
    fresh_pair: tuple[RegistryServer, ...], config_path: Path
) -> None:
    upstream, proxy = fresh_pair
    image = pushed(upstream, "docker-hub/library/half")
    storage = ProxyStorage(proxy)
    first = warm(
        proxy, config_path, ["half:1.0"], storage, platforms=[Platform.parse("linux/arm64")]
    )
    assert [p.platform for p in first.images[0].platforms] == ["linux/arm64"]

    second = warm(proxy, config_path, ["half:1.0"], storage)
    by_platform = {p.platform: p for p in second.images[0].platforms}
    assert by_platform["linux/arm64"].status == "already-cached"
    assert by_platform["linux/arm64"].bytes == 0
    assert by_platform["linux/amd64"].status == "cached-now"
    amd64 = image.for_platform("linux/amd64")
    assert by_platform["linux/amd64"].bytes == sum(len(b) for b in amd64.blobs.values())
    assert second.images[0].status == "cached-now"


# -- the CLI: platforms, failures, exit codes ----------------------------------------------


def test_every_platform_of_an_index_by_default(
    shared_pair: tuple[RegistryServer, ...],
    config_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, proxy = shared_pair
    image = pushed(upstream, "docker-hub/library/every")
    code, out, err = run_warm(capsys, monkeypatch, proxy, config_path, "every:1.0", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["ok"] is True and doc["error"] is None
    got = images_of(out)["every:1.0"]
    # A distribution proxy cannot be asked what it holds: pulled, not "cached now"
    assert got["status"] == "pulled"
    assert doc["data"]["decided_by"].startswith("not decided")
    assert [(p["platform"], p["digest"]) for p in got["platforms"]] == [
        (str(i.platform), str(i.digest)) for i in image.images
    ]
    assert all(p["blobs"] == 3 and p["bytes"] > 50_000 for p in got["platforms"])
    assert doc["data"]["counts"] == {"cached-now": 0, "already-cached": 0, "pulled": 1, "failed": 0}


def test_platform_option_is_repeatable_and_a_missing_one_fails(
    shared_pair: tuple[RegistryServer, ...],
    config_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, proxy = shared_pair
    image = pushed(upstream, "docker-hub/library/picked")
    args = ("picked:1.0", "--platform", "linux/arm64", "--platform", "linux/arm/v7", "-o", "json")
    code, out, err = run_warm(capsys, monkeypatch, proxy, config_path, *args)
    assert code == 0, err
    got = images_of(out)["picked:1.0"]
    assert [(p["platform"], p["digest"]) for p in got["platforms"]] == [
        ("linux/arm64", str(image.for_platform("linux/arm64").digest)),
        ("linux/arm/v7", str(image.for_platform("linux/arm/v7").digest)),
    ]

    code, out, _ = run_warm(
        capsys,
        monkeypatch,
        proxy,
        config_path,
        "picked:1.0",
        "--platform",
        "linux/s390x",
        "-o",
        "json",
    )
    assert code == 1
    got = images_of(out)["picked:1.0"]
    assert got["status"] == "failed"
    assert got["platforms"][0]["error"].startswith("not in the index (it has linux/amd64, ")
    assert "linux/s390x" in got["error"]


def test_a_failing_reference_does_not_stop_the_rest(
    shared_pair: tuple[RegistryServer, ...],
    config_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, proxy = shared_pair
    pushed(upstream, "docker-hub/library/good")
    pushed(upstream, "quay/org/tool", tag="2")
    refs = ["good:1.0", "missing:1.0", "ghcr.io/org/app:1", "quay.io/org/tool:2"]
    code, out, err = run_warm(
        capsys, monkeypatch, proxy, config_path, *refs, "--concurrency", "2", "-o", "json"
    )
    assert code == 1, err
    images = images_of(out)
    assert list(images) == refs  # the report keeps the order given
    assert images["good:1.0"]["status"] == "pulled"
    assert images["quay.io/org/tool:2"]["status"] == "pulled"
    assert images["missing:1.0"]["status"] == "failed"
    assert "HTTP 404" in images["missing:1.0"]["error"]
    assert images["ghcr.io/org/app:1"]["status"] == "failed"
    assert images["ghcr.io/org/app:1"]["error"].startswith("no pull-through cache rule")
    assert json.loads(out)["data"]["counts"]["failed"] == 2

    # the table: every image, each failure explained, exit 1 still
    code, out, _ = run_warm(capsys, monkeypatch, proxy, config_path, *refs, "--no-color")
    assert code == 1
    # too wide for 80 columns whole, so one record per image, headed by its reference (issue 15:
    # a table never folds or cuts a cell)
    assert [line for line in out.splitlines() if line in refs] == refs
    assert out.count("  status:") == len(refs)
    assert "failed: missing:1.0 (argument): GET /v2/docker-hub/library/missing/manifests/1.0" in out
    assert "4 images: 2 pulled, 2 failed" in out


def test_exit_code_zero_when_every_image_is_warmed(
    shared_pair: tuple[RegistryServer, ...],
    config_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, proxy = shared_pair
    pushed(upstream, "docker-hub/library/fine")
    code, out, err = run_warm(capsys, monkeypatch, proxy, config_path, "fine:1.0", "--no-color")
    assert code == 0, err
    assert "1 image: 1 pulled" in out
    assert "Error" not in err


# -- files ---------------------------------------------------------------------------------

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: "quay.io/org/tool:2"
      containers:
        - name: web
          image: fileapp:1.0   # comment kept
        - name: side
          image: {cache}/docker-hub/library/sidecar:3
        - name: pinned
          image: fileapp:1.0@{digest}
"""
DOCKERFILE = """\
ARG TAG=1.0
FROM fileapp:1.0 AS build
FROM quay.io/org/tool:${TAG}
COPY --from=build /x /x
"""


def test_file_references_as_rewrite_finds_them(
    shared_pair: tuple[RegistryServer, ...],
    config_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, proxy = shared_pair
    app = pushed(upstream, "docker-hub/library/fileapp")
    pushed(upstream, "quay/org/tool", tag="2")
    pushed(upstream, "docker-hub/library/sidecar", tag="3")
    cache = proxy.url.split("://")[1]
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(MANIFEST.format(cache=cache, digest=app.digest))
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    before = (manifest.read_bytes(), dockerfile.read_bytes())

    code, out, err = run_warm(
        capsys,
        monkeypatch,
        proxy,
        config_path,
        "--file",
        str(manifest),
        str(dockerfile),
        "-o",
        "json",
    )
    assert code == 1, err  # the Dockerfile's ${TAG} cannot be known
    images = images_of(out)
    assert set(images) == {
        "quay.io/org/tool:2",
        "fileapp:1.0",
        f"{cache}/docker-hub/library/sidecar:3",  # already in the cache form: found in reverse
        f"fileapp:1.0@{app.digest}",
        "quay.io/org/tool:${TAG}",
    }
    assert images["fileapp:1.0"]["sources"] == [f"{manifest}:13", f"{dockerfile}:2"]
    assert images["quay.io/org/tool:2"]["sources"] == [f"{manifest}:10"]
    for ref in ("quay.io/org/tool:2", "fileapp:1.0", f"{cache}/docker-hub/library/sidecar:3"):
        assert images[ref]["status"] == "pulled", images[ref]
    assert images[f"fileapp:1.0@{app.digest}"]["status"] == "pulled"
    variable = images["quay.io/org/tool:${TAG}"]
    assert variable["status"] == "failed" and "variable" in variable["error"]
    assert (manifest.read_bytes(), dockerfile.read_bytes()) == before  # warm only reads


def test_helm_image_blocks_are_warmed_as_rewrite_maps_them(
    shared_pair: tuple[RegistryServer, ...], config_path: Path, tmp_path: Path
) -> None:
    # A block split over registry/repository/tag is one image, with the block's own tag as
    # written (7.4 stays 7.4), as rewrite maps it; the inline reference beside it is unchanged.
    _, proxy = shared_pair
    values = tmp_path / "values.yaml"
    values.write_text(
        "image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.4\n"
        "sidecar:\n  image: quay.io/org/tool:2\n"
    )
    jobs, _ = jobs_from_files([values], mapping_for(proxy, config_path), registry_url=proxy.url)
    assert [(j.reference, j.sources, j.target is None) for j in jobs] == [
        ("docker.io/bitnami/redis:7.4", (f"{values}:3",), False),
        ("quay.io/org/tool:2", (f"{values}:6",), False),
    ]
    assert all(j.problem is None for j in jobs)


# -- digests -------------------------------------------------------------------------------


def test_digest_only_fails_clearly_and_pulls_nothing(
    fresh_pair: tuple[RegistryServer, ...],
    config_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, proxy = fresh_pair
    image = pushed(upstream, "docker-hub/library/bydigest")
    ref = f"bydigest@{image.digest}"
    report = warm(proxy, config_path, [ref], ProxyStorage(proxy))
    (result,) = report.images
    assert result.status == "failed" and result.error == DIGEST_ONLY_PROBLEM
    assert result.hint is not None and "name:tag@digest" in result.hint
    assert not (proxy.root / "docker/registry/v2/repositories/docker-hub/library/bydigest").exists()

    code, out, _ = run_warm(capsys, monkeypatch, proxy, config_path, ref, "--no-color")
    assert code == 1
    assert "digest-only reference not in the cache: ECR does not populate" in out
    assert "containers-roadmap#2837" in out

    # once the tag was pulled, the digest is in the cache and warm says so
    warm(proxy, config_path, ["bydigest:1.0"], ProxyStorage(proxy))
    (cached,) = warm(proxy, config_path, [ref], ProxyStorage(proxy)).images
    assert cached.status == "already-cached" and cached.digest == str(image.digest)


def test_tag_and_digest_is_warmed_through_its_tag(
    fresh_pair: tuple[RegistryServer, ...], config_path: Path
) -> None:
    upstream, proxy = fresh_pair
    image = pushed(upstream, "docker-hub/library/pinned")
    storage = ProxyStorage(proxy)
    (result,) = warm(proxy, config_path, [f"pinned:1.0@{image.digest}"], storage).images
    assert result.status == "cached-now", result
    assert result.digest == str(image.digest)
    # asked for the pinned digest first, then pulled by the tag
    assert storage.asked[:2] == [
        f"docker-hub/library/pinned@{image.digest}",
        "docker-hub/library/pinned@1.0",
    ]
    assert (storage.repositories / "docker-hub/library/pinned/_manifests/tags/1.0").is_dir()


def test_a_pin_the_tag_no_longer_points_at_fails(
    fresh_pair: tuple[RegistryServer, ...], config_path: Path
) -> None:
    upstream, proxy = fresh_pair
    old = make_multiarch(PLATFORMS, [1024])
    pushed(upstream, "docker-hub/library/moved")  # the tag now points at another image
    ref = f"moved:1.0@{old.digest}"
    (result,) = warm(proxy, config_path, [ref], ProxyStorage(proxy)).images
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.startswith("the tag 1.0 now resolves to sha256:")
    assert f"not the pinned {old.digest}" in result.error
    assert result.platforms == ()  # nothing of the tag's new image was pulled for it


def test_a_pin_on_one_platform_manifest_warms_that_platform(
    fresh_pair: tuple[RegistryServer, ...], config_path: Path
) -> None:
    upstream, proxy = fresh_pair
    image = pushed(upstream, "docker-hub/library/onearch")
    arm64 = image.for_platform("linux/arm64")
    (result,) = warm(
        proxy, config_path, [f"onearch:1.0@{arm64.digest}"], ProxyStorage(proxy)
    ).images
    assert result.status == "cached-now", result
    assert [(p.platform, p.digest) for p in result.platforms] == [
        ("linux/arm64", str(arm64.digest))
    ]
