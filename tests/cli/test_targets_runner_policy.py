"""``outputs`` across [targets] gives the runner policy: the identity policy whoever runs
ecrcache needs, sts:AssumeRole on every target's role, conditioned on the external id where the
target sends one. Checked with ecrcache's IAM evaluator (policy.iam) for the caller's half and
the sandbox's trust check (sandbox.assume_role_trust) for the role's half: together they allow
exactly the AssumeRole calls ecrcache makes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli
from test_targets_cli import DEV, PROD, STAGE, _config, state  # noqa: F401 - the fixture

from ecrcache.policy.iam import evaluate
from ecrcache.policy.runner import runner_policy
from ecrcache.sandbox.assume_role_trust import allows
from targets_support import CALLER_ACCOUNT, role_arn, trust_policy

pytestmark = pytest.mark.usefixtures("state")

CALLER = f"arn:aws:sts::{CALLER_ACCOUNT}:assumed-role/ci-runner/job-1"
TRUST = {
    DEV: trust_policy(),
    STAGE: trust_policy(external_id="stage-ext"),
    PROD: trust_policy(),
}


def _may_assume(runner: dict[str, Any], account: str, external_id: str | None) -> bool:
    """Both halves of a cross-account AssumeRole, as the evaluator decides it across accounts
    (each side must allow): the runner's policy, and the role's trust policy (its statements
    have no Resource: the role is it). The sandbox's own trust check agrees on the role's."""
    arn = role_arn(account)
    context = {"sts:ExternalId": external_id} if external_id is not None else {}
    trust = TRUST[account]
    with_resource = {**trust, "Statement": [{**st, "Resource": arn} for st in trust["Statement"]]}
    decision = evaluate(
        "sts:AssumeRole",
        arn,
        identity_policies=[runner],
        resource_policy=with_resource,
        principal_arn=CALLER,
        context=context,
    )
    assert decision.certain
    if decision.allowed:
        assert allows(trust, role_arn=arn, caller=CALLER, external_id=external_id)
    return decision.allowed


def _runner(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> dict[str, Any]:
    code, out, err = cli(capsys, "--sandbox", "outputs", "-c", _config(tmp_path), "-o", "json")
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)["data"]["runner_policy"]
    return doc


def test_outputs_runner_policy_lets_the_runner_assume_every_target_role(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    runner = _runner(capsys, tmp_path)
    plain, with_id = runner["Statement"]
    # prod's two regions are one role: granted once
    assert plain["Resource"] == [role_arn(DEV), role_arn(PROD)]
    assert with_id["Resource"] == role_arn(STAGE)
    assert with_id["Condition"] == {"StringEquals": {"sts:ExternalId": "stage-ext"}}
    assert _may_assume(runner, DEV, None)
    assert _may_assume(runner, PROD, None)
    assert _may_assume(runner, STAGE, "stage-ext")


def test_the_runner_policy_grants_nothing_more(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    runner = _runner(capsys, tmp_path)
    assert not _may_assume(runner, STAGE, None)  # the trust needs the id; the grant too
    assert not _may_assume(runner, STAGE, "guessed")
    # the runner's half matters: without the grant the trust alone does not let it in
    assert allows(TRUST[DEV], role_arn=role_arn(DEV), caller=CALLER, external_id=None)
    assert not _may_assume({"Version": "2012-10-17", "Statement": []}, DEV, None)
    other = "arn:aws:iam::777777777777:role/ecrcache"
    assert not evaluate("sts:AssumeRole", other, identity_policies=[runner]).allowed
    assert not evaluate("sts:TagSession", role_arn(DEV), identity_policies=[runner]).allowed
    # the evaluator's own verdict on the role's half alone: the trust policy is required too
    assert not allows(
        trust_policy(trusted="arn:aws:iam::999999999999:root"),
        role_arn=role_arn(DEV),
        caller=CALLER,
        external_id=None,
    )


def test_the_text_outputs_show_the_runner_policy_as_a_json_document(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = cli(capsys, "--sandbox", "outputs", "-c", _config(tmp_path))
    assert code == 0, err
    _, after = out.split("── runner policy ──", 1)
    text = after.split("\n{", 1)[1].rsplit("}\n", 1)[0]
    assert json.loads("{" + text + "}") == runner_policy(
        [(role_arn(DEV), None), (role_arn(STAGE), "stage-ext"), (role_arn(PROD), None)]
    )


def test_no_role_assumed_no_runner_policy() -> None:
    assert runner_policy([]) is None
