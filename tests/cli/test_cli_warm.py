"""warm through the CLI on the sandbox: ECR's side of each pull simulated, "already cached"
decided by DescribeImages on the simulated account, exactly as against AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli

from ecrcache.sandbox.runtime import open_sandbox

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
REGION = "af-south-1"
REGISTRY = f"123456789012.dkr.ecr.{REGION}.amazonaws.com"
IMAGE_KEYS = {
    "reference",
    "sources",
    "cache_reference",
    "status",
    "digest",
    "bytes",
    "seconds",
    "simulated",
    "note",
    "error",
    "hint",
    "platforms",
}


def sandbox_ecr_call(method: str, **kwargs: Any) -> Any:
    with open_sandbox(region=REGION) as session:
        return getattr(session.client("ecr"), method)(**kwargs)


@pytest.fixture
def applied(capsys: pytest.CaptureFixture[str]) -> Path:
    code, _, err = cli(capsys, "--sandbox", "apply", "-c", str(EXAMPLE), "--yes")
    assert code == 0, err
    return EXAMPLE


def warm_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = cli(capsys, "--sandbox", "warm", "-c", str(EXAMPLE), "-o", "json", *args)
    return code, json.loads(out)


def test_sandbox_warm_nginx_cold_then_already_cached(
    capsys: pytest.CaptureFixture[str], applied: Path
) -> None:
    code, out, err = cli(capsys, "--sandbox", "warm", "nginx", "-c", str(applied), "--no-color")
    assert code == 0, err
    assert "nginx" in out and "cached-now (simulated)" in out
    assert f"cache: {REGISTRY}" in out
    assert "1 image: 1 cached-now" in out
    assert "Already cached: ECR DescribeImages" in out
    assert "sandbox" in err
    images = sandbox_ecr_call(
        "describe_images",
        repositoryName="docker-hub/library/nginx",
        imageIds=[{"imageTag": "latest"}],
    )["imageDetails"]
    assert len(images) == 1

    code, doc = warm_json(capsys, "nginx")
    assert code == 0
    (image,) = doc["data"]["images"]
    assert set(image) == IMAGE_KEYS
    assert image["status"] == "already-cached" and image["simulated"] is True
    assert image["digest"] == images[0]["imageDigest"]
    assert image["cache_reference"] == f"{REGISTRY}/docker-hub/library/nginx:latest"
    assert doc["data"]["counts"]["already-cached"] == 1


def test_sandbox_platforms_are_simulated_as_asked(
    capsys: pytest.CaptureFixture[str], applied: Path
) -> None:
    code, doc = warm_json(capsys, "quay.io/org/tool:2", "--platform", "linux/arm64")
    assert code == 0
    (image,) = doc["data"]["images"]
    assert [p["platform"] for p in image["platforms"]] == ["linux/arm64"]
    index = sandbox_ecr_call(
        "batch_get_image", repositoryName="quay/org/tool", imageIds=[{"imageTag": "2"}]
    )["images"][0]
    platforms = [m["platform"] for m in json.loads(index["imageManifest"])["manifests"]]
    assert platforms == [{"architecture": "arm64", "os": "linux"}]


def test_sandbox_failures_are_reported_and_exit_1(
    capsys: pytest.CaptureFixture[str], applied: Path
) -> None:
    digest = "sha256:" + "a" * 64
    code, doc = warm_json(capsys, "nginx:1.27", f"nginx@{digest}", "example.com/team/app:1")
    assert code == 1
    assert doc["ok"] is True  # the report is the result; the exit code says an image failed
    by_ref = {i["reference"]: i for i in doc["data"]["images"]}
    assert by_ref["nginx:1.27"]["status"] == "cached-now"
    assert by_ref[f"nginx@{digest}"]["status"] == "failed"
    assert "first pull by digest" in by_ref[f"nginx@{digest}"]["error"]
    assert by_ref["example.com/team/app:1"]["error"].startswith("no pull-through cache rule")
    # the digest-only reference filled nothing, as ECR would not
    listed = sandbox_ecr_call("list_images", repositoryName="docker-hub/library/nginx")
    assert [i.get("imageTag") for i in listed["imageIds"] if i.get("imageTag")] == ["1.27"]


def test_sandbox_tag_and_digest_goes_through_the_tag(
    capsys: pytest.CaptureFixture[str], applied: Path
) -> None:
    ref = "nginx:1.26@sha256:" + "b" * 64
    code, doc = warm_json(capsys, ref)
    assert code == 0
    (image,) = doc["data"]["images"]
    assert image["status"] == "cached-now"
    assert "cannot be checked" in image["note"]
    images = sandbox_ecr_call(
        "describe_images",
        repositoryName="docker-hub/library/nginx",
        imageIds=[{"imageTag": "1.26"}],
    )["imageDetails"]
    assert images and image["digest"] == images[0]["imageDigest"]


def test_sandbox_warm_files(
    capsys: pytest.CaptureFixture[str], applied: Path, tmp_path: Path
) -> None:
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
        "    - name: a\n      image: ghcr.io/org/app:1\n    - name: b\n      image: busybox:1.36\n"
    )
    (tmp_path / "Dockerfile").write_text("FROM busybox:1.36 AS base\nFROM base\n")
    code, doc = warm_json(capsys, "--file", str(tmp_path))
    assert code == 0, doc
    by_ref = {i["reference"]: i for i in doc["data"]["images"]}
    assert set(by_ref) == {"ghcr.io/org/app:1", "busybox:1.36"}
    assert by_ref["busybox:1.36"]["sources"] == [
        f"{tmp_path / 'Dockerfile'}:1",
        f"{tmp_path / 'pod.yaml'}:10",
    ]
    assert by_ref["ghcr.io/org/app:1"]["cache_reference"] == f"{REGISTRY}/github/org/app:1"


def test_sandbox_warm_a_split_helm_block(
    capsys: pytest.CaptureFixture[str], applied: Path, tmp_path: Path
) -> None:
    """The tag in another key of the block: warm pulls the reference rewrite maps it to."""
    values = tmp_path / "values.yaml"
    values.write_text("image: {registry: docker.io, repository: bitnami/nginx, tag: 1.25}\n")
    code, doc = warm_json(capsys, "--file", str(values))
    assert code == 0, doc
    (image,) = doc["data"]["images"]
    assert image["reference"] == "docker.io/bitnami/nginx:1.25"
    assert image["sources"] == [f"{values}:1"]
    assert image["status"] == "cached-now"
    assert image["cache_reference"] == f"{REGISTRY}/docker-hub/bitnami/nginx:1.25"
    cached = sandbox_ecr_call(
        "describe_images",
        repositoryName="docker-hub/bitnami/nginx",
        imageIds=[{"imageTag": "1.25"}],
    )["imageDetails"]
    assert len(cached) == 1 and image["digest"] == cached[0]["imageDigest"]


def test_usage_errors(capsys: pytest.CaptureFixture[str], applied: Path) -> None:
    code, _, err = cli(capsys, "--sandbox", "warm", "-c", str(EXAMPLE))
    assert code == 2 and "Error: nothing to warm" in err
    code, _, err = cli(
        capsys, "--sandbox", "warm", "-c", str(EXAMPLE), "nginx", "--concurrency", "0"
    )
    assert code == 2 and "--concurrency must be 1 to 16" in err
    code, _, err = cli(capsys, "--sandbox", "warm", "-c", str(EXAMPLE), "Not A Ref")
    assert code == 2 and "invalid image reference" in err
    code, _, err = cli(capsys, "--sandbox", "warm", "-c", str(EXAMPLE), "nginx", "--platform", "x")
    assert code == 2 and "invalid platform" in err


def test_files_without_references_warn(
    capsys: pytest.CaptureFixture[str], applied: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty.yaml").write_text("a: 1\n")
    code, out, err = cli(capsys, "--sandbox", "warm", "-c", str(EXAMPLE), "-f", str(tmp_path))
    assert code == 0
    assert "no image references found" in err and "0 images: none" in out


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], applied: Path
) -> None:
    from ecrcache.render.warm import warm_progress

    with warm_progress(3, enabled=True) as on_done:
        assert on_done.__name__ == "<lambda>"  # the no-op: stderr here is not a terminal
    code, _, err = cli(capsys, "--sandbox", "warm", "-c", str(EXAMPLE), "nginx:1.25")
    assert code == 0 and "warming" not in err


def test_progress_bar_on_a_terminal_goes_to_stderr(applied: Path) -> None:
    # A real process whose stderr is a pseudo-terminal: the bar is drawn there, stdout (a pipe)
    # gets only the report.
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src"), "COLUMNS": "120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecrcache", "--sandbox", "warm", "-c", str(EXAMPLE), "nginx:1.24"],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    out, _ = proc.communicate(timeout=60)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    terminal = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, terminal
    assert "warming" in terminal and "1/1" in terminal
    assert "warming" not in out.decode() and "cached-now" in out.decode()
