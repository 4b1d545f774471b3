"""A principal's identity policies, read from IAM so that ``ecrcache.policy.iam`` can evaluate
them: attached managed policies (AWS-managed ones too, at their default version) and inline
ones; for a user also its groups'. Reads only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ecrcache.aws import Clients, aws_errors, error_code

_ARN = re.compile(r"^arn:(?P<partition>[\w-]+):iam::(?P<account>[0-9]{12}):(?P<rest>.+)$")


class PrincipalNotFound(Exception):
    """The role or user does not exist in the account."""


@dataclass(frozen=True)
class Principal:
    """A puller from the config: an account, or a role or user ARN."""

    arn: str  # an account is ``arn:aws:iam::<id>:root``
    account: str
    kind: str  # "account", "role" or "user"
    name: str | None  # the role or user name (no path)

    @classmethod
    def parse(cls, text: str, *, partition: str = "aws") -> Principal:
        if text.isdigit():
            return cls(f"arn:{partition}:iam::{text}:root", text, "account", None)
        m = _ARN.match(text)
        if m is None:
            raise ValueError(f"{text!r} is not an account ID or IAM ARN")
        rest = m["rest"]
        if rest == "root":
            return cls(text, m["account"], "account", None)
        kind, _, path = rest.partition("/")
        return cls(text, m["account"], kind, path.rsplit("/", 1)[-1])


def _document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):  # IAM returns URL-encoded JSON; boto3 usually decodes it already
        raw = json.loads(unquote(raw))
    return dict(raw)


def _managed(clients: Clients, arn: str) -> dict[str, Any]:
    version = clients.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    doc = clients.iam.get_policy_version(PolicyArn=arn, VersionId=version)
    return _document(doc["PolicyVersion"]["Document"])


def _pages(clients: Clients, op: str, key: str, **kwargs: Any) -> Iterator[Any]:
    for page in clients.iam.get_paginator(op).paginate(**kwargs):
        yield from page.get(key, [])


def identity_policies(clients: Clients, principal: Principal) -> list[tuple[str, dict[str, Any]]]:
    """(name, document) of every identity policy of a role or user in the caller's account.
    Raises PrincipalNotFound when IAM has no such role or user."""
    if principal.kind not in ("role", "user") or principal.name is None:
        return []
    name = principal.name
    out: list[tuple[str, dict[str, Any]]] = []
    try:
        with aws_errors(f"read the IAM policies of {principal.kind} {name}"):
            if principal.kind == "role":
                clients.iam.get_role(RoleName=name)
                attached = _pages(
                    clients, "list_attached_role_policies", "AttachedPolicies", RoleName=name
                )
                inline = [
                    (n, clients.iam.get_role_policy(RoleName=name, PolicyName=n)["PolicyDocument"])
                    for n in _pages(clients, "list_role_policies", "PolicyNames", RoleName=name)
                ]
                groups: list[str] = []
            else:
                clients.iam.get_user(UserName=name)
                attached = _pages(
                    clients, "list_attached_user_policies", "AttachedPolicies", UserName=name
                )
                inline = [
                    (n, clients.iam.get_user_policy(UserName=name, PolicyName=n)["PolicyDocument"])
                    for n in _pages(clients, "list_user_policies", "PolicyNames", UserName=name)
                ]
                groups = [
                    g["GroupName"]
                    for g in _pages(clients, "list_groups_for_user", "Groups", UserName=name)
                ]
            for p in list(attached):
                out.append((p["PolicyName"], _managed(clients, p["PolicyArn"])))
            out += [(n, _document(d)) for n, d in inline]
            for g in groups:
                for p in _pages(
                    clients, "list_attached_group_policies", "AttachedPolicies", GroupName=g
                ):
                    out.append((f"{g}/{p['PolicyName']}", _managed(clients, p["PolicyArn"])))
                for n in _pages(clients, "list_group_policies", "PolicyNames", GroupName=g):
                    doc = clients.iam.get_group_policy(GroupName=g, PolicyName=n)
                    out.append((f"{g}/{n}", _document(doc["PolicyDocument"])))
    except Exception as exc:
        if error_code(exc.__cause__ or exc) == "NoSuchEntity":
            raise PrincipalNotFound(f"{principal.kind} {name}") from None
        raise
    return out
