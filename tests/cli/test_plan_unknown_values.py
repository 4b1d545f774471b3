"""plan in a pull request's job, where the registry token is not set (issue 15, item 6): a secret
still to create is planned with its value "(known after apply)", as Terraform plans what it
cannot know yet, and apply is what refuses. Through the CLI on a moto account (not --sandbox:
the sandbox stands a placeholder in for an unset token), and end to end through the GitHub
Actions example against `ecrcache sandbox serve`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cli_support import cli

from ecrcache import aws as ecrcache_aws

sys.path.insert(0, str(Path(__file__).parents[1]))
from serve_support import ServedSandbox, serve_env

yaml = pytest.importorskip("yaml")

REGION = "af-south-1"
SECRET = "ecr-pullthroughcache/docker-hub"
TOKEN = "dckr_pat_UNKNOWN_UNTIL_APPLY_0123456789"
OTHER_TOKEN = "dckr_pat_ANOTHER_VALUE_ALTOGETHER_987654"
CONFIG = f"""version = 1
region = "{REGION}"
[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "{SECRET}"
username = "acme-ci"
token = {{ env = "DOCKERHUB_TOKEN" }}
[rules.quay]
upstream = "quay"
"""
WORKFLOW = Path(__file__).parents[2] / "examples" / "github-actions" / "ecrcache.yml"


@pytest.fixture
def config_file(tmp_path: Path, aws: boto3.session.Session) -> Path:
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def calls() -> Iterator[list[str]]:
    """Every AWS call ecrcache's clients make, as ``service.Operation``."""
    seen: list[str] = []

    def observe(_c: Any, service: str, operation: str, _params: dict[str, Any]) -> None:
        seen.append(f"{service}.{operation}")

    ecrcache_aws.CALL_OBSERVERS.append(observe)
    try:
        yield seen
    finally:
        ecrcache_aws.CALL_OBSERVERS.remove(observe)


def mutating(calls: list[str]) -> list[str]:
    return [c for c in calls if not c.split(".", 1)[1].startswith(ecrcache_aws.READ_PREFIXES)]


def secret_field(doc: dict[str, Any]) -> dict[str, Any]:
    (change,) = [c for c in doc["data"]["changes"] if c["address"] == f"secret.{SECRET}"]
    assert change["action"] == "create"
    (value,) = [f for f in change["fields"] if f["name"] == "value"]
    return dict(value)


def test_plan_without_the_token_shows_known_after_apply_and_exits_2(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "plan", "-c", str(config_file), "--detailed-exitcode")
    assert code == 2, err
    assert f"+ secret.{SECRET} will be created" in out
    assert "value: (known after apply)" in out
    assert "+ rule.docker-hub will be created" in out
    assert "Plan: 3 to add, 0 to change" in out
    assert "Checksum: sha256:" in out
    assert "Error" not in err
    assert f"secret {SECRET}: value known after apply" in err
    assert "environment variable DOCKERHUB_TOKEN is not set" in err


def test_the_json_twin_marks_the_value_unknown(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "-o", "json", "plan", "-c", str(config_file), "--detailed-exitcode")
    assert code == 2
    doc = json.loads(out)
    assert doc["ok"] is True
    # Terraform's JSON plan: the unknown value is null in "after", flagged by after_unknown;
    # no placeholder string anyone could take for the value
    assert secret_field(doc) == {
        "name": "value",
        "before": None,
        "after": None,
        "sensitive": True,
        "after_unknown": True,
    }
    assert "known after apply" not in json.dumps(doc["data"]["changes"])
    known = [f for c in doc["data"]["changes"] for f in c["fields"] if f["name"] != "value"]
    assert known and not any(f["after_unknown"] for f in known)
    assert any("DOCKERHUB_TOKEN is not set" in w for w in doc["warnings"])


def test_apply_without_the_token_refuses_before_any_change(
    config_file: Path,
    aws: boto3.session.Session,
    calls: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli(capsys, "apply", "-c", str(config_file), "--yes")
    assert code == 2  # a credential source (the README's table)
    errors = [ln for ln in err.splitlines() if ln.startswith("Error:")]
    assert errors == [
        f"Error: secret {SECRET} does not exist yet and its value is not available: "
        "environment variable DOCKERHUB_TOKEN is not set"
    ]
    assert "Hint:" in err and "nothing was changed" in err
    assert "value: (known after apply)" in out  # the plan it refused was shown
    assert calls and mutating(calls) == []
    assert aws.client("ecr").describe_pull_through_cache_rules()["pullThroughCacheRules"] == []
    assert aws.client("secretsmanager").list_secrets()["SecretList"] == []
    # JSON: the envelope says why, and nothing was applied either
    code, out, _ = cli(capsys, "-o", "json", "apply", "-c", str(config_file), "--yes")
    assert code == 2 and json.loads(out)["ok"] is False
    assert mutating(calls) == []


def test_apply_with_the_token_creates_it(
    config_file: Path,
    aws: boto3.session.Session,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOCKERHUB_TOKEN", TOKEN)
    code, out, err = cli(capsys, "apply", "-c", str(config_file), "--yes")
    assert code == 0, err
    assert "Apply complete: 3 added" in out and TOKEN not in out + err
    value = aws.client("secretsmanager").get_secret_value(SecretId=SECRET)["SecretString"]
    assert json.loads(value) == {"username": "acme-ci", "accessToken": TOKEN}
    code, out, _ = cli(capsys, "plan", "-c", str(config_file), "--detailed-exitcode")
    assert code == 0 and "No changes." in out


def _checksum(capsys: pytest.CaptureFixture[str], config_file: Path) -> str:
    code, out, _ = cli(capsys, "-o", "json", "plan", "-c", str(config_file))
    assert code == 0
    return str(json.loads(out)["data"]["checksum"])


def test_a_plan_made_without_the_token_is_applied_with_it_under_its_checksum(
    config_file: Path,
    aws: boto3.session.Session,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Decided as Terraform does: a value unknown in the reviewed plan may be any value at apply
    # (so the pull request's plan gates the apply on main), while a value known at review must
    # be the same at apply. The two checksums differ: they say what each plan knew.
    reviewed = _checksum(capsys, config_file)
    monkeypatch.setenv("DOCKERHUB_TOKEN", TOKEN)
    with_token = _checksum(capsys, config_file)
    assert with_token != reviewed

    # anything else changed since the review is still refused
    aws.client("ecr").create_pull_through_cache_rule(
        ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io"
    )
    code, _, err = cli(capsys, "apply", "-c", str(config_file), "--yes", "--checksum", reviewed)
    assert code == 5 and "checksum differs" in err
    aws.client("ecr").delete_pull_through_cache_rule(ecrRepositoryPrefix="quay")

    code, out, err = cli(capsys, "apply", "-c", str(config_file), "--yes", "--checksum", reviewed)
    assert code == 0, err
    assert "Apply complete: 3 added" in out
    value = aws.client("secretsmanager").get_secret_value(SecretId=SECRET)["SecretString"]
    assert json.loads(value)["accessToken"] == TOKEN


def test_a_known_value_must_be_the_one_reviewed(
    config_file: Path,
    aws: boto3.session.Session,
    monkeypatch: pytest.MonkeyPatch,
    calls: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOCKERHUB_TOKEN", TOKEN)
    reviewed = _checksum(capsys, config_file)
    monkeypatch.setenv("DOCKERHUB_TOKEN", OTHER_TOKEN)
    code, _, err = cli(capsys, "apply", "-c", str(config_file), "--yes", "--checksum", reviewed)
    assert code == 5 and "checksum differs" in err
    assert mutating(calls) == []
    # and a reviewed plan whose value was unknown, applied still without it: the missing value
    # is what apply reports, not the checksum
    monkeypatch.delenv("DOCKERHUB_TOKEN")
    unknown = _checksum(capsys, config_file)
    code, _, err = cli(capsys, "apply", "-c", str(config_file), "--yes", "--checksum", unknown)
    assert code == 2 and "DOCKERHUB_TOKEN is not set" in err
    assert mutating(calls) == []


def test_an_existing_secret_without_the_token_is_left_as_it_is(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKERHUB_TOKEN", TOKEN)
    assert cli(capsys, "apply", "-c", str(config_file), "--yes")[0] == 0
    monkeypatch.delenv("DOCKERHUB_TOKEN")
    code, out, err = cli(capsys, "plan", "-c", str(config_file), "--detailed-exitcode")
    assert code == 0 and "No changes." in out
    assert f"secret {SECRET}: value not checked" in err and "left as it is" in err
    code, out, _ = cli(capsys, "-o", "json", "plan", "-c", str(config_file), "--detailed-exitcode")
    assert code == 0
    doc = json.loads(out)
    assert doc["data"]["changes"] == []
    assert any("value not checked" in w for w in doc["warnings"])


@pytest.mark.parametrize(
    "source",
    [
        '{ file = "/nonexistent/dockerhub-token" }',
        '{ command = ["/nonexistent/bin/op", "read", "op://ci/dockerhub/token"] }',
    ],
    ids=["file-absent", "command-not-installed"],
)
def test_other_sources_with_no_value_now(
    config_file: Path, source: str, calls: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    config_file.write_text(CONFIG.replace('{ env = "DOCKERHUB_TOKEN" }', source))
    code, out, err = cli(capsys, "plan", "-c", str(config_file), "--detailed-exitcode")
    assert code == 2, err
    assert "value: (known after apply)" in out
    code, _, err = cli(capsys, "apply", "-c", str(config_file), "--yes")
    assert code == 2
    assert ("does not exist" if "file" in source else "not found") in err
    assert mutating(calls) == []


def test_a_command_that_fails_is_still_an_error(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # installed but failing (a typo in its arguments, a vault that refuses): not "unknown"
    config_file.write_text(
        CONFIG.replace('{ env = "DOCKERHUB_TOKEN" }', '{ command = ["sh", "-c", "exit 3"] }')
    )
    code, _, err = cli(capsys, "plan", "-c", str(config_file), "--detailed-exitcode")
    assert code == 1 and "exited with status 3" in err


# --- the GitHub Actions example, end to end ------------------------------------------------


def _steps(job: str) -> dict[str, str]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    return {s["name"]: s["run"] for s in doc["jobs"][job]["steps"] if "name" in s}


def _job_env(job: str) -> dict[str, str]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    return dict(doc["jobs"][job].get("env") or {})


FAKE_GH = """#!/bin/sh
case "$1 $2" in
  "pr comment") cp "$5" "$GH_FAKE_DIR/comment.md" ;;
  api\\ */pulls) echo 7 ;;
  api\\ */comments) cat "$GH_FAKE_DIR/comment.md" ;;
  *) echo "unexpected gh $*" >&2; exit 9 ;;
esac
"""


def _bash(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.skipif(shutil.which("bash") is None, reason="the workflow's steps are bash")
def test_the_workflow_plans_without_the_token_and_applies_with_it(
    sandbox_server: ServedSandbox, aws_env: Path, tmp_path: Path
) -> None:
    # Against `sandbox serve` through --endpoint-url: a real account's rules (no placeholder
    # for an unset token, as --sandbox stands in).
    assert "DOCKERHUB_TOKEN" not in yaml.safe_load(WORKFLOW.read_text())["env"]
    assert "DOCKERHUB_TOKEN" not in _job_env("plan")
    assert _job_env("apply")["DOCKERHUB_TOKEN"] == "${{ secrets.DOCKERHUB_TOKEN }}"
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "ecrcache.toml").write_text(CONFIG)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ecrcache").write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -m ecrcache --endpoint-url '
        f'{sandbox_server.endpoint} "$@"\n'
    )
    (bin_dir / "gh").write_text(FAKE_GH)
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    env = serve_env(aws_env)
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        GH_FAKE_DIR=str(tmp_path),
        GITHUB_REPOSITORY="acme/platform-cache",
        GITHUB_SHA="0" * 40,
        PR="7",
        NO_COLOR="1",
        GITHUB_OUTPUT=str(tmp_path / "plan.out"),
    )
    env.pop("DOCKERHUB_TOKEN", None)

    plan = _bash(_steps("plan")["ecrcache plan"], env, repo)
    assert plan.returncode == 0, plan.stderr  # exit 2 (changes) is not a failure
    assert "exitcode=2" in (tmp_path / "plan.out").read_text()
    assert "value: (known after apply)" in plan.stdout
    post = _bash(_steps("plan")["Post the plan on the pull request"], env, repo)
    assert post.returncode == 0, post.stderr
    assert "value: (known after apply)" in (tmp_path / "comment.md").read_text()

    env["GITHUB_OUTPUT"] = str(tmp_path / "reviewed.out")
    steps = _steps("apply")
    reviewed = _bash(steps["The checksum of the plan reviewed in the pull request"], env, repo)
    assert reviewed.returncode == 0, reviewed.stderr
    checksum = dict(
        ln.split("=", 1) for ln in (tmp_path / "reviewed.out").read_text().splitlines()
    )["checksum"]
    assert checksum.startswith("sha256:")
    apply_run = steps["ecrcache apply"].replace("${{ steps.reviewed.outputs.checksum }}", checksum)

    refused = _bash(apply_run, env, repo)  # the job's secret missing: refused, nothing made
    assert refused.returncode == 2 and "DOCKERHUB_TOKEN is not set" in refused.stderr
    assert "Apply complete" not in refused.stdout

    applied = _bash(apply_run, {**env, "DOCKERHUB_TOKEN": TOKEN}, repo)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Apply complete: 3 added" in applied.stdout and TOKEN not in applied.stdout

    drift = _bash(
        _steps("drift")["ecrcache plan --detailed-exitcode"],
        {**env, "DOCKERHUB_TOKEN": TOKEN},
        repo,
    )
    assert drift.returncode == 0, drift.stdout + drift.stderr
    # and the next pull request, still without the token: the secret is left as it is
    env["GITHUB_OUTPUT"] = str(tmp_path / "plan2.out")
    again = _bash(_steps("plan")["ecrcache plan"], env, repo)
    assert again.returncode == 0 and "exitcode=0" in (tmp_path / "plan2.out").read_text()
    assert "value not checked" in again.stderr
