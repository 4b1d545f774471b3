"""STS AssumeRole refuses a caller the role's trust policy does not allow, as AWS does.

moto 5.2.5's AssumeRole hands out credentials for any role ARN ("the role does not need to
exist", its docstring) and never reads the trust policy. AWS, per the AssumeRole API reference
(botocore's sts model carries it: "To assume a role from a different account, your Amazon Web
Services account must be trusted by the role. The trust relationship is defined in the role's
trust policy"), and the IAM user guide's "How to use an external ID"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html:
the trust policy's ``sts:ExternalId`` condition must match the ``ExternalId`` sent), answers
``AccessDenied`` (HTTP 403) with "User: <caller> is not authorized to perform: sts:AssumeRole on
resource: <role>", and the same when the role does not exist: STS does not say which.

Here the role must exist in its account's IAM, and its trust policy, evaluated by ecrcache's
IAM evaluator (``policy.iam``) for the caller's ARN with ``sts:ExternalId`` in the context, must
allow ``sts:AssumeRole``. The caller's own identity policies are not evaluated: moto enforces
none, so the sandbox treats every identity as allowed its half. The session name is checked
against the model's pattern (moto checks its length only). Class-level wrap of moto's STS
response: works in the mock and in ThreadedMotoServer, and holds no state to pickle.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

_WRAPPED = "_ecrcache_trust"
# botocore sts model, roleSessionNameType: min 2, max 64, pattern [\w+=,.@-]*
_SESSION_NAME = re.compile(r"[\w+=,.@-]*")
_ROLE_ARN = re.compile(r"^arn:[\w-]+:iam::(?P<account>\d{12}):role/.+$")
_ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _denied(caller: str, role_arn: str) -> Exception:
    from moto.core.exceptions import AccessDeniedError

    # 403 AccessDenied: "User: <caller> is not authorized to perform: sts:AssumeRole on
    # resource: <role>", the message STS sends
    return AccessDeniedError(caller, f"sts:AssumeRole on resource: {role_arn}")


def _trust_document(role_arn: str, region: str) -> dict[str, Any] | None:
    """The role's trust policy, None when no such role exists."""
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    m = _ROLE_ARN.match(role_arn)
    if m is None:
        return None
    iam = iam_backends[m["account"]][get_partition(region)]
    role = next((r for r in list(iam.roles.values()) if r.arn == role_arn), None)
    if role is None:
        return None
    text = role.assume_role_policy_document
    try:
        doc = json.loads(text)
    except ValueError:
        doc = json.loads(unquote(text))
    return doc if isinstance(doc, dict) else None


def allows(trust: dict[str, Any], *, role_arn: str, caller: str, external_id: str | None) -> bool:
    """Whether the trust policy lets ``caller`` assume ``role_arn`` with ``external_id``."""
    from ecrcache.policy.iam import evaluate

    statements = trust.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    # a trust policy's statements have no Resource: the role itself is the resource
    doc = {**trust, "Statement": [{**st, "Resource": role_arn} for st in statements]}
    context = {"sts:ExternalId": external_id} if external_id is not None else {}
    try:
        decision = evaluate(
            "sts:AssumeRole",
            role_arn,
            identity_policies=[_ALLOW_ALL],
            resource_policy=doc,
            principal_arn=caller,
            context=context,
        )
    except ValueError:
        return False  # IAM refused such a document on CreateRole; nothing it could allow
    return decision.allowed or not decision.certain


def _assume_role(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def assume_role(self: Any) -> Any:
        from moto.sts.exceptions import STSValidationError

        role_arn = self._get_param("RoleArn")
        name = self._get_param("RoleSessionName")
        if name is not None and not _SESSION_NAME.fullmatch(name):
            raise STSValidationError(
                f"1 validation error detected: Value '{name}' at 'roleSessionName' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
            )
        caller = self.backend.get_caller_identity(self.get_access_key(), self.region)[1]
        trust = _trust_document(role_arn or "", self.region)
        external_id = self._get_param("ExternalId")
        if trust is None or not allows(
            trust, role_arn=role_arn, caller=caller, external_id=external_id
        ):
            raise _denied(caller, role_arn)
        return original(self)

    setattr(assume_role, _WRAPPED, True)
    return assume_role


def install() -> None:
    """Wrap moto's STS AssumeRole (class-level). Idempotent."""
    from moto.sts.responses import TokenResponse

    if not getattr(TokenResponse.assume_role, _WRAPPED, False):
        TokenResponse.assume_role = _assume_role(TokenResponse.assume_role)  # type: ignore[method-assign]
