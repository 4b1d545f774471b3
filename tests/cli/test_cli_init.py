"""``ecrcache init``: from flags or from answers on stdin, a commented config that passes
``validate`` (and applies on the sandbox); never over an existing file without --force; and the
hint of every command that finds no config names init."""

from __future__ import annotations

import io
import json
import re
import tomllib
from pathlib import Path

import pytest
from cli_support import cli

from ecrcache.cli.app import COMMAND_MODULES
from ecrcache.config.upstreams import KINDS, upstream

URLS = {
    "azure-container-registry": "myregistry.azurecr.io",
    "ecr": "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _validate(capsys: pytest.CaptureFixture[str], path: str = "ecrcache.toml") -> dict[str, object]:
    code, out, err = cli(capsys, "-o", "json", "validate", "-c", path)
    assert code == 0, out + err
    return json.loads(out)["data"]


def test_flags_write_a_config_that_validates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(
        capsys,
        "--region", "eu-west-1", "init", "--non-interactive",
        "--account-id", "123456789012",
        "--upstream", "docker-hub", "--upstream", "ecr", "--upstream", "quay",
        "--url", f"ecr={URLS['ecr']}",
        "--role-arn", "ecr=arn:aws:iam::123456789012:role/ecr-ptc-upstream",
        "--credential", "docker-hub=command:pass show docker hub",
        "--username", "docker-hub=acme-ci",
        "--puller", "arn:aws:iam::123456789012:role/eks-node",
    )  # fmt: skip
    assert code == 0, err
    assert "Wrote ecrcache.toml: 3 rules in eu-west-1 (docker-hub, ecr, quay)" in out
    text = Path("ecrcache.toml").read_text()
    assert text.startswith("# ecrcache config, written by `ecrcache init`")
    doc = tomllib.loads(text)
    hub = doc["rules"]["docker-hub"]["credentials"]
    assert hub == {
        "secret": "ecr-pullthroughcache/docker-hub",
        "username": "acme-ci",
        "token": {"command": ["pass", "show", "docker", "hub"]},
    }
    assert doc["rules"]["ecr"]["role_arn"].endswith(":role/ecr-ptc-upstream")
    assert doc["account_id"] == "123456789012"
    assert doc["pullers"]["principals"] == ["arn:aws:iam::123456789012:role/eks-node"]
    assert doc["templates"]["ROOT"]["lifecycle"] == {
        "expire_untagged_after_days": 7,
        "keep_last": 30,
    }
    data = _validate(capsys)
    assert [r["prefix"] for r in data["rules"]] == ["docker-hub", "ecr", "quay"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_upstream_kind_validates(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    extra = ["--url", f"{kind}={URLS[kind]}"] if kind in URLS else []
    code, _, err = cli(
        capsys, "--region", "af-south-1", "init", "--non-interactive", "--upstream", kind,
        "--no-templates", *extra,
    )  # fmt: skip
    assert code == 0, err
    doc = tomllib.loads(Path("ecrcache.toml").read_text())
    assert list(doc["rules"]) == [upstream(kind).default_prefix] and "templates" not in doc
    _validate(capsys)


def test_answers_on_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = [
        "eu-central-1",  # region
        "",  # account: any
        "quay, docker-hub",
        "file",  # Docker Hub token from a file
        "/run/secrets/dockerhub",
        "",  # username: from DOCKER_HUB_USERNAME
        "123456789012",  # a puller account
        "y",  # templates
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(answers) + "\n"))
    code, _, err = cli(capsys, "init", "--out", "cache.toml")
    assert code == 0, err
    assert "AWS region" in err and "token comes from" in err  # questions on stderr
    doc = tomllib.loads(Path("cache.toml").read_text())
    assert doc["region"] == "eu-central-1" and "account_id" not in doc
    assert list(doc["rules"]) == ["quay", "docker-hub"]
    assert doc["rules"]["docker-hub"]["credentials"]["token"] == {"file": "/run/secrets/dockerhub"}
    assert doc["rules"]["docker-hub"]["credentials"]["username"] == {"env": "DOCKER_HUB_USERNAME"}
    assert doc["pullers"]["principals"] == ["123456789012"]
    _validate(capsys, "cache.toml")


def test_stdin_that_ends_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = cli(capsys, "init")
    assert code == 2 and "no answer" in err and "--non-interactive" in err
    assert not Path("ecrcache.toml").exists()


def test_refuses_to_overwrite_without_force(capsys: pytest.CaptureFixture[str]) -> None:
    Path("ecrcache.toml").write_text("# mine\n")
    args = ("--region", "af-south-1", "init", "--non-interactive", "--upstream", "quay")
    code, _, err = cli(capsys, *args)
    assert code == 2 and "ecrcache.toml exists" in err and "--force" in err
    assert Path("ecrcache.toml").read_text() == "# mine\n"
    code, _, err = cli(capsys, *args, "--force")
    assert code == 0, err
    assert "[rules.quay]" in Path("ecrcache.toml").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--upstream", "nope"], "unknown upstream 'nope'"),
        (["--upstream", "ecr"], "ecr needs the upstream registry's url"),
        (["--upstream", "quay", "--account-id", "12"], "'12' is not an AWS account ID"),
        (["--upstream", "docker-hub", "--credential", "docker-hub=vault:x"], "unknown source"),
        (["--upstream", "quay", "--puller", "bob"], "pullers"),
    ],
)
def test_answers_that_cannot_make_a_valid_config(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "--region", "af-south-1", "init", "--non-interactive", *args)
    assert code == 2 and message in err and "Hint:" in err, err
    assert not Path("ecrcache.toml").exists()


