"""test-pull through the CLI on the sandbox: the simulated pull, the ECR verification, warnings."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli

from ecrcache.sandbox.runtime import open_sandbox

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
REGION = "af-south-1"
REGISTRY = f"123456789012.dkr.ecr.{REGION}.amazonaws.com"
LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "test-pull: keep 3",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 3,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)
DATA_KEYS = {
    "reference",
    "cache_reference",
    "registry_url",
    "repository",
    "platform",
    "method",
    "simulated",
    "note",
    "attempts",
    "verification",
}
VERIFICATION_KEYS = {
    "repository",
    "exists",
    "created",
    "lifecycle_policy",
    "tag_mutability",
    "encryption",
    "image_listed",
    "image_digest",
    "image_size",
    "digest_matches",
    "error",
}


def sandbox_ecr_call(method: str, **kwargs: Any) -> Any:
    """One call on the sandbox's ECR client, on the state the CLI uses (ECRCACHE_SANDBOX_STATE)."""
    with open_sandbox(region=REGION) as session:
        return getattr(session.client("ecr"), method)(**kwargs)


@pytest.fixture
def applied(capsys: pytest.CaptureFixture[str]) -> Path:
    """The example config applied to the sandbox, with a docker-hub creation template of ours
    (replacing one the example may declare, so the lifecycle policy is known to be ours)."""
    code, _, err = cli(capsys, "--sandbox", "apply", "-c", str(EXAMPLE), "--yes")
    assert code == 0, err
    with open_sandbox(region=REGION) as session:
        ecr = session.client("ecr")
        with contextlib.suppress(ecr.exceptions.TemplateNotFoundException):
            ecr.delete_repository_creation_template(prefix="docker-hub")
        ecr.create_repository_creation_template(
            prefix="docker-hub",
            appliedFor=["PULL_THROUGH_CACHE"],
            lifecyclePolicy=LIFECYCLE,
            imageTagMutability="IMMUTABLE",
        )
    return EXAMPLE


def test_pull_creates_the_repository_with_the_template(
    capsys: pytest.CaptureFixture[str], applied: Path
) -> None:
    code, out, err = cli(capsys, "--sandbox", "test-pull", "nginx:1.27", "-c", str(applied))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (
        f"nginx:1.27 → {REGISTRY}/docker-hub/library/nginx:1.27 (linux/amd64, simulated)"
    )
    assert "simulated: no image data was transferred" in out
    assert "ECR: repository docker-hub/library/nginx (created by this pull)" in out
    assert "lifecycle policy: yes; tag mutability: IMMUTABLE" in out
    policy = sandbox_ecr_call("get_lifecycle_policy", repositoryName="docker-hub/library/nginx")
    # our template's, not another's (as ECR serialises it: sandbox/lifecycle_form)
    assert json.loads(policy["lifecyclePolicyText"]) == json.loads(LIFECYCLE)
    assert "sandbox" in err

    code, out, _ = cli(capsys, "--sandbox", "test-pull", "nginx:1.27", "-c", str(applied))
    assert code == 0 and "(existed before this pull)" in out


