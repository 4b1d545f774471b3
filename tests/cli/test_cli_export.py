"""``ecrcache export cloudformation``: YAML on stdout, or --out through an atomic write, the JSON
envelope, a clear one-line failure, and no credential value anywhere (no source is read)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_support import cli

from ecrcache.config.loading import load_config
from ecrcache.export.cloudformation import cloudformation_template

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
PARAMETERS = ["SecretEcrPullthroughcacheDockerHubToken", "SecretEcrPullthroughcacheGithubToken"]


@pytest.fixture(autouse=True)
def tokens(monkeypatch: pytest.MonkeyPatch) -> str:
    """The example's token sources hold a value: export must never read it."""
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_MUST_NOT_APPEAR")
    monkeypatch.setenv("GHCR_TOKEN", "ghp_MUST_NOT_APPEAR")
    return "MUST_NOT_APPEAR"


def test_stdout_is_the_yaml_template(capsys: pytest.CaptureFixture[str], tokens: str) -> None:
    code, out, err = cli(capsys, "-c", str(EXAMPLE), "export", "cloudformation")
    assert code == 0
    assert yaml.safe_load(out) == cloudformation_template(load_config(EXAMPLE), region="af-south-1")
    assert ", ".join(PARAMETERS) in err
    assert tokens not in out + err


def test_out_writes_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tokens: str
) -> None:
    path = tmp_path / "cache.yaml"
    path.write_text("old")
    code, out, _ = cli(capsys, "-c", str(EXAMPLE), "export", "cloudformation", "--out", str(path))
    assert code == 0 and out == ""
    doc = yaml.safe_load(path.read_text())
    assert doc["Resources"]["RuleQuay"]["Properties"]["UpstreamRegistryUrl"] == "quay.io"
    assert path.stat().st_mode & 0o777 == 0o644
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left
    assert tokens not in path.read_text()


def test_region_flag_wins(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(
        capsys, "-c", str(EXAMPLE), "--region", "eu-west-1", "export", "cloudformation"
    )
    assert code == 0
    policy = yaml.safe_load(out)["Resources"]["RegistryPolicy"]["Properties"]["PolicyText"]
    assert "arn:aws:ecr:eu-west-1:${AWS::AccountId}:repository/quay/*" in json.dumps(policy)


def test_json_envelope(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = cli(capsys, "-c", str(EXAMPLE), "-o", "json", "export", "cloudformation")
    assert code == 0
    d = json.loads(out)
    assert d["command"] == "export" and d["ok"] is True
    assert d["data"]["parameters"] == PARAMETERS and d["data"]["out"] is None
    assert d["data"]["template"]["Resources"]["RuleK8s"]["Type"] == "AWS::ECR::PullThroughCacheRule"
    path = tmp_path / "t.yaml"
    code, out, _ = cli(
        capsys, "-c", str(EXAMPLE), "-o", "json", "export", "cloudformation", "--out", str(path)
    )
    d = json.loads(out)
    assert code == 0 and d["data"]["out"] == str(path) and "template" not in d["data"]
    assert path.exists()


def test_an_unwritable_out_is_one_line_with_a_hint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "missing" / "t.yaml"
    code, out, err = cli(capsys, "-c", str(EXAMPLE), "export", "cloudformation", "--out", str(path))
    assert code == 1 and out == ""
    assert f"cannot write {path}" in err and "exists" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2
