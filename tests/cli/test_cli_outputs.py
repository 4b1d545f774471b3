"""``ecrcache outputs`` on the sandbox: text and JSON, the CI policy before and after apply,
and no AWS call at all when the config names the account and asks for no CI policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import cli

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
HOST = "123456789012.dkr.ecr.af-south-1.amazonaws.com"


def test_text_before_and_after_apply(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--sandbox", "outputs", "-c", str(EXAMPLE))
    assert code == 0, err
    assert f"Registry   {HOST}" in out
    assert (
        "aws ecr get-login-password --region af-south-1 | docker login --username AWS "
        f"--password-stdin {HOST}"
    ) in out
    assert "ecrcache login --region af-south-1" in out
    assert "ecrcache-ci: not created yet" in out
    assert f"{HOST}/docker-hub/library/nginx:1.27" in out
    assert f"{HOST}/quay/prometheus/node-exporter:v1.8.0" in out
    assert f"{HOST}/k8s/pause:3.10" in out
    assert f"{HOST}/github/<org>/<image>:<tag>" in out
    assert "…" not in out
    assert cli(capsys, "--sandbox", "apply", "-c", str(EXAMPLE), "--yes")[0] == 0
    code, out, _ = cli(capsys, "--sandbox", "outputs", "-c", str(EXAMPLE))
    assert "CI policy  arn:aws:iam::123456789012:policy/ecrcache-ci" in out


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "--sandbox", "apply", "-c", str(EXAMPLE), "--yes")[0] == 0
    code, out, _ = cli(capsys, "--sandbox", "outputs", "-c", str(EXAMPLE), "-o", "json")
    assert code == 0
    env = json.loads(out)
    assert env["command"] == "outputs" and env["ok"] is True
    data = env["data"]
    assert data["registry"] == HOST
    assert data["ci_policy_arn"] == "arn:aws:iam::123456789012:policy/ecrcache-ci"
    prefixes = {p["prefix"]: p for p in data["pull_prefixes"]}
    assert sorted(prefixes) == ["docker-hub", "ecr-public", "github", "k8s", "quay"]
    assert prefixes["docker-hub"] == {
        "prefix": "docker-hub",
        "upstream": "docker-hub",
        "upstream_url": "registry-1.docker.io",
        "pull_prefix": f"{HOST}/docker-hub/",
        "example": "nginx:1.27",
        "cached_example": f"{HOST}/docker-hub/library/nginx:1.27",
    }


def test_no_aws_when_the_config_says_it_all(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ecrcache.cli.outputs as command

    def refuse(*_: object) -> None:
        raise AssertionError("outputs opened AWS clients")

    monkeypatch.setattr(command, "open_clients", refuse)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'region = "eu-west-1"\naccount_id = "210987654321"\n[rules.ROOT]\nupstream = "quay"\n'
    )
    code, out, err = cli(capsys, "outputs", "-c", str(cfg), "-o", "json")
    assert code == 0, err
    (p,) = json.loads(out)["data"]["pull_prefixes"]
    assert p["pull_prefix"] == "210987654321.dkr.ecr.eu-west-1.amazonaws.com/"
    assert p["cached_example"] == (
        "210987654321.dkr.ecr.eu-west-1.amazonaws.com/prometheus/node-exporter:v1.8.0"
    )


def test_wrong_account_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'region = "af-south-1"\naccount_id = "210987654321"\n[ci_policy]\n'
        '[rules.quay]\nupstream = "quay"\n'
    )
    code, _, err = cli(capsys, "--sandbox", "outputs", "-c", str(cfg))
    assert code == 3  # the credentials are for another account
    assert "210987654321" in err and "123456789012" in err
