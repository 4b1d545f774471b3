"""``ecrcache sandbox status|reset`` through the CLI entry point, and across real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import cli

from ecrcache.sandbox.runtime import SANDBOX_ACCOUNT_ID, open_sandbox

REGION = "af-south-1"


def _one_rule_and_secret(state: Path) -> None:
    with open_sandbox(region=REGION, state_path=state) as s:
        s.client("ecr").create_pull_through_cache_rule(
            ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws"
        )
        s.client("secretsmanager").create_secret(Name="ecr-pullthroughcache/x", SecretString="{}")


def test_status_of_an_empty_sandbox(capsys: pytest.CaptureFixture[str], aws_env: Path) -> None:
    code, out, _ = cli(capsys, "sandbox", "status")
    assert code == 0
    assert "No sandbox state yet" in out and str(aws_env) in out


def test_status_counts_text_and_json(capsys: pytest.CaptureFixture[str], aws_env: Path) -> None:
    _one_rule_and_secret(aws_env)
    code, out, _ = cli(capsys, "sandbox", "status", "--no-color")
    assert code == 0
    assert str(aws_env) in out
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:]}
    assert lines == {
        "rules": "1",
        "templates": "0",
        "repositories": "0",
        "images": "0",
        "secrets": "1",
    }
    code, out, _ = cli(capsys, "sandbox", "status", "-o", "json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True and doc["schema"] == "ecrcache/v1"
    assert doc["command"] == "sandbox status"
    data = doc["data"]
    assert (data["rules"], data["secrets"], data["exists"]) == (1, 1, True)
    assert data["size_bytes"] == aws_env.stat().st_size


def test_reset_says_what_it_did(capsys: pytest.CaptureFixture[str], aws_env: Path) -> None:
    _one_rule_and_secret(aws_env)
    code, out, _ = cli(capsys, "sandbox", "reset")
    assert code == 0 and out.startswith("Deleted the sandbox state") and not aws_env.exists()
    code, out, _ = cli(capsys, "sandbox", "reset")
    assert code == 0 and "nothing to delete" in out
    code, out, _ = cli(capsys, "--output", "json", "sandbox", "reset")
    assert json.loads(out)["data"] == {"state_path": str(aws_env), "deleted": False}


def test_corrupt_state_is_one_line_and_a_hint(
    capsys: pytest.CaptureFixture[str], aws_env: Path
) -> None:
    aws_env.parent.mkdir(parents=True)
    aws_env.write_bytes(b"not a sandbox")
    code, out, err = cli(capsys, "sandbox", "status")
    assert code == 1 and out == ""
    assert "Traceback" not in err
    assert err.splitlines()[0].startswith("Error: the sandbox state")
    assert "ecrcache sandbox reset" in err
    code, out, _ = cli(capsys, "sandbox", "status", "-o", "json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["error"]["code"] == "sandbox"


def test_state_is_shared_with_a_separate_process(aws_env: Path) -> None:
    _one_rule_and_secret(aws_env)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-m", "ecrcache", "--sandbox", "sandbox", "status", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert (data["state_path"], data["rules"], data["secrets"]) == (str(aws_env), 1, 1)
    # A change made by another process is seen here.
    script = (
        "from ecrcache.sandbox.runtime import open_sandbox\n"
        f"with open_sandbox(region='{REGION}') as s:\n"
        "    s.client('ecr').create_pull_through_cache_rule("
        "ecrRepositoryPrefix='quay', upstreamRegistryUrl='quay.io')\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    with open_sandbox(region=REGION, state_path=aws_env) as s:
        rules = s.client("ecr").describe_pull_through_cache_rules()["pullThroughCacheRules"]
        assert sorted(r["ecrRepositoryPrefix"] for r in rules) == ["ecr-public", "quay"]
        assert s.client("sts").get_caller_identity()["Account"] == SANDBOX_ACCOUNT_ID
