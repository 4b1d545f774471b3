"""Commands across [targets] through the CLI, on the sandbox: three accounts reached through
AssumeRole (roles seeded in the sandbox state), two regions, and targets that cannot be
assumed."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_support import cli

from ecrcache.aws import CALL_OBSERVERS, READ_PREFIXES, Clients
from targets_support import read_back_sandbox, seed_sandbox_roles

DEV, STAGE, PROD = "111111111111", "222222222222", "333333333333"
LOCKED, GONE = "444444444444", "555555555555"
TOKEN = "dckr_pat_NEVER_SHOW_ME_0123456789"

CONFIG = f"""
region = "eu-west-1"

[rules.docker-hub]
upstream = "docker-hub"

[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/docker-hub"
username = "bot"
token = {{ env = "TOK" }}

[rules.quay]
upstream = "quay"

[templates.ROOT]
lifecycle = {{ expire_untagged_after_days = 7 }}

[templates.quay]
lifecycle = {{ expire_untagged_after_days = 3 }}

[targets.dev]
role_arn = "arn:aws:iam::{DEV}:role/ecrcache"
rules = ["quay"]

[targets.stage]
role_arn = "arn:aws:iam::{STAGE}:role/ecrcache"
external_id = "stage-ext"
templates = ["ROOT"]

[targets.prod]
role_arn = "arn:aws:iam::{PROD}:role/ecrcache"
regions = ["eu-west-1", "us-east-1"]
"""
BROKEN = f"""
[targets.locked]
role_arn = "arn:aws:iam::{LOCKED}:role/ecrcache"

[targets.gone]
role_arn = "arn:aws:iam::{GONE}:role/ecrcache"
"""
ALL = [(DEV, "eu-west-1"), (STAGE, "eu-west-1"), (PROD, "eu-west-1"), (PROD, "us-east-1")]
HINT = (
    "Hint: check the role's trust policy allows arn:aws:sts::123456789012:user/moto and the "
    "external id"
)


@pytest.fixture
def state(aws_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TOK", TOKEN)
    seed_sandbox_roles(
        aws_env,
        [
            {"account": DEV},
            {"account": STAGE, "external_id": "stage-ext"},
            {"account": PROD},
            {"account": LOCKED, "trusted": "arn:aws:iam::999999999999:root"},
        ],
    )
    return aws_env


def _config(tmp_path: Path, extra: str = "") -> str:
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG + extra)
    return str(path)


@pytest.fixture
def mutating() -> Iterator[list[str]]:
    seen: list[str] = []

    def observe(clients: Clients, service: str, op: str, params: dict[str, Any]) -> None:
        if not op.startswith(READ_PREFIXES):
            seen.append(f"{service}.{op}")

    CALL_OBSERVERS.append(observe)
    try:
        yield seen
    finally:
        CALL_OBSERVERS.remove(observe)


def _heading(name: str, account: str, region: str) -> str:
    return f"── {name} · account {account} · {region} ──"


EMPTY = {"rules": [], "templates": []}


def test_plan_apply_across_targets_then_nothing_to_do(
    capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path, mutating: list[str]
) -> None:
    cfg = _config(tmp_path)
    code, out, err = cli(capsys, "--sandbox", "plan", "-c", cfg, "--detailed-exitcode")
    assert code == 2, err
    for name, (account, region) in zip(
        ["dev", "stage", "prod/eu-west-1", "prod/us-east-1"], ALL, strict=True
    ):
        assert _heading(name, account, region) in out
    assert "4 targets: 4 ok, 4 with changes, 17 to add, 0 to change" in out
    assert TOKEN not in out + err
    assert cli(capsys, "--sandbox", "plan", "-c", cfg)[0] == 0  # no flag: changes are not 2
    code, out, err = cli(capsys, "--sandbox", "apply", "-c", cfg, "--yes")
    assert code == 0, err
    assert out.count("Apply complete:") == 4
    found = read_back_sandbox(state, [*ALL, ("123456789012", "eu-west-1"), (DEV, "us-east-1")])
    assert found == {
        (DEV, "eu-west-1"): {"rules": ["quay"], "templates": ["ROOT", "quay"]},
        (STAGE, "eu-west-1"): {"rules": ["docker-hub", "quay"], "templates": ["ROOT"]},
        (PROD, "eu-west-1"): {"rules": ["docker-hub", "quay"], "templates": ["ROOT", "quay"]},
        (PROD, "us-east-1"): {"rules": ["docker-hub", "quay"], "templates": ["ROOT", "quay"]},
        ("123456789012", "eu-west-1"): EMPTY,  # the caller's own account is no target
        (DEV, "us-east-1"): EMPTY,
    }
    mutating.clear()
    code, out, _ = cli(capsys, "--sandbox", "apply", "-c", cfg, "--yes")
    assert code == 0
    assert mutating == []
    assert "Apply complete" not in out
    code, out, _ = cli(capsys, "--sandbox", "plan", "-c", cfg, "--detailed-exitcode")
    assert code == 0
    assert out.count("No changes.") == 4
    assert "4 targets: 4 ok, 0 with changes" in out


def test_a_role_that_cannot_be_assumed_fails_its_target_alone(
    capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path
) -> None:
    cfg = _config(tmp_path, BROKEN)
    code, out, err = cli(capsys, "--sandbox", "apply", "-c", cfg, "--yes")
    assert code == 3  # AwsAccessError's code: every failure here shares it
    for account in (LOCKED, GONE):
        name = "locked" if account == LOCKED else "gone"
        line = f"Error: {name}: cannot assume arn:aws:iam::{account}:role/ecrcache: AccessDenied"
        assert line in err
    assert err.count(HINT) == 2
    assert "6 targets: 4 ok" in out and "2 failed (locked, gone)" in out
    assert "Traceback" not in err
    found = read_back_sandbox(state, [*ALL, (LOCKED, "eu-west-1")])
    assert found[(LOCKED, "eu-west-1")] == EMPTY
    assert all(found[place]["rules"] for place in ALL)  # the others applied


def test_target_selects(capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path) -> None:
    cfg = _config(tmp_path, BROKEN)
    code, out, err = cli(capsys, "--sandbox", "apply", "-c", cfg, "--yes", "--target", "dev")
    assert code == 0, err
    assert "1 target: 1 ok" in out
    code, out, _ = cli(
        capsys, "--target", "prod/us-east-1", "--sandbox", "apply", "-c", cfg, "--yes"
    )
    assert code == 0
    assert _heading("prod/us-east-1", PROD, "us-east-1") in out
    assert "prod/eu-west-1" not in out
    found = read_back_sandbox(state, ALL)
    assert [place for place in ALL if found[place]["rules"]] == [
        (DEV, "eu-west-1"),
        (PROD, "us-east-1"),
    ]
    # NAME picks all its regions
    code, out, _ = cli(capsys, "--sandbox", "plan", "-c", cfg, "--target", "prod")
    assert code == 0
    assert "2 targets: 2 ok, 1 with changes" in out


def test_an_unknown_target_is_a_usage_error_naming_the_targets(
    capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path
) -> None:
    cfg = _config(tmp_path)
    code, _, err = cli(capsys, "--sandbox", "plan", "-c", cfg, "--target", "qa")
    assert code == 2
    assert "Error: no target named 'qa'" in err
    assert "Hint: targets in the config: dev, stage, prod/eu-west-1, prod/us-east-1" in err
    one = tmp_path / "one.toml"
    one.write_text('region = "eu-west-1"\n')
    code, _, err = cli(capsys, "--sandbox", "plan", "-c", str(one), "--target", "dev")
    assert code == 2
    assert "--target needs [targets] in the config" in err


def test_json_has_one_entry_per_target_with_its_own_result_or_error(
    capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path
) -> None:
    cfg = _config(tmp_path, BROKEN)
    code, out, _ = cli(capsys, "--sandbox", "plan", "-c", cfg, "-o", "json")
    assert code == 3
    doc = json.loads(out)
    assert doc["command"] == "plan" and doc["ok"] is False
    assert doc["error"]["message"] == "2 of 6 targets failed: locked, gone"
    entries = {e["target"]: e for e in doc["data"]["targets"]}
    assert list(entries) == ["dev", "stage", "prod/eu-west-1", "prod/us-east-1", "locked", "gone"]
    dev = entries["dev"]
    assert (dev["ok"], dev["account_id"], dev["region"]) == (True, DEV, "eu-west-1")
    assert [c["address"] for c in dev["data"]["changes"]] == [
        "rule.quay",
        "template.ROOT",
        "template.quay",
    ]
    assert entries["locked"]["data"] is None
    assert entries["locked"]["error"]["code"] == "aws-access"
    assert entries["locked"]["error"]["hint"].startswith("check the role's trust policy allows")
    totals = doc["data"]["totals"]
    assert (totals["targets"], totals["ok"], totals["failed"], totals["changed"]) == (6, 4, 2, 4)
    assert totals["summary"]["add"] == 17
    assert TOKEN not in out


def test_the_checksum_covers_every_targets_plan(
    capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path
) -> None:
    cfg = _config(tmp_path)
    code, out, _ = cli(capsys, "--sandbox", "plan", "-c", cfg, "-o", "json")
    checksum = json.loads(out)["data"]["totals"]["checksum"]
    # another selection is another set of plans: refused, nothing changed
    code, _, err = cli(
        capsys, "--sandbox", "apply", "-c", cfg, "--yes", "--target", "dev", "--checksum", checksum
    )
    assert code == 5
    assert "the plans changed since they were reviewed" in err
    assert all(v == EMPTY for v in read_back_sandbox(state, ALL).values())
    code, _, err = cli(capsys, "--sandbox", "apply", "-c", cfg, "--yes", "--checksum", checksum)
    assert code == 0, err
    assert all(v["rules"] for v in read_back_sandbox(state, ALL).values())


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_apply_shows_every_plan_and_asks_once(
    capsys: pytest.CaptureFixture[str],
    state: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = _config(tmp_path)
    # one answer: a second question would meet the end of input and abort
    monkeypatch.setattr(sys, "stdin", _Terminal("yes\n"))
    code, out, err = cli(capsys, "--sandbox", "apply", "-c", cfg)
    assert code == 0, err
    assert (out + err).count("Apply these changes?") == 1
    prompt = (out + err).index("Apply these changes?")
    assert out.index(_heading("prod/us-east-1", PROD, "us-east-1")) < prompt  # plans first
    assert out.count("Apply complete:") == 4


def test_the_other_commands_run_per_target(
    capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path
) -> None:
    cfg = _config(tmp_path, BROKEN)
    code, out, err = cli(capsys, "validate", "-c", cfg)
    assert code == 0, err  # offline: no role is assumed, so none fails
    assert out.count("is valid:") == 6
    code, out, err = cli(capsys, "--sandbox", "outputs", "-c", cfg, "--target", "dev")
    assert code == 0, err
    assert f"{DEV}.dkr.ecr.eu-west-1.amazonaws.com/quay/" in out
    code, out, err = cli(capsys, "--sandbox", "status", "-c", cfg)
    assert code == 3
    assert _heading("prod/us-east-1", PROD, "us-east-1") in out
    assert "Error: gone: cannot assume" in err
    code, out, err = cli(capsys, "--sandbox", "cost-report", "-c", cfg, "--target", "stage")
    assert code == 0, err
    assert _heading("stage", STAGE, "eu-west-1") in out
    code, out, err = cli(
        capsys, "--sandbox", "-o", "json", "doctor", "-c", cfg, "--target", "prod/eu-west-1"
    )
    doc = json.loads(out)
    assert [e["target"] for e in doc["data"]["targets"]] == ["prod/eu-west-1"]
    report = doc["data"]["targets"][0]["data"]
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["creds.identity"]["status"] == "pass"
    assert checks["creds.identity"]["finding"] == (
        f"arn:aws:sts::{PROD}:assumed-role/ecrcache/ecrcache (account {PROD})"
    )
    assert report["context"]["region"] == "eu-west-1"
    code, out, _ = cli(capsys, "--sandbox", "doctor", "-c", cfg, "--target", "dev")
    assert f"$ ecrcache --sandbox -c {cfg} --target dev apply" in out  # fixes stay on dev


def test_export_writes_one_template_per_target(
    capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path
) -> None:
    cfg = _config(tmp_path)
    code, out, err = cli(capsys, "export", "cloudformation", "-c", cfg)
    assert code == 0, err

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    templates = list(yaml.load_all(out, Loader=Loader))
    assert len(templates) == 4
    assert all("Resources" in t for t in templates)
    assert "# prod/us-east-1 · account 333333333333 · us-east-1" in out
    code, _, err = cli(
        capsys, "export", "cloudformation", "-c", cfg, "--out", str(tmp_path / "t.yaml")
    )
    assert code == 2
    assert "--out names one file, and 4 targets are selected" in err
    code, _, err = cli(
        capsys,
        "export",
        "cloudformation",
        "-c",
        cfg,
        "--target",
        "dev",
        "--out",
        str(tmp_path / "t.yaml"),
    )
    assert code == 0, err
    assert "quay" in (tmp_path / "t.yaml").read_text()


def test_one_target_for_the_commands_that_work_on_one_account(
    capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path
) -> None:
    cfg = _config(tmp_path)
    code, out, err = cli(
        capsys, "rewrite", "-c", cfg, "--target", "prod/us-east-1", "quay.io/a/b:1"
    )
    assert (code, out) == (0, f"{PROD}.dkr.ecr.us-east-1.amazonaws.com/quay/a/b:1\n"), err
    code, _, err = cli(capsys, "rewrite", "-c", cfg, "--target", "prod", "quay.io/a/b:1")
    assert code == 2
    assert "Error: this command runs on one target, and --target selects 2" in err
    assert cli(capsys, "--sandbox", "apply", "-c", cfg, "--yes", "--target", "dev")[0] == 0
    code, out, err = cli(
        capsys, "--sandbox", "test-pull", "-c", cfg, "--target", "dev", "quay.io/a/b:1"
    )
    assert code == 0, err
    assert f"{DEV}.dkr.ecr.eu-west-1.amazonaws.com/quay/a/b:1" in out
    from ecrcache.sandbox.runtime import open_sandbox
    from targets_support import client_in

    with open_sandbox(region="eu-west-1", state_path=state) as session:
        repos = client_in(session, "ecr", DEV, "eu-west-1").describe_repositories()
        mine = session.client("ecr").describe_repositories()
    assert [r["repositoryName"] for r in repos["repositories"]] == ["quay/a/b"]
    assert mine["repositories"] == []  # the pull went to the target's account only


def test_region_is_each_targets_own(
    capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path
) -> None:
    code, _, err = cli(
        capsys, "--sandbox", "plan", "-c", _config(tmp_path), "--region", "eu-west-2"
    )
    assert code == 2
    assert "Error: --region does not apply to a config with [targets]" in err
