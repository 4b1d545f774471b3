"""The CI policy must grant every API action plan and apply really call: record the calls of a
full apply and a plan of the example config, and look each action up in the generated policy."""

from __future__ import annotations

import tomllib
from pathlib import Path

import boto3
from reconcile_support import ACCOUNT, REGION, apply, clients, example_roles, plan

from ecrcache.config import parse_config
from ecrcache.permissions import ci_policy, operations

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
# Calls that need no IAM permission.
FREE = {"sts:GetCallerIdentity"}


def granted_actions(doc: dict) -> set[str]:  # type: ignore[type-arg]
    out: set[str] = set()
    for st in doc["Statement"]:
        actions = st["Action"]
        out.update([actions] if isinstance(actions, str) else actions)
    return out


def iam_action(call: str) -> str:
    service, op = call.split(".", 1)
    return f"{service}:{op}"


def test_ci_policy_covers_every_call_of_plan_and_apply(aws: boto3.session.Session) -> None:
    cfg = parse_config(tomllib.loads(EXAMPLE.read_text()))
    env = {"DOCKERHUB_TOKEN": "t1", "GHCR_TOKEN": "t2"}
    example_roles(aws)  # the puller role the example names
    c = clients(aws)
    apply(cfg, c, env)
    c2 = clients(aws)
    plan(cfg, c2, env)
    doc = ci_policy(
        partition="aws",
        account_id=ACCOUNT,
        region=REGION,
        cache_prefixes=sorted(cfg.cache_prefixes),
        app_repositories=sorted(cfg.repositories),
        operations=operations(),
    )
    called = {iam_action(x) for x in c.calls + c2.calls} - FREE
    assert called, "no calls recorded"
    assert called - granted_actions(doc) == set()
