"""After ``ecrcache --sandbox login --write-config``, doctor's docker.login check says when the
login expires (the sandbox's token carries its expiry as ECR's does), not "expiry unknown"."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from cli_support import cli

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
REGISTRY = "123456789012.dkr.ecr.af-south-1.amazonaws.com"


def test_doctor_reads_the_sandbox_logins_expiry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    base = ("--sandbox", "-c", str(EXAMPLE), "-o", "json")
    code, out, err = cli(capsys, *base, "login", "--write-config")
    assert code == 0, err
    login = json.loads(out)["data"]
    assert login["docker_config"] == str(tmp_path / "docker" / "config.json")
    expires = datetime.fromisoformat(login["expires_at"])
    code, out, err = cli(capsys, *base, "doctor", "--check", "docker.login")
    (check,) = json.loads(out)["data"]["checks"]
    assert check["status"] == "pass", check
    assert "expiry unknown" not in check["finding"]
    assert check["finding"].endswith(
        f"has a login for {REGISTRY}, valid until {expires:%Y-%m-%d %H:%M} UTC"
    )
