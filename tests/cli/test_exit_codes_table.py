"""Exit codes as the README's table says and people read them (issue 15, item 3), each exact.

The table is parsed from README.md (read only) and held against errors.py's constants and every
EcrcacheError subclass in the package.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import cli

import ecrcache
from ecrcache import errors
from serve_support import serve_env

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
EXAMPLE = REPO / "config.example.toml"
OTHER_ACCOUNT = "210987654321"  # the sandbox is 123456789012
PREFIXES = "docker-hub, ecr-public, github, k8s, quay"  # config.example.toml's rules


def readme_exit_codes() -> dict[int, str]:
    """The README's exit-code table: ``| code | meaning |`` rows, code → meaning."""
    lines = README.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if re.match(r"\|\s*code\s*\|\s*meaning\s*\|", ln))
    table: dict[int, str] = {}
    for line in lines[start + 2 :]:
        m = re.match(r"\|\s*(\d+)\s*\|(.*)\|\s*$", line)
        if not m:
            break
        table[int(m.group(1))] = m.group(2).strip()
    return table


# Each exit-code constant and a word its row of the table must say.
MEANINGS = {
    "EXIT_OK": "success",
    "EXIT_FAILURE": "failure",
    "EXIT_USAGE": "bad input",
    "EXIT_AWS_ACCESS": "credentials",
    "EXIT_AWS": "AWS error",
    "EXIT_UNSAFE": "unsafe",
    "EXIT_INTERRUPTED": "interrupted",
}


def test_the_readme_table_and_errors_py_agree() -> None:
    table = readme_exit_codes()
    constants = {n: getattr(errors, n) for n in dir(errors) if n.startswith("EXIT_")}
    assert set(constants) == set(MEANINGS)
    assert set(table) == set(constants.values())  # no code missing on either side
    for name, word in MEANINGS.items():
        assert word.lower() in table[constants[name]].lower(), (name, table[constants[name]])


def _all_error_classes() -> set[type[errors.EcrcacheError]]:
    for info in pkgutil.walk_packages(ecrcache.__path__, "ecrcache."):
        if info.name != "ecrcache.__main__":
            importlib.import_module(info.name)
    found: set[type[errors.EcrcacheError]] = set()
    todo = [errors.EcrcacheError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


# The row each kind of error belongs in.
EXPECTED = {
    "usage": errors.EXIT_USAGE,
    "config": errors.EXIT_USAGE,
    "credential-source": errors.EXIT_USAGE,
    "reference": errors.EXIT_USAGE,
    "docker-config": errors.EXIT_USAGE,  # a Docker config file that is not one: bad input
    "node-config": errors.EXIT_USAGE,
    "aws-access": errors.EXIT_AWS_ACCESS,
    "wrong-account": errors.EXIT_AWS_ACCESS,
    "registry-auth": errors.EXIT_AWS_ACCESS,
    "aws": errors.EXIT_AWS,
    "unsafe-plan": errors.EXIT_UNSAFE,
    "interrupted": errors.EXIT_INTERRUPTED,
    "internal": errors.EXIT_FAILURE,
    "cancelled": errors.EXIT_FAILURE,
    "apply-failed": errors.EXIT_FAILURE,
}


def test_every_error_class_exits_with_a_code_of_the_table() -> None:
    table = readme_exit_codes()
    classes = _all_error_classes()
    assert len(classes) > 20  # the walk found the package's errors, not just errors.py's
    for cls in classes:
        assert cls.exit_code in table, cls
        if cls.code in EXPECTED:
            assert cls.exit_code == EXPECTED[cls.code], cls


# -- plan --detailed-exitcode: 0 no changes, 2 changes, 1 any error ---------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--detailed-exitcode", "--bogus"],
        ["plan", "--bogus", "--detailed-exitcode"],
        ["--endpoint-url", "ftp://x", "plan", "--detailed-exitcode"],
        ["plan", "--detailed-exitcode", "-c", "/nonexistent/ecrcache.toml"],
        ["-o", "json", "plan", "--detailed-exitcode", "--bogus"],
    ],
    ids=["unknown-option", "option-first", "bad-global-value", "no-config", "json"],
)
def test_detailed_exitcode_errors_exit_1(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = cli(capsys, "--sandbox", *args)
    assert code == 1, err
    if "json" in args:
        import json

        assert json.loads(out)["error"]["exit_code"] == 1


def test_detailed_exitcode_changes_and_none(capsys: pytest.CaptureFixture[str]) -> None:
    plan = ("--sandbox", "plan", "--detailed-exitcode", "-c", str(EXAMPLE))
    assert cli(capsys, *plan)[0] == 2
    assert cli(capsys, "--sandbox", "apply", "--yes", "-c", str(EXAMPLE))[0] == 0
    assert cli(capsys, *plan)[0] == 0
    assert cli(capsys, "--sandbox", "plan", "--bogus")[0] == 2  # without the flag: usage, 2


# -- apply's prompt ------------------------------------------------------------------------


def test_no_at_the_prompt_exits_1_apply_cancelled() -> None:
    """A real process with a terminal on stdin, answering no."""
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ecrcache", "--sandbox", "apply", "-c", str(EXAMPLE)],
            stdin=secondary,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=serve_env(Path(os.environ["ECRCACHE_SANDBOX_STATE"])),
            text=True,
        )
        os.close(secondary)
        os.write(primary, b"no\n")
        out, err = proc.communicate(timeout=180)
    finally:
        os.close(primary)
    assert proc.returncode == 1
    assert "Error: Apply cancelled." in err and "Hint: nothing was changed" in err
    assert "Only 'yes' will be accepted: " in err  # the prompt, on stderr, with no "[]"
    assert "accepted []" not in err and "accepted" not in out  # no stray "[]", not on stdout
    assert out.rstrip("\n").splitlines()[-1].startswith("Checksum: sha256:")  # the plan, only