def test_json_and_the_sandbox(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HUB_USERNAME", "acme-ci")
    monkeypatch.setenv("DOCKER_HUB_TOKEN", "dckr_pat_not-a-real-one")
    code, out, err = cli(
        capsys, "-o", "json", "--region", "af-south-1", "init", "--upstream", "docker-hub",
        "--upstream", "quay", "--upstream", "k8s",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["data"] == {
        "path": "ecrcache.toml",
        "region": "af-south-1",
        "rules": ["docker-hub", "quay", "k8s"],
    }
    code, _, err = cli(capsys, "--sandbox", "apply", "--yes")
    assert code == 0, err
    code, _, err = cli(capsys, "--sandbox", "plan", "--detailed-exitcode")
    assert code == 0, err
    assert "dckr_pat" not in Path("ecrcache.toml").read_text()


# Each command that needs the config (status, cost-report, import, login and doctor work
# without one), with arguments enough to get that far.
NEEDS_CONFIG = {
    "validate": [],
    "plan": [],
    "apply": ["--yes"],
    "outputs": [],
    "node-config": [],
    "test-pull": ["nginx"],
    "rewrite": ["nginx"],
    "warm": ["nginx"],
}


@pytest.mark.parametrize("command", sorted(NEEDS_CONFIG))
def test_no_config_hint_names_init(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert command in COMMAND_MODULES
    code, _, err = cli(capsys, command, *NEEDS_CONFIG[command])
    assert code == 2 and "ecrcache.toml: no such file" in err, err
    assert "Hint: run `ecrcache init` to write one" in err


def test_defaults_without_flags_and_help_names_every_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = cli(capsys, "--region", "af-south-1", "init", "--non-interactive")
    assert code == 0, err
    doc = tomllib.loads(Path("ecrcache.toml").read_text())
    assert list(doc["rules"]) == ["docker-hub", "ecr-public", "quay", "k8s"]
    assert doc["rules"]["docker-hub"]["credentials"]["token"] == {"env": "DOCKER_HUB_TOKEN"}
    code, out, _ = cli(capsys, "init", "--help")
    text = re.sub(r"-\s+", "-", " ".join(out.split()))  # click wraps after a hyphen
    assert code == 0 and all(kind in text for kind in KINDS)


def test_interactive_stdout_holds_only_what_init_prints(tmp_path: Path) -> None:
    """The questions go to stderr and nothing else to stdout: click's prompt with err=True
    writes a space to stdout for each question, which a pipe (`init | tee`) would keep."""
    import subprocess
    import sys

    answers = ["eu-central-1", "", "quay", "", "maybe", "n"]  # "maybe": asked again
    out = subprocess.run(
        [sys.executable, "-m", "ecrcache", "init", "--out", "cache.toml"],
        input="\n".join(answers) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "Wrote cache.toml: 1 rule in eu-central-1 (quay).\n"
        "Next: ecrcache validate -c cache.toml, then try it on the sandbox: "
        "ecrcache --sandbox plan -c cache.toml\n"
    )
    assert "AWS region" in out.stderr  # the questions are on stderr
    assert "Error: invalid input" in out.stderr  # "maybe" is not an answer
    assert "templates" not in tomllib.loads((tmp_path / "cache.toml").read_text())
