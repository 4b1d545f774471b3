"""PutRegistryPolicy and SetRepositoryPolicy reject IAM principals IAM does not know (yet).

ECR resolves every IAM principal of a registry or repository policy and refuses the policy when
one is unknown: ``InvalidParameterException: Invalid parameter at 'PolicyText' failed to
satisfy constraint: 'Principal not found'`` (hashicorp/terraform-provider-aws#39064, a
SetRepositoryPolicy naming a role created a second before; it succeeded when run again). A role
or user IAM has not propagated yet fails the same way, which is why Terraform's
aws_ecr_repository_policy retries the call ("Retry due to IAM eventual consistency",
resource_aws_ecr_repository_policy.go). moto accepts any principal.

Here, a role or user ARN must exist in moto's IAM of its account (the exact ARN, path
included), and one created less than ``propagation()`` seconds ago is still rejected
(``set_propagation``, or ``ECRCACHE_SANDBOX_IAM_PROPAGATION``; default 0: no delay). That holds
for other accounts' principals too (a hub naming its spokes' roles): "ECR validates that all
principals included in its Policy exist at the time of deploying the Repository, so if this
cross-account principal was not created before the Repository, its deployment would fail"
(aws/aws-cdk#16376, fixing aws/aws-cdk#15070). Account IDs and root ARNs, services and ``*``
are accepted.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any

ENV_PROPAGATION = "ECRCACHE_SANDBOX_IAM_PROPAGATION"
PRINCIPAL_NOT_FOUND = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Principal not found'"
)
_ARN = re.compile(r"^arn:[\w-]+:iam::(?P<account>\d{12}):(?P<kind>role|user)/.+$")
_WRAPPED = "_ecrcache_principals"
_propagation: float | None = None
_clock: Callable[[], float] = time.time


def propagation() -> float:
    """Seconds a new role or user stays unknown to ECR."""
    if _propagation is not None:
        return _propagation
    try:
        return max(float(os.environ.get(ENV_PROPAGATION) or 0), 0.0)
    except ValueError:
        return 0.0


def set_propagation(seconds: float | None, *, clock: Callable[[], float] | None = None) -> None:
    """Simulate IAM propagation for this process: principals younger than ``seconds`` (by
    ``clock``, default the wall clock) are rejected. ``None`` restores the defaults."""
    global _propagation, _clock
    _propagation = seconds
    _clock = clock or time.time


def _aws_principals(policy_text: str) -> Iterator[str]:
    try:
        doc = json.loads(policy_text)
    except ValueError:
        return  # moto's own validation reports a malformed document
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    for st in statements if isinstance(statements, list) else [statements]:
        principal = st.get("Principal") if isinstance(st, dict) else None
        value = principal.get("AWS") if isinstance(principal, dict) else None
        yield from [value] if isinstance(value, str) else (value or [])


def _unknown(account_id: str, region: str, policy_text: str) -> str | None:
    """The first role or user principal (of any account) that IAM does not know (yet), or
    None. ``account_id`` is the registry's: kept for callers, every account is checked."""
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    for arn in _aws_principals(policy_text):
        m = _ARN.match(arn)
        if m is None:
            continue
        iam = iam_backends[m["account"]][get_partition(region)]
        entities = iam.roles.values() if m["kind"] == "role" else iam.users.values()
        found = next((e for e in entities if e.arn == arn), None)
        if found is None:
            return arn
        created = found.create_date.replace(tzinfo=UTC).timestamp()
        if _clock() - created < propagation():
            return arn
    return None


def _check(backend: Any, policy_text: str) -> None:
    from moto.ecr.exceptions import InvalidParameterException

    if _unknown(backend.account_id, backend.region_name, policy_text) is not None:
        raise InvalidParameterException(PRINCIPAL_NOT_FOUND)


def _put_registry_policy(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_registry_policy(self: Any, policy_text: str) -> Any:
        _check(self, policy_text)
        return original(self, policy_text)

    setattr(put_registry_policy, _WRAPPED, True)
    return put_registry_policy


def _set_repository_policy(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def set_repository_policy(
        self: Any, registry_id: str, repository_name: str, policy_text: str
    ) -> Any:
        _check(self, policy_text)
        return original(self, registry_id, repository_name, policy_text)

    setattr(set_repository_policy, _WRAPPED, True)
    return set_repository_policy


def install() -> None:
    """Wrap moto's ECR backend (class-level: the mock and the server alike). Idempotent."""
    from moto.ecr.models import ECRBackend

    for name, wrap in (
        ("put_registry_policy", _put_registry_policy),
        ("set_repository_policy", _set_repository_policy),
    ):
        method = getattr(ECRBackend, name)
        if not getattr(method, _WRAPPED, False):
            setattr(ECRBackend, name, wrap(method))
