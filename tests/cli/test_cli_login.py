"""``ecrcache login`` end to end: moto for the token, a fake docker on PATH, capsys for output.

The property under test everywhere: the token reaches only the place asked for (docker's stdin,
the config file, the printed password or Secret), never argv and never other output.
"""

from __future__ import annotations

import base64
import json
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from ecrcache.cli.app import run

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A moto account; yields the password GetAuthorizationToken returns in it."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "DOCKER_CONFIG": str(tmp_path / "dockercfg"),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no ecrcache.toml here
    # ECR-shaped tokens (the extension), each call's the same: the tests compare them.
    from ecrcache.sandbox import auth_token
    from ecrcache.sandbox.ecr_extension import install

    install()
    now = time.time()
    monkeypatch.setattr(auth_token, "_clock", lambda: now)
    with mock_aws():
        data = boto3.client("ecr", region_name=REGION).get_authorization_token()
        token = data["authorizationData"][0]["authorizationToken"]
        yield base64.b64decode(token).decode().partition(":")[2]


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A docker on PATH (alone) that records argv and stdin; returns its directory."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "docker"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" >> "{bindir}/argv"\n'
        f'{shutil.which("cat")} >> "{bindir}/stdin"\n'
        "echo 'Login Succeeded'\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bindir))
    return bindir


def test_docker_login_gets_the_token_on_stdin_only(
    aws: str, fake_docker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["login", "--regions", f"{REGION},us-east-1"]) == 0
    out, err = capsys.readouterr()
    argv = (fake_docker / "argv").read_text()
    assert aws not in argv and aws not in out and aws not in err
    assert (fake_docker / "stdin").read_text() == aws * 2  # one login per region
    hosts = [line for line in argv.splitlines() if ".dkr.ecr." in line]
    assert [h.split(".")[3] for h in hosts] == [REGION, "us-east-1"]
    assert argv.splitlines().count("--password-stdin") == 2
    assert f"Logged in to {hosts[0]} (docker login)" in out
    assert "Token expires" in out
    assert not (Path.cwd() / "dockercfg" / "config.json").exists()


def test_other_accounts_registries(
    aws: str, fake_docker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = ["111122223333", "444455556666"]
    assert run(["login", "--region", REGION, "--registry-id", ids[0], "--registry-id", ids[1]]) == 0
    out, err = capsys.readouterr()
    argv = (fake_docker / "argv").read_text()
    for account in ids:
        assert f"{account}.dkr.ecr.{REGION}.amazonaws.com" in argv.splitlines()
    stdin = (fake_docker / "stdin").read_text()
    assert stdin  # whatever tokens moto made, none of them is in argv or output
    for token_part in (stdin[: len(stdin) // 2], stdin[len(stdin) // 2 :]):
        assert token_part not in argv and token_part not in out and token_part not in err


def test_without_docker_the_config_file_is_written(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    config = tmp_path / "dockercfg" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"auths": {"quay.io": {"auth": "cTp4"}}, "credsStore": "pass"}))
    assert run(["login", "--region", REGION]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(config.read_text())
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert doc["auths"]["quay.io"] == {"auth": "cTp4"} and doc["credsStore"] == "pass"
    (host,) = [h for h in doc["auths"] if h != "quay.io"]
    assert base64.b64decode(doc["auths"][host]["auth"]).decode() == f"AWS:{aws}"
    assert "credsStore" in err  # the warning that the entry is shadowed
    assert aws not in out and aws not in err


def test_print_password_prints_exactly_the_password(
    aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["login", "--print-password", "--region", REGION]) == 0
    out, err = capsys.readouterr()
    assert out == aws + "\n"
    assert aws not in err and "expires" in err


def test_k8s_secret_on_stdout(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["login", "--k8s-secret", "ecr-pull", "--namespace", "ci", "--region", REGION]) == 0
    out, err = capsys.readouterr()
    doc = yaml.safe_load(out)
    assert doc["type"] == "kubernetes.io/dockerconfigjson"
    assert doc["metadata"] == {
        "name": "ecr-pull",
        "namespace": "ci",
        "labels": {"app.kubernetes.io/managed-by": "ecrcache"},
    }
    auths = json.loads(base64.b64decode(doc["data"][".dockerconfigjson"]))["auths"]
    (entry,) = auths.values()
    assert entry["password"] == aws
    assert aws not in out and aws not in err


def test_json_output_has_no_token(
    aws: str, fake_docker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["login", "--region", REGION, "--output", "json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["ok"] is True and doc["data"]["method"] == "docker"
    assert doc["data"]["registries"][0].endswith(f".dkr.ecr.{REGION}.amazonaws.com")
    assert aws not in out and aws not in err


def test_helm_login(aws: str, fake_docker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    helm = fake_docker / "helm"
    helm.write_text((fake_docker / "docker").read_text())
    helm.chmod(0o755)
    assert run(["login", "--helm", "--region", REGION]) == 0
    out, _ = capsys.readouterr()
    assert (fake_docker / "argv").read_text().splitlines()[:2] == ["registry", "login"]
    assert (fake_docker / "stdin").read_text() == aws
    assert "helm registry login" in out


def test_conflicting_payloads_are_a_usage_error(
    aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["login", "--print-password", "--k8s-secret", "x", "--region", REGION]) == 2
    assert "choose one" in capsys.readouterr().err
