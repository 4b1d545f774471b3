"""``ecrcache node-config`` and ``doctor --node`` end to end, in-process."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

import pytest
from cli_support import cli

ACCOUNT = "123456789012"
CONFIG = """
version = 1
region = "af-south-1"
{account}
[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/hub"
[rules.quay]
upstream = "quay"
[rules.ecr-public]
upstream = "ecr-public"
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG.format(account=f'account_id = "{ACCOUNT}"'))

    def no_aws(*_a: object, **_k: object) -> None:
        raise AssertionError("node-config called AWS although the config names account_id")

    monkeypatch.setattr("ecrcache.cli.nodeconfig.open_clients", no_aws)
    return path


def test_json_has_every_file_with_its_content(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "-c", str(config), "-o", "json", "node-config")
    assert code == 0
    env = json.loads(out)
    assert env["schema"] == "ecrcache/v1" and env["command"] == "node-config" and env["ok"]
    files = {f["path"]: f["content"] for f in env["data"]["files"]}
    assert set(files) == {
        "/etc/containerd/certs.d/docker.io/hosts.toml",
        "/etc/containerd/certs.d/quay.io/hosts.toml",
        "/etc/eks/image-credential-provider/ecrcache-config.json",
        "/etc/containerd/config.d/ecrcache.toml",
    }
    hosts = tomllib.loads(files["/etc/containerd/certs.d/quay.io/hosts.toml"])
    assert list(hosts["host"]) == [f"https://{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com/v2/quay"]
    assert env["data"]["skipped"][0]["prefix"] == "ecr-public"
    assert env["data"]["written"] == []
    assert env["data"]["credential_provider"]["min_version"] == "1.29.0"


def test_text_prints_files_then_what_was_left_out(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "-c", str(config), "node-config", "-t", "al2023")
    assert code == 0
    assert out.startswith("==> user-data.mime <==\nContent-Type: multipart/mixed;")
    assert "Not mirrored ecr-public" in out and "v1.29.0" in out


def test_out_writes_the_node_tree(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    code, out, _ = cli(capsys, "-c", str(config), "node-config", "--out", str(out_dir))
    assert code == 0 and "Wrote 4 files" in out and "==>" not in out
    f = out_dir / "etc/containerd/certs.d/docker.io/hosts.toml"
    assert stat.S_IMODE(f.stat().st_mode) == 0o644
    assert tomllib.loads(f.read_text())["server"] == "https://registry-1.docker.io"


def test_bottlerocket_without_fallback_is_refused_in_one_line(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(
        capsys, "-c", str(config), "node-config", "-t", "bottlerocket", "--no-fallback"
    )
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert lines[0].startswith("Error: Bottlerocket mirrors always fall back")
    assert lines[1].startswith("Hint:") and len(lines) == 2


def test_without_account_id_the_account_comes_from_aws(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG.format(account=""))
    code, out, _ = cli(capsys, "--sandbox", "-c", str(path), "-o", "json", "node-config")
    assert code == 0
    assert json.loads(out)["data"]["registry"] == f"{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com"


def test_doctor_node_lists_its_checks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "-o", "json", "doctor", "--node", "--list-checks")
    assert code == 0
    ids = [c["id"] for c in json.loads(out)["data"]["checks"]]
    assert ids == [
        "node.containerd",
        "node.config_path",
        "node.hosts",
        "node.fallback",
        "node.credprovider",
        "node.credprovider_version",
    ]


def test_doctor_node_on_an_empty_root_fails_with_fixes(
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_aws(*_a: object, **_k: object) -> None:
        raise AssertionError("doctor --node called AWS although the config names account_id")

    monkeypatch.setattr("ecrcache.cli.doctor.open_clients", no_aws)
    code, out, _ = cli(
        capsys, "-c", str(config), "-o", "json", "doctor", "--node", "--root", str(tmp_path)
    )
    assert code == 1
    data = json.loads(out)["data"]
    assert data["context"]["account_id"] == ACCOUNT
    status = {c["id"]: c["status"] for c in data["checks"]}
    assert status["node.containerd"] == "fail" and status["node.hosts"] == "fail"
    assert all(c["fix"] for c in data["checks"] if c["status"] == "fail")