def test_json_output(capsys: pytest.CaptureFixture[str], applied: Path) -> None:
    code, out, _ = cli(
        capsys, "--sandbox", "test-pull", "nginx:1.27", "-c", str(applied), "-o", "json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["command"] == "test-pull" and doc["ok"] is True and doc["error"] is None
    data = doc["data"]
    assert set(data) == DATA_KEYS and set(data["verification"]) == VERIFICATION_KEYS
    assert data["simulated"] is True and data["method"] == "simulated"
    assert data["note"] == "simulated: no image data was transferred"
    assert data["attempts"] == []
    assert data["reference"] == "nginx:1.27"
    assert data["cache_reference"] == f"{REGISTRY}/docker-hub/library/nginx:1.27"
    assert data["registry_url"] == f"https://{REGISTRY}"
    v = data["verification"]
    assert v["repository"] == "docker-hub/library/nginx"
    assert v["created"] is True and v["lifecycle_policy"] is True and v["image_listed"] is True
    images = sandbox_ecr_call(
        "describe_images",
        repositoryName="docker-hub/library/nginx",
        imageIds=[{"imageTag": "1.27"}],
    )["imageDetails"]
    assert v["image_digest"] == images[0]["imageDigest"]
    assert doc["warnings"] == []


def test_digest_only_warns_and_populates_nothing(
    capsys: pytest.CaptureFixture[str], applied: Path
) -> None:
    ref = "nginx@sha256:" + "a" * 64
    code, out, err = cli(capsys, "--sandbox", "test-pull", ref, "-c", str(applied))
    assert code == 1  # a pull ECR would not cache fails the smoke test
    assert "Warning: the reference is digest-only: ECR does not populate the cache" in err
    assert "ECR: no repository docker-hub/library/nginx" in out
    assert "Error: test-pull failed: ECR has no repository 'docker-hub/library/nginx'" in err
    code, out, _ = cli(capsys, "--sandbox", "test-pull", ref, "-c", str(applied), "-o", "json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["error"]["code"] == "check-failed"
    assert any("digest-only" in w for w in doc["warnings"])
    assert doc["data"]["verification"]["exists"] is False


def test_official_image_without_library(capsys: pytest.CaptureFixture[str], applied: Path) -> None:
    ref = f"{REGISTRY}/docker-hub/redis:7"
    code, out, err = cli(capsys, "--sandbox", "test-pull", ref, "-c", str(applied), "-o", "json")
    assert code == 1, err  # ECR would not have cached it: the smoke test fails
    doc = json.loads(out)
    assert doc["warnings"][0] == (
        "'docker-hub/redis' is a Docker Hub official image without library/: "
        "ECR needs 'docker-hub/library/redis'"
    )
    assert doc["data"]["verification"]["exists"] is False  # ECR would not have fetched it


def test_cache_reference_under_no_configured_rule(
    capsys: pytest.CaptureFixture[str], applied: Path
) -> None:
    ref = f"{REGISTRY}/elsewhere/app:1"
    code, _, err = cli(capsys, "--sandbox", "test-pull", ref, "-c", str(applied))
    assert code == 1  # the sandbox's pull fails as ECR's would: no rule in the account
    assert "Warning: no rule in the config has the prefix of 'elsewhere/app'" in err
    assert "no pull-through cache rule" in err


def test_without_a_template_no_lifecycle_policy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "k8s.toml"
    config.write_text(f'region = "{REGION}"\n[rules.k8s]\nupstream = "k8s"\n')
    assert cli(capsys, "--sandbox", "apply", "-c", str(config), "--yes")[0] == 0
    code, out, err = cli(
        capsys, "--sandbox", "test-pull", "registry.k8s.io/pause:3.10", "-c", str(config)
    )
    assert code == 0, err
    assert "ECR: repository k8s/pause (created by this pull)" in out
    assert "lifecycle policy: no" in out
    assert "Warning: 'k8s/pause' has no lifecycle policy" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Nginx:1",), "invalid image reference 'Nginx:1'"),
        (("nginx:1", "--platform", "amd64"), "invalid platform 'amd64'"),
        (("gcr.io/x/y:1",), "no pull-through cache rule in the config covers gcr.io"),
        (("nginx:1", "--docker"), "--docker cannot pull in the sandbox"),
    ],
    ids=["bad-reference", "bad-platform", "no-rule", "docker-in-sandbox"],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], applied: Path, args: tuple[str, ...], message: str
) -> None:
    code, out, err = cli(capsys, "--sandbox", "test-pull", *args, "-c", str(applied))
    assert code == 2
    assert message in err and out == ""


def test_half_the_registry_credentials_is_an_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECRCACHE_REGISTRY_USERNAME", "someone")
    monkeypatch.delenv("ECRCACHE_REGISTRY_PASSWORD", raising=False)
    code, _, err = cli(capsys, "test-pull", "--registry-url", "http://127.0.0.1:9", "a/b:1")
    assert code == 2 and "ECRCACHE_REGISTRY_PASSWORD" in err


def test_registry_url_is_hidden_from_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "test-pull", "--help")
    assert code == 0
    assert "--platform" in out and "--docker" in out and "--registry-url" not in out
