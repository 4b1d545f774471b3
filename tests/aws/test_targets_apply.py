"""plan and apply across [targets] against moto: three accounts reached through AssumeRole, two
regions, one target whose role cannot be assumed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ecrcache.aws import CALL_OBSERVERS, READ_PREFIXES, Clients
from ecrcache.config.targets import Target, expand_targets
from ecrcache.errors import AwsAccessError
from ecrcache.reconcile.apply import ApplyContext, run
from ecrcache.reconcile.credentials import SourceReader
from ecrcache.reconcile.planning import PlanResult, make_plan
from ecrcache.reconcile.targets_run import TargetOutcome, run_targets, target_clients
from targets_support import make_target_role, read_back

DEV, STAGE, PROD, DENIED = "111111111111", "222222222222", "333333333333", "444444444444"
ENV = {"TOK": "dckr_pat_0123456789abcdefTOKEN"}


def _doc(**extra_targets: Any) -> dict[str, Any]:
    return {
        "region": "eu-west-1",
        "rules": {
            "docker-hub": {
                "upstream": "docker-hub",
                "credentials": {
                    "secret": "ecr-pullthroughcache/docker-hub",
                    "username": "bot",
                    "token": {"env": "TOK"},
                },
            },
            "quay": {"upstream": "quay"},
            "k8s": {"upstream": "k8s"},
        },
        "templates": {
            "ROOT": {"lifecycle": {"expire_untagged_after_days": 7}},
            "quay": {"lifecycle": {"expire_untagged_after_days": 3}},
        },
        "targets": {
            "dev": {"role_arn": f"arn:aws:iam::{DEV}:role/ecrcache", "rules": ["quay"]},
            "stage": {
                "role_arn": f"arn:aws:iam::{STAGE}:role/ecrcache",
                "external_id": "stage-ext",
                "session_name": "ecrcache-ci",
                "templates": ["ROOT"],
            },
            "prod": {
                "role_arn": f"arn:aws:iam::{PROD}:role/ecrcache",
                "regions": ["eu-west-1", "us-east-1"],
                "ci_policy": {"name": "ecrcache-prod-ci"},
            },
            **extra_targets,
        },
    }


@pytest.fixture
def roles(aws: Any) -> None:
    make_target_role(aws, DEV)
    make_target_role(aws, STAGE, external_id="stage-ext")
    make_target_role(aws, PROD)
    # trusts another account only: the caller is denied, as AWS denies it
    make_target_role(aws, DENIED, trusted="arn:aws:iam::999999999999:root")


@pytest.fixture
def mutating() -> Iterator[list[str]]:
    """Every mutating call any ecrcache Clients makes, as ``account.service.Operation``."""
    seen: list[str] = []

    def observe(clients: Clients, service: str, op: str, params: dict[str, Any]) -> None:
        if not op.startswith(READ_PREFIXES):
            seen.append(f"{clients.region}.{service}.{op}")

    CALL_OBSERVERS.append(observe)
    try:
        yield seen
    finally:
        CALL_OBSERVERS.remove(observe)


def _plan_and_apply(aws: Any, targets: tuple[Target, ...]) -> list[TargetOutcome[PlanResult]]:
    reader = SourceReader(environ=ENV)

    def work(target: Target) -> PlanResult:
        config = target.config
        clients = target_clients(aws, target)
        result = make_plan(config, clients, reader=reader)
        run(
            result.plan,
            ApplyContext(
                clients=clients,
                account_id=result.account_id,
                region=result.region,
                secret_arns={s.name: s.arn for s in result.live.secrets.values() if s.arn},
            ),
        )
        return result

    return run_targets(work, targets)


def test_apply_across_accounts_and_regions_then_nothing_to_do(
    aws: Any, roles: None, mutating: list[str]
) -> None:
    targets = expand_targets(_doc())
    assert [t.name for t in targets] == ["dev", "stage", "prod/eu-west-1", "prod/us-east-1"]
    first = _plan_and_apply(aws, targets)
    assert all(o.ok for o in first)
    assert [o.result.account_id for o in first if o.result] == [DEV, STAGE, PROD, PROD]
    assert {o.target.name: o.result.plan.summary()["add"] for o in first if o.result} == {
        "dev": 3,  # quay rule, ROOT and quay templates
        "stage": 5,  # secret, 3 rules, ROOT template
        "prod/eu-west-1": 7,  # secret, 3 rules, 2 templates, its region's CI policy
        "prod/us-east-1": 7,
    }
    assert read_back(aws, DEV, "eu-west-1") == {"rules": ["quay"], "templates": ["ROOT", "quay"]}
    assert read_back(aws, STAGE, "eu-west-1") == {
        "rules": ["docker-hub", "k8s", "quay"],
        "templates": ["ROOT"],
    }
    for region in ("eu-west-1", "us-east-1"):
        assert read_back(aws, PROD, region) == {
            "rules": ["docker-hub", "k8s", "quay"],
            "templates": ["ROOT", "quay"],
        }
    # nothing landed where no target points: the caller's own account, or prod's other regions
    assert read_back(aws, "123456789012", "eu-west-1") == {"rules": [], "templates": []}
    assert read_back(aws, DEV, "us-east-1") == {"rules": [], "templates": []}
    mutating.clear()
    second = _plan_and_apply(aws, targets)
    assert all(o.ok and o.result and o.result.plan.empty for o in second)
    assert mutating == []


def test_the_ci_policy_of_a_target_is_in_its_own_account(aws: Any, roles: None) -> None:
    from targets_support import client_in

    _plan_and_apply(aws, expand_targets(_doc()))
    names = {
        account: sorted(
            p["PolicyName"]
            for p in client_in(aws, "iam", account, "us-east-1").list_policies(Scope="Local")[
                "Policies"
            ]
        )
        for account in (DEV, STAGE, PROD)
    }
    # IAM is global: each region's policy (its own region's ARNs) has the region in its name
    assert names == {
        DEV: [],
        STAGE: [],
        PROD: ["ecrcache-prod-ci-eu-west-1", "ecrcache-prod-ci-us-east-1"],
    }


def test_a_role_that_cannot_be_assumed_fails_its_target_alone(aws: Any, roles: None) -> None:
    doc = _doc(
        locked={"role_arn": f"arn:aws:iam::{DENIED}:role/ecrcache"},
        gone={"role_arn": "arn:aws:iam::555555555555:role/ecrcache"},
    )
    outcomes = _plan_and_apply(aws, expand_targets(doc))
    by_name = {o.target.name: o for o in outcomes}
    assert [n for n, o in by_name.items() if not o.ok] == ["locked", "gone"]
    for name in ("locked", "gone"):
        err = by_name[name].error
        assert isinstance(err, AwsAccessError)
        assert err.message.startswith("cannot assume arn:aws:iam::")
        assert err.message.endswith(":role/ecrcache: AccessDenied")
        assert err.hint == (
            "check the role's trust policy allows arn:aws:sts::123456789012:user/moto "
            "and the external id"
        )
    assert read_back(aws, DEV, "eu-west-1")["rules"] == ["quay"]
    assert read_back(aws, PROD, "us-east-1")["rules"] == ["docker-hub", "k8s", "quay"]
    assert read_back(aws, DENIED, "eu-west-1") == {"rules": [], "templates": []}


def test_a_wrong_external_id_is_denied(aws: Any, roles: None) -> None:
    doc = _doc()
    doc["targets"]["stage"]["external_id"] = "not-stage"
    outcomes = _plan_and_apply(aws, expand_targets(doc))
    assert [o.target.name for o in outcomes if not o.ok] == ["stage"]
    assert read_back(aws, STAGE, "eu-west-1")["rules"] == []


def test_the_assumed_credentials_are_secret_for_the_run(aws: Any, roles: None) -> None:
    from ecrcache.secrecy import redact

    (dev,) = [t for t in expand_targets(_doc()) if t.name == "dev"]
    clients = target_clients(aws, dev)
    creds = clients.session.get_credentials().get_frozen_credentials()
    said = f"token={creds.token} secret={creds.secret_key}"
    assert creds.secret_key not in redact(said)
    assert creds.token not in redact(said)
