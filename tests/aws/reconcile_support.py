"""Helpers shared by the reconcile tests: build a config, plan and apply against moto."""

from __future__ import annotations

import json
from typing import Any

import boto3

from ecrcache.aws import Clients
from ecrcache.config.loading import parse_config
from ecrcache.config.schema import Config
from ecrcache.reconcile.apply import ApplyContext, run
from ecrcache.reconcile.credentials import SourceReader
from ecrcache.reconcile.planning import PlanResult, make_plan

REGION = "af-south-1"
ACCOUNT = "123456789012"
TOKEN = "dckr_pat_0123456789abcdefTOKEN"
ENV = {"TOK": TOKEN}


def example_roles(session: boto3.session.Session) -> None:
    """The IAM roles config.example.toml names (as a new --sandbox account holds them): ECR
    refuses a registry policy naming a principal IAM does not know."""
    from ecrcache.sandbox.seed import seed

    seed(session.client("iam"))


def make_roles(session: boto3.session.Session, arns: list[str]) -> None:
    """Roles for the principals a test's policies name: ECR refuses a registry or repository
    policy naming a principal IAM does not know (sandbox/principal_validation)."""
    from ecrcache.sandbox.seed import TRUST_EC2

    iam = session.client("iam")
    trust = json.dumps(TRUST_EC2)
    for arn in arns:
        iam.create_role(RoleName=arn.rsplit("/", 1)[1], AssumeRolePolicyDocument=trust)


def cred(name: str) -> dict[str, Any]:
    return {"secret": f"ecr-pullthroughcache/{name}", "username": "bot", "token": {"env": "TOK"}}


def config(rules: dict[str, dict[str, Any]], **top: Any) -> Config:
    return parse_config({"region": REGION, "rules": rules, **top})


def clients(session: boto3.session.Session) -> Clients:
    """Clients whose back-off sleeps are recorded in ``.sleeps`` instead of waited."""
    sleeps: list[float] = []
    c = Clients(session, REGION, sleep=sleeps.append)
    c.sleeps = sleeps  # type: ignore[attr-defined]
    return c


def plan(cfg: Config, c: Clients, env: dict[str, str] = ENV, **kw: Any) -> PlanResult:
    return make_plan(cfg, c, reader=SourceReader(environ=env), **kw)


def apply(cfg: Config, c: Clients, env: dict[str, str] = ENV, **kw: Any) -> PlanResult:
    result = plan(cfg, c, env, **kw)
    run(
        result.plan,
        ApplyContext(
            clients=c,
            account_id=result.account_id,
            region=REGION,
            secret_arns={s.name: s.arn for s in result.live.secrets.values() if s.arn},
        ),
    )
    return result
