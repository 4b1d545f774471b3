"""The README's Troubleshooting quotes what ecrcache really prints, and names the doctor check
that really finds it.

Each case makes the failure happen (on the sandbox, or on moto where the sandbox would stand in a
placeholder), and checks three things: the message is printed (``...`` in it stands for any text
on one line), the README's Troubleshooting section quotes the same message, and the doctor check
it names there fails (or warns) on the same scene.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecrcache.cli.app import run
from ecrcache.sandbox.runtime import default_state_path, open_sandbox

README = Path(__file__).resolve().parents[2] / "README.md"
REGION = "af-south-1"
REGISTRY = f"123456789012.dkr.ecr.{REGION}.amazonaws.com"

# The walk-through's config (what `init` writes there), so the scenes are the reader's own.
CONFIG = """\
version = 1
region = "af-south-1"
account_id = "{account}"

[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/docker-hub"
username = "acme-ci"
token = {{ env = "DOCKERHUB_TOKEN" }}

[rules.quay]
upstream = "quay"

[rules.k8s]
upstream = "k8s"

[pullers]
principals = [{pullers}]
"""
EKS_NODE = '"arn:aws:iam::123456789012:role/eks-node"'


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def _troubleshooting() -> str:
    text = README.read_text()
    start = text.index("### Troubleshooting\n")
    return _squeeze(text[start : text.index("\n### ", start + 1)])


def _bullet(quote: str) -> str:
    """The Troubleshooting bullet that quotes ``quote``."""
    section = _troubleshooting()
    assert quote in section, f"README Troubleshooting does not quote {quote!r}"
    at = section.index(quote)
    begin = section.rfind(" - **", 0, at)
    end = section.find(" - **", at)
    return section[begin : end if end != -1 else len(section)]


def _printed(quote: str, output: str) -> bool:
    lines = "\n".join(" ".join(line.split()) for line in output.splitlines())
    pattern = "[^\\n]*".join(re.escape(part) for part in quote.split("..."))
    return re.search(pattern, lines) is not None


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG.format(account="123456789012", pullers=EKS_NODE))
    return path


def _doctor(
    *args: str,
    checks: tuple[str, ...],
    capsys: pytest.CaptureFixture[str],
    image: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Only the named checks: the others include network ones, and tests stay on loopback."""
    capsys.readouterr()
    selected = [a for c in checks for a in ("--check", c)] + (["--image", image] if image else [])
    run([*args, "doctor", "--root", "no-root", *selected, "-o", "json"])
    data = json.loads(capsys.readouterr().out)["data"]
    return {r["id"]: r for r in data["checks"]}


def _assert_found(
    quote: str, output: str, checks: dict[str, dict[str, Any]], check_id: str
) -> None:
    assert _printed(quote, output), output
    assert f"`{check_id}`" in _bullet(quote)
    assert checks[check_id]["status"] in ("fail", "warn"), checks[check_id]


def _sandbox_apply(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERHUB_TOKEN", "not-a-real-token")
    assert run(["--sandbox", "-c", str(config), "apply", "--yes"]) == 0


def test_no_credentials(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role on a laptop
    quote = "Error: no AWS credentials found"
    assert run(["-c", str(config), "plan"]) == 3
    err = capsys.readouterr().err
    assert "(exit 3)" in _bullet(quote)
    _assert_found(
        quote,
        err,
        _doctor("-c", str(config), checks=("creds.identity",), capsys=capsys),
        "creds.identity",
    )


def test_account_mismatch(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text(CONFIG.format(account="111111111111", pullers=EKS_NODE))
    quote = (
        "Error: the config is for account 111111111111, but the credentials are for account "
        "123456789012"
    )
    assert run(["--sandbox", "-c", str(config), "plan"]) != 0
    err = capsys.readouterr().err
    checks = _doctor("--sandbox", "-c", str(config), checks=("creds.identity",), capsys=capsys)
    _assert_found(quote, err, checks, "creds.identity")
    assert checks["creds.identity"]["fix"]["config"] == 'account_id = "123456789012"'


def test_missing_docker_hub_token(
    config: Path, aws: boto3.session.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    # On moto, not the sandbox: the sandbox would stand in a placeholder for the token.
    aws.client("iam").create_role(RoleName="eks-node", AssumeRolePolicyDocument="{}")
    quote = (
        "Error: secret ecr-pullthroughcache/docker-hub does not exist yet and its value is not "
        "available: environment variable DOCKERHUB_TOKEN is not set"
    )
    assert run(["-c", str(config), "plan"]) == 2
    err = capsys.readouterr().err
    _assert_found(
        quote,
        err,
        _doctor("-c", str(config), checks=("secret.exists",), capsys=capsys),
        "secret.exists",
    )


def test_secret_without_a_token(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_apply(config, monkeypatch)
    with open_sandbox(region=REGION, state_path=default_state_path()) as session:
        session.client("secretsmanager").put_secret_value(
            SecretId="ecr-pullthroughcache/docker-hub", SecretString='{"username": "acme-ci"}'
        )
    checks = _doctor(
        "--sandbox", "-c", str(config), checks=("rule.validate", "secret.keys"), capsys=capsys
    )
    validate = checks["rule.validate"]
    shown = validate["finding"] + "\n" + "\n".join(validate["details"])
    _assert_found("1 rule(s) not valid", shown, checks, "rule.validate")
    quote = "The secret value is missing the key(s): accessToken"
    _assert_found(quote, shown, checks, "rule.validate")
    _assert_found(
        "missing or empty key(s) accessToken", "\n".join(checks["secret.keys"]["details"]),
        checks, "secret.keys",
    )  # fmt: skip


def test_puller_cannot_make_a_first_pull(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_apply(config, monkeypatch)
    with open_sandbox(region=REGION, state_path=default_state_path()) as session:
        session.client("iam").create_role(RoleName="ci-runner", AssumeRolePolicyDocument="{}")
    runner = '"arn:aws:iam::123456789012:role/ci-runner"'
    config.write_text(CONFIG.format(account="123456789012", pullers=f"{EKS_NODE}, {runner}"))
    checks = _doctor("--sandbox", "-c", str(config), checks=("pullers.first-pull",), capsys=capsys)
    quote = (
        "arn:aws:iam::...:role/ci-runner may not BatchCheckLayerAvailability, BatchGetImage, "
        "BatchImportUpstreamImage, CreateRepository, ..."
    )
    _assert_found(quote, checks["pullers.first-pull"]["finding"], checks, "pullers.first-pull")


def test_official_image_without_library(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_apply(config, monkeypatch)
    ref = f"{REGISTRY}/docker-hub/nginx:1.27"
    capsys.readouterr()
    run(["--sandbox", "-c", str(config), "test-pull", ref])
    err = capsys.readouterr().err
    quote = (
        "Warning: 'docker-hub/nginx' is a Docker Hub official image without library/: ECR needs "
        "'docker-hub/library/nginx'"
    )
    checks = _doctor(
        "--sandbox", "-c", str(config), image=ref, checks=("image.library",), capsys=capsys
    )
    _assert_found(quote, err, checks, "image.library")


def test_first_pull_by_digest(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_apply(config, monkeypatch)
    ref = "nginx@sha256:" + "0" * 64
    capsys.readouterr()
    run(["--sandbox", "-c", str(config), "test-pull", ref])
    err = capsys.readouterr().err
    quote = (
        "Warning: the reference is digest-only: ECR does not populate the cache on a first pull "
        "by digest"
    )
    checks = _doctor(
        "--sandbox", "-c", str(config), image=ref, checks=("image.digest",), capsys=capsys
    )
    _assert_found(quote, err, checks, "image.digest")


def test_a_missing_rule(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_apply(config, monkeypatch)
    with open_sandbox(region=REGION, state_path=default_state_path()) as session:
        session.client("ecr").delete_pull_through_cache_rule(ecrRepositoryPrefix="quay")
    checks = _doctor("--sandbox", "-c", str(config), checks=("rule.present",), capsys=capsys)
    assert "'not found'" in checks["rule.present"]["why"]
    assert checks["rule.present"]["status"] == "fail"
    assert "`rule.present`" in _bullet('Pulls under a prefix return "not found"')
