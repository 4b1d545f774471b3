"""plan/apply end to end through the CLI, on the sandbox (state in a temporary file)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from cli_support import cli

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
TOKEN = "dckr_pat_NEVER_SHOW_ME_0123456789"


def test_quick_start(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--sandbox", "plan", "-c", str(EXAMPLE), "--detailed-exitcode")
    assert code == 2
    assert "Plan: 12 to add, 1 to change, 0 to replace, 0 to destroy." in out
    assert "sandbox" in err
    code, out, err = cli(capsys, "--sandbox", "apply", "-c", str(EXAMPLE), "--yes")
    assert code == 0, err
    assert "Apply complete: 12 added, 1 changed" in out
    assert "placeholder" in err  # DOCKERHUB_TOKEN is unset: the sandbox says what it did
    code, out, _ = cli(capsys, "--sandbox", "plan", "-c", str(EXAMPLE), "--detailed-exitcode")
    assert code == 0
    assert "No changes." in out


def test_global_options_after_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "apply", "-c", str(EXAMPLE), "--yes", "--sandbox", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["command"] == "apply" and doc["ok"] is True
    assert len(doc["data"]["applied"]) == 13


def test_apply_needs_yes_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "--sandbox", "apply", "-c", str(EXAMPLE))
    assert code == 2
    assert "standard input is not a terminal" in err
    code, _, _ = cli(capsys, "--sandbox", "plan", "-c", str(EXAMPLE), "--detailed-exitcode")
    assert code == 2  # nothing was applied


def test_checksum_gate(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--sandbox", "plan", "-c", str(EXAMPLE), "-o", "json")
    checksum = json.loads(out)["data"]["checksum"]
    code, _, err = cli(
        capsys, "--sandbox", "apply", "-c", str(EXAMPLE), "--yes", "--checksum", "sha256:0"
    )
    assert code == 5 and "checksum differs" in err
    code, _, _ = cli(
        capsys, "--sandbox", "apply", "-c", str(EXAMPLE), "--yes", "--checksum", checksum
    )
    assert code == 0


def test_replace_needs_force(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'region = "af-south-1"\n[rules.azure]\nupstream = "azure-container-registry"\n'
        'url = "oneregistry.azurecr.io"\n[rules.azure.credentials]\n'
        'secret = "ecr-pullthroughcache/azure"\nusername = "u"\ntoken = { env = "AZ" }\n'
    )
    assert cli(capsys, "--sandbox", "apply", "-c", str(cfg), "--yes")[0] == 0
    cfg.write_text(cfg.read_text().replace("oneregistry", "tworegistry"))
    code, out, err = cli(capsys, "--sandbox", "apply", "-c", str(cfg), "--yes")
    assert code == 5
    assert "-/+ rule.azure must be replaced (url cannot be updated in place)" in out
    assert "--force" in err
    code, out, _ = cli(capsys, "--sandbox", "apply", "-c", str(cfg), "--yes", "--force")
    assert code == 0 and "1 replaced" in out


def test_detailed_exitcode_turns_errors_into_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('region = "af-south-1"\n[rules.quay]\nupstream = "quayy"\n')
    assert cli(capsys, "--sandbox", "plan", "-c", str(bad))[0] == 2
    assert cli(capsys, "--sandbox", "plan", "-c", str(bad), "--detailed-exitcode")[0] == 1


def test_secret_value_appears_nowhere(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKERHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GHCR_TOKEN", TOKEN + "-ghcr")
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    for args in (
        ("plan",),
        ("plan", "-o", "json"),
        ("apply", "--yes", "-o", "json"),
        ("plan", "--debug"),
    ):
        code, out, err = cli(capsys, "--sandbox", *args, "-c", str(EXAMPLE))
        assert code == 0
        seen += [out, err]
    monkeypatch.setenv("DOCKERHUB_TOKEN", TOKEN + "-rotated")
    code, out, err = cli(capsys, "--sandbox", "--debug", "apply", "--yes", "-c", str(EXAMPLE))
    assert code == 0
    assert "~ secret.ecr-pullthroughcache/docker-hub" in out and "(sensitive)" in out
    seen += [out, err, caplog.text]
    blob = "\n".join(seen)
    assert "(sensitive)" in blob
    assert TOKEN not in blob
    assert "NEVER_SHOW_ME" not in blob


def test_secret_value_absent_from_errors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecrcache.sandbox import ecr_extension

    monkeypatch.setenv("DOCKERHUB_TOKEN", TOKEN)
    monkeypatch.setattr("ecrcache.reconcile.handlers.common.PROPAGATION_DELAYS", ())
    ecr_extension.inject_secret_not_found(1)
    try:
        code, out, err = cli(
            capsys, "--sandbox", "apply", "--yes", "-c", str(EXAMPLE), "-o", "json"
        )
    finally:
        ecr_extension.inject_secret_not_found(0)
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False and doc["error"]["code"] == "apply-failed"
    assert doc["error"]["applied"][:2] == [
        "create secret.ecr-pullthroughcache/docker-hub",
        "create secret.ecr-pullthroughcache/github",
    ]
    assert TOKEN not in out + err
    assert "Traceback" not in err
