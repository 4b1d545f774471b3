"""The integrations people copy: the GitHub Actions workflow (parsed as a workflow, and its shell
steps run in order against the sandbox, with a stand-in for `gh`), the pre-commit hooks (through
``pre-commit try-repo`` on a sample repository) and shell completion."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli

sys.path.insert(0, str(Path(__file__).parents[1]))
from serve_support import serve_env

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / "examples" / "github-actions" / "ecrcache.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
EXAMPLE = ROOT / "config.example.toml"


def workflow() -> dict[Any, Any]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(doc, dict)
    # YAML 1.1 reads the key `on` as true (GitHub's own parser does not): accept both.
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def step(job: str, name: str) -> dict[str, Any]:
    steps = workflow()["jobs"][job]["steps"]
    return next(s for s in steps if s.get("name") == name)


def test_workflow_has_the_documented_shape() -> None:
    doc = workflow()
    assert {"on", "jobs", "permissions"} <= set(doc)
    on = doc["on"]
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    (cron,) = on["schedule"]
    assert len(cron["cron"].split()) == 5
    assert doc["permissions"] == {"contents": "read"}
    assert set(doc["jobs"]) == {"plan", "apply", "drift"}
    for name, job in doc["jobs"].items():
        assert job["runs-on"] == "ubuntu-latest" and job["steps"], name
        for s in job["steps"]:
            assert ("uses" in s) != ("run" in s), (name, s)
        creds = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/")]
        assert [s["uses"] for s in creds] == ["aws-actions/configure-aws-credentials@v4"]
        assert set(creds[0]["with"]) == {"role-to-assume", "aws-region"}
        assert job["permissions"]["id-token"] == "write", name  # OIDC
    assert doc["jobs"]["plan"]["permissions"]["pull-requests"] == "write"


def _ecrcache_lines(doc: dict[Any, Any]) -> list[list[str]]:
    lines = []
    for job in doc["jobs"].values():
        for s in job["steps"]:
            for line in s.get("run", "").splitlines():
                line = line.strip()
                if line.startswith("ecrcache "):
                    lines.append(
                        shlex.split(line.split(">")[0].replace("${{", "'").replace("}}", "'"))
                    )
                elif line.startswith("run: ecrcache"):
                    lines.append(shlex.split(line[5:]))
    return lines


def test_every_ecrcache_command_in_it_exists(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _ecrcache_lines(workflow())
    commands = {argv[1] for argv in lines}
    assert commands == {"validate", "plan", "apply"}
    for argv in lines:
        code, out, _ = cli(capsys, argv[1], "--help")
        assert code == 0
        for flag in (a for a in argv[2:] if a.startswith("--")):
            assert re.search(rf"{re.escape(flag)}\b", out), (argv, flag)


FAKE_GH = """#!/bin/sh
# gh as the workflow calls it: `pr comment N --body-file F` keeps the body; `api .../pulls`
# answers pull request 7; `api .../comments` answers what --jq would pick: the last plan body.
case "$1 $2" in
  "pr comment") cp "$5" "$GH_FAKE_DIR/comment.md" ;;
  api\\ */pulls) echo 7 ;;
  api\\ */comments) cat "$GH_FAKE_DIR/comment.md" ;;
  *) echo "unexpected gh $*" >&2; exit 9 ;;
