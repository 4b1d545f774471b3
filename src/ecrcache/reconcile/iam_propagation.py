"""ECR refusing a policy because IAM has not propagated a principal yet. Pure.

ECR resolves each IAM principal of a registry or repository policy when the policy is written.
A role or user created moments before is not known yet, and the call fails with
``InvalidParameterException: Invalid parameter at 'PolicyText' failed to satisfy constraint:
'Principal not found'`` (hashicorp/terraform-provider-aws#39064); older responses said 'Invalid
repository policy provided', on which Terraform's aws_ecr_repository_policy retries "due to IAM
eventual consistency" for its propagationTimeout of two minutes
(resource_aws_ecr_repository_policy.go, repository_policy.go, internal/service/ecr/consts.go).
The registry policy's counterpart is 'Invalid registry policy provided'. The same call succeeds
once IAM has caught up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from ecrcache.errors import AwsError

PRINCIPAL_ERROR_CODE = "InvalidParameterException"
PRINCIPAL_ERROR_MESSAGES = (
    "Principal not found",
    "Invalid registry policy provided",
    "Invalid repository policy provided",
)
# About two minutes in all, as Terraform waits for IAM (propagationTimeout = 2 * time.Minute).
IAM_PROPAGATION_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 30.0, 30.0)
_IDENTITY = re.compile(r"^arn:[\w-]+:iam::\d{12}:(role|user)/.+$")


def iam_identities(statements: Iterable[str]) -> tuple[str, ...]:
    """The role and user ARNs the policy statements (JSON texts) name as AWS principals: the
    principals that can be "not found". Account IDs and root ARNs always resolve."""
    out: set[str] = set()
    for text in statements:
        principal = json.loads(text).get("Principal")
        value = principal.get("AWS") if isinstance(principal, dict) else None
        for arn in [value] if isinstance(value, str) else (value or []):
            if isinstance(arn, str) and _IDENTITY.match(arn):
                out.add(arn)
    return tuple(sorted(out))


def rejects_principal(code: str | None, message: str) -> bool:
    """ECR's answer when a policy names a principal IAM does not know (yet)."""
    return code == PRINCIPAL_ERROR_CODE and any(m in message for m in PRINCIPAL_ERROR_MESSAGES)


def not_propagated(what: str, principals: tuple[str, ...], cause: AwsError) -> AwsError:
    """The one-line failure once the retries are spent."""
    names = ", ".join(principals)
    first = principals[0].rsplit("/", 1)[-1]
    kind = principals[0].split(":")[-1].split("/", 1)[0]
    said = next((m for m in PRINCIPAL_ERROR_MESSAGES if m in cause.message), "rejected")
    return AwsError(
        f"ECR rejects the {what} ({said}): IAM does not know {names}, or not yet",
        hint=f"check that it exists (aws iam get-{kind} --{kind}-name {first}) and that the ARN "
        "has the right path; one created moments ago can take a minute or two to reach ECR: "
        "run apply again",
        aws_code=cause.aws_code,
        operation=cause.operation,
    )
