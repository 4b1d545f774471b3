"""The runner policy: the identity policy the identity ecrcache runs as needs to reach its
targets, ``sts:AssumeRole`` on each target's role, nothing else.

A cross-account AssumeRole needs both halves: the role's trust policy naming the caller (the
target account's side, checked by the sandbox: ``sandbox.assume_role_trust``) and an identity
policy of the caller allowing ``sts:AssumeRole`` on the role (the IAM user guide, "Granting a
user permissions to switch roles":
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html).
Where a target sends an external id, the grant is conditioned on it (``sts:ExternalId`` is a
condition key of sts:AssumeRole: the Service Authorization Reference for AWS STS,
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html),
so the runner can assume that role only the way ecrcache does. Pure: roles in, document out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SID = "EcrcacheAssumeTargetRoles"


def runner_policy(roles: Iterable[tuple[str, str | None]]) -> dict[str, Any] | None:
    """The identity policy allowing ``sts:AssumeRole`` on each ``(role_arn, external_id)``:
    one statement for the roles without an external id, one per external id (its roles, with
    the condition). None when no target assumes a role (nothing to grant)."""
    plain: set[str] = set()
    by_id: dict[str, set[str]] = {}
    for arn, external_id in roles:
        if external_id is None:
            plain.add(arn)
        else:
            by_id.setdefault(external_id, set()).add(arn)
    statements: list[dict[str, Any]] = []
    if plain:
        statements.append(_allow(SID, plain))
    for n, (external_id, arns) in enumerate(sorted(by_id.items()), start=1):
        st = _allow(f"{SID}WithExternalId{n}", arns)
        st["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
        statements.append(st)
    if not statements:
        return None
    return {"Version": "2012-10-17", "Statement": statements}


def _allow(sid: str, arns: set[str]) -> dict[str, Any]:
    ordered = sorted(arns)
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Resource": ordered[0] if len(ordered) == 1 else ordered,
    }