esac
"""


def _shims(tmp_path: Path, *, sandbox: bool) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    extra = " --sandbox" if sandbox else ""
    (bin_dir / "ecrcache").write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -m ecrcache{extra} "$@"\n'
    )
    (bin_dir / "gh").write_text(FAKE_GH)
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    return bin_dir


def _run_step(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # GitHub's default shell for `run`: bash --noprofile --norc -eo pipefail {0}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _outputs(path: Path) -> dict[str, str]:
    return dict(ln.split("=", 1) for ln in path.read_text().splitlines() if "=" in ln)


@pytest.mark.skipif(shutil.which("bash") is None, reason="the workflow's steps are bash")
def test_the_steps_run_in_order_on_the_sandbox(aws_env: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(EXAMPLE, repo / "ecrcache.toml")
    bin_dir = _shims(tmp_path, sandbox=True)
    env = serve_env(aws_env)
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        GH_FAKE_DIR=str(tmp_path),
        GITHUB_REPOSITORY="acme/platform-cache",
        GITHUB_SHA="0" * 40,
        PR="7",
        NO_COLOR="1",
    )
    env.pop("COLUMNS", None)

    # the nightly drift check, before anything is applied: exit 2 and says so
    drift = _run_step(step("drift", "ecrcache plan --detailed-exitcode")["run"], env, repo)
    assert drift.returncode == 2, drift.stderr
    assert "::error::the account drifted" in drift.stdout

    # pull request: plan (exit 2 is not a failure), then the comment
    env["GITHUB_OUTPUT"] = str(tmp_path / "plan.out")
    plan = _run_step(step("plan", "ecrcache plan")["run"], env, repo)
    assert plan.returncode == 0, plan.stderr
    assert _outputs(tmp_path / "plan.out") == {"exitcode": "2"}
    post = _run_step(step("plan", "Post the plan on the pull request")["run"], env, repo)
    assert post.returncode == 0, post.stderr
    comment = (tmp_path / "comment.md").read_text()
    assert comment.startswith("<!-- ecrcache-plan -->\n") and "Checksum: sha256:" in comment

    # merge: the reviewed checksum is the plan's own (its JSON twin says so), and apply takes it
    env["GITHUB_OUTPUT"] = str(tmp_path / "reviewed.out")
    reviewed = _run_step(
        step("apply", "The checksum of the plan reviewed in the pull request")["run"], env, repo
    )
    assert reviewed.returncode == 0, reviewed.stderr
    checksum = _outputs(tmp_path / "reviewed.out")["checksum"]
    as_json = subprocess.run(
        [str(bin_dir / "ecrcache"), "-o", "json", "plan"],
        env=env, cwd=repo, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert checksum == json.loads(as_json.stdout)["data"]["checksum"]
    apply_run = step("apply", "ecrcache apply")["run"]
    apply_run = apply_run.replace("${{ steps.reviewed.outputs.checksum }}", checksum)
    applied = _run_step(apply_run, env, repo)
    assert applied.returncode == 0, applied.stdout + applied.stderr

    # the next night: no drift
    drift = _run_step(step("drift", "ecrcache plan --detailed-exitcode")["run"], env, repo)
    assert drift.returncode == 0, drift.stdout + drift.stderr


def test_a_changed_account_is_refused_by_the_reviewed_checksum(
    aws_env: Path, tmp_path: Path
) -> None:
    bin_dir = _shims(tmp_path, sandbox=True)
    env = serve_env(aws_env)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    shutil.copy(EXAMPLE, tmp_path / "ecrcache.toml")
    apply_run = step("apply", "ecrcache apply")["run"].replace(
        "${{ steps.reviewed.outputs.checksum }}", "sha256:" + "0" * 64
    )
    refused = _run_step(apply_run, env, tmp_path)
    assert refused.returncode != 0 and "checksum differs" in refused.stderr


# --- pre-commit ------------------------------------------------------------------------------


def test_hooks_manifest_is_valid() -> None:
    clientlib = pytest.importorskip("pre_commit.clientlib")
    hooks = {h["id"]: h for h in clientlib.load_manifest(str(HOOKS))}
    assert set(hooks) == {"ecrcache-rewrite-check", "ecrcache-rewrite-check-system"}
    for hook in hooks.values():
        assert hook["entry"] == "ecrcache rewrite --check --file"
        assert set(hook["types_or"]) == {"dockerfile", "yaml"}
    assert hooks["ecrcache-rewrite-check"]["language"] == "python"
    # "system" is what every pre-commit knows; 4.4 and later read it as "unsupported"
    assert hooks["ecrcache-rewrite-check-system"]["language"] in ("system", "unsupported")
    raw = {h["id"]: h for h in yaml.safe_load(HOOKS.read_text())}
    assert raw["ecrcache-rewrite-check-system"]["language"] == "system"


SAMPLE_CONFIG = """version = 1
region = "af-south-1"
account_id = "123456789012"
[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/docker-hub"
"""


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_pre_commit_try_repo(tmp_path: Path) -> None:
    """The system hook through `pre-commit try-repo` (offline: it installs nothing): a Dockerfile
    pulling past the cache fails the hook; rewritten, it passes. The python hook would have
    pre-commit pip-install ecrcache from PyPI, which a test cannot reach."""
    pytest.importorskip("pre_commit")
    sample = tmp_path / "sample"
    sample.mkdir()
    bin_dir = _shims(tmp_path, sandbox=False)
    env = serve_env(tmp_path / "unused.state")
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        GIT_CONFIG_GLOBAL=str(tmp_path / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
    )
    (tmp_path / "gitconfig").write_text(
        "[user]\n\tname = t\n\temail = t@example.com\n[safe]\n\tdirectory = *\n"
        "[init]\n\tdefaultBranch = main\n"
    )

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=sample, env=env, check=True, capture_output=True)

    git("init", "-q")
    (sample / "ecrcache.toml").write_text(SAMPLE_CONFIG)
    (sample / "Dockerfile").write_text("FROM nginx:1.27\n")
    (sample / "values.yaml").write_text("image:\n  repository: nginx\n  tag: '1.27'\n")
    git("add", "-A")

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT),
             "ecrcache-rewrite-check-system", "--all-files", "--color", "never"],
            cwd=sample, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    failed = try_repo()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "image references go through the ECR cache" in failed.stdout
    assert "Failed" in failed.stdout and "Dockerfile" in failed.stdout

    fix = subprocess.run(
        [str(bin_dir / "ecrcache"), "rewrite", "--in-place", "--file", "Dockerfile", "values.yaml"],
        cwd=sample, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert fix.returncode == 0, fix.stderr
    host = "123456789012.dkr.ecr.af-south-1.amazonaws.com"
    assert (sample / "Dockerfile").read_text() == f"FROM {host}/docker-hub/library/nginx:1.27\n"
    git("add", "-A")
    passed = try_repo()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout


# --- shell completion (README) ---------------------------------------------------------------


def test_shell_completion_as_the_readme_says(tmp_path: Path) -> None:
    env = serve_env(tmp_path / "unused.state")
    # The shell given, not detected: typer otherwise asks shellingham for the parent process's
    # shell, ignores "bash", and fails ("Shell  not supported.") when no ancestor is a shell (a
    # test run from a background job or CI runner). Typer's switch makes the value the shell.
    env["_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"] = "1"
    shown = subprocess.run(
        [sys.executable, "-m", "ecrcache", "--show-completion", "bash"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shown.returncode == 0 and "complete -o default -F _ecrcache_completion ecrcache" in (
        shown.stdout
    )
    env.update(_ECRCACHE_COMPLETE="complete_bash", COMP_WORDS="ecrcache cost", COMP_CWORD="1")
    done = subprocess.run(
        [sys.executable, "-m", "ecrcache"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["cost-report"]
    readme = (ROOT / "README.md").read_text()
    assert "ecrcache --install-completion" in readme and "--show-completion" in readme
