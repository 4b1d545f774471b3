"""Several accounts in one moto: the roles targets assume, and reading each account back.

moto keeps one backend per account; a request's account is the one its access key belongs to
(an assumed role's key: the role's account), or the ``x-moto-account-id`` header, which these
plain boto3 clients send (they are the tests' own, not ecrcache's: the CI-policy check does not
see them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

CALLER_ACCOUNT = "123456789012"  # moto's default account: the tests' default credentials
ROLE_NAME = "ecrcache"


def client_in(session: boto3.session.Session, service: str, account: str, region: str) -> Any:
    """A plain client whose requests moto serves as ``account``."""
    client = session.client(service, region_name=region)

    def header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    client.meta.events.register("before-sign.*.*", header)
    return client


def role_arn(account: str, name: str = ROLE_NAME) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def trust_policy(
    trusted: str = f"arn:aws:iam::{CALLER_ACCOUNT}:root", external_id: str | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": trusted},
        "Action": "sts:AssumeRole",
    }
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def make_target_role(
    session: boto3.session.Session,
    account: str,
    *,
    trusted: str = f"arn:aws:iam::{CALLER_ACCOUNT}:root",
    external_id: str | None = None,
    name: str = ROLE_NAME,
) -> str:
    """The role a target assumes, in ``account``, trusting ``trusted``; its ARN."""
    iam = client_in(session, "iam", account, "us-east-1")
    doc = json.dumps(trust_policy(trusted, external_id))
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc)
    return role_arn(account, name)


def seed_sandbox_roles(state_path: Path, roles: list[dict[str, Any]]) -> None:
    """Create target roles (``make_target_role`` keyword arguments, with ``account``) in the
    ``--sandbox`` state at ``state_path``."""
    from ecrcache.sandbox.runtime import open_sandbox

    with open_sandbox(region="us-east-1", state_path=state_path) as session:
        for spec in roles:
            spec = dict(spec)
            make_target_role(session, spec.pop("account"), **spec)


def read_back(session: boto3.session.Session, account: str, region: str) -> dict[str, Any]:
    """What ecrcache manages in one account and region: rule and template prefixes."""
    ecr = client_in(session, "ecr", account, region)
    rules = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    templates = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    return {
        "rules": sorted(r["ecrRepositoryPrefix"] for r in rules),
        "templates": sorted(t["prefix"] for t in templates),
    }


def read_back_sandbox(
    state_path: Path, places: list[tuple[str, str]]
) -> dict[tuple[str, str], Any]:
    """``read_back`` for each (account, region) of the ``--sandbox`` state."""
    from ecrcache.sandbox.runtime import open_sandbox

    with open_sandbox(region="us-east-1", state_path=state_path) as session:
        return {(a, r): read_back(session, a, r) for a, r in places}