# -- the config's account against the credentials' ---------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["plan"],
        ["apply", "--yes"],
        ["outputs"],
        ["status"],
        ["cost-report"],
        ["prune"],
        ["test-pull", "nginx:1.27"],
        ["warm", "nginx:1.27"],
    ],
    ids=lambda a: a[0],
)
def test_another_accounts_config_exits_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'region = "af-south-1"\naccount_id = "{OTHER_ACCOUNT}"\n[ci_policy]\n'
        '[rules.docker-hub]\nupstream = "docker-hub"\n[rules.docker-hub.credentials]\n'
        'secret = "ecr-pullthroughcache/docker-hub"\n'
    )
    code, _, err = cli(capsys, "--sandbox", *args, "-c", str(cfg))
    assert code == 3, err
    assert f"the config is for account {OTHER_ACCOUNT}" in err and "123456789012" in err


# -- test-pull, prune, login --------------------------------------------------------------------


@pytest.fixture
def applied(capsys: pytest.CaptureFixture[str]) -> Path:
    assert cli(capsys, "--sandbox", "apply", "--yes", "-c", str(EXAMPLE))[0] == 0
    return EXAMPLE


def test_test_pull_exits_1_when_ecr_caches_nothing(
    capsys: pytest.CaptureFixture[str], applied: Path
) -> None:
    ok = cli(capsys, "--sandbox", "test-pull", "nginx:1.27", "-c", str(applied))
    assert ok[0] == 0, ok[2]
    registry = "123456789012.dkr.ecr.af-south-1.amazonaws.com"
    code, out, err = cli(
        capsys, "--sandbox", "test-pull", f"{registry}/docker-hub/redis:7", "-c", str(applied)
    )
    assert code == 1
    assert "Error: test-pull failed: ECR has no repository 'docker-hub/redis'" in err
    assert "ECR: no repository docker-hub/redis" in out  # the result is still shown


def test_prune_with_an_unknown_prefix_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], applied: Path
) -> None:
    code, out, err = cli(capsys, "--sandbox", "prune", "--prefix", "nope", "-c", str(applied))
    assert code == 2 and out == ""
    errors_shown = [ln for ln in err.splitlines() if ln.startswith("Error:")]
    assert errors_shown == [
        "Error: --prefix nope: no pull-through cache rule has that prefix "
        f"(rule prefixes: {PREFIXES})"
    ]
    assert cli(capsys, "--sandbox", "prune", "--prefix", "quay", "-c", str(applied))[0] == 0


def test_a_docker_config_that_is_not_one_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    args = ("--sandbox", "login", "--write-config", "--docker-config", str(bad))
    code, _, err = cli(capsys, *args, "--region", "af-south-1")
    assert code == 2 and "is not valid JSON" in err
    assert bad.read_text() == "{not json"  # left as it was
