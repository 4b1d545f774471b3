"""Handlers for registry-wide settings: the scanning configuration and the permissions policy."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ecrcache.aws import aws_errors, error_code
from ecrcache.errors import AwsError
from ecrcache.reconcile import idempotent
from ecrcache.reconcile.handlers.common import filters, with_propagation_retry
from ecrcache.reconcile.iam_propagation import (
    IAM_PROPAGATION_DELAYS,
    iam_identities,
    not_propagated,
    rejects_principal,
)
from ecrcache.reconcile.plan import Change
from ecrcache.reconcile.resources import RegistryPolicy, Scanning

if TYPE_CHECKING:
    from ecrcache.reconcile.apply import ApplyContext


def update_scanning(ctx: ApplyContext, change: Change) -> None:
    want = change.after
    assert isinstance(want, Scanning)
    rules = [
        {"scanFrequency": r.frequency, "repositoryFilters": filters(r.filters)} for r in want.rules
    ]
    with aws_errors("set the registry scanning configuration"):
        ctx.clients.ecr.put_registry_scanning_configuration(scanType=want.scan_type, rules=rules)


def put_registry_policy(ctx: ApplyContext, change: Change) -> None:
    """Write ecrcache's statements beside everybody else's, which stay exactly as they were."""
    want = change.after
    assert isinstance(want, RegistryPolicy)
    others = change.before.others if isinstance(change.before, RegistryPolicy) else ()
    statements = [json.loads(s) for s in (*others, *want.statements)]
    ecr = ctx.clients.ecr
    if not statements:
        idempotent.delete(
            ecr.delete_registry_policy,
            gone={"RegistryPolicyNotFoundException"},
            doing="delete the registry permissions policy",
        )
        return
    # no sort_keys: everybody else's statements go back exactly as they were read
    text = json.dumps({"Version": "2012-10-17", "Statement": statements})
    # A puller role created moments ago may not have reached ECR yet: retry while IAM catches up
    # (only when the policy names a role or user, the principals that can be "not found").
    principals = iam_identities(want.statements)
    try:
        with_propagation_retry(
            ctx,
            change,
            "write the registry permissions policy",
            lambda: ecr.put_registry_policy(policyText=text),
            retryable=lambda exc: bool(principals) and _principal_rejected(exc),
            delays=IAM_PROPAGATION_DELAYS,
        )
    except AwsError as exc:
        if principals and rejects_principal(exc.aws_code, exc.message):
            raise not_propagated("registry permissions policy", principals, exc) from None
        raise


def _principal_rejected(exc: Exception) -> bool:
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))
    return rejects_principal(error_code(exc), message)
