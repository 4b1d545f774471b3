"""ECR stores resource policies in its own form, and returns that form; moto returns the text sent.

What real ECR does to a registry policy, a repository policy and a creation template's
repository policy before it stores it, as far as it is documented or seen by tools that run on
real accounts:

- an account-ID principal becomes the account's root ARN, ``arn:PARTITION:iam::ID:root``
  (the IAM user guide: the two forms "behave the same way"; awspolicyequivalence's
  ``stringPrincipalsEqual``: "Handle AWS converting account ID principal to root IAM user ARN");
- principal lists come back in another order ("aws_ecr_repository_policy tries to enforce
  order of principals when AWS insists on a different random ordering",
  hashicorp/terraform-provider-aws#19365, fixed by #22004 with its ``principalOrder``
  acceptance test);
- one-element lists come back as a plain string (awspolicyequivalence: "treating single element
  string arrays as equivalent to a string without an array, as the AWS endpoints do");
- the text is re-indented (the provider normalises what it reads, ``NormalizeJsonString``).

ECR's exact order and layout are not documented, so this perturbs only in those ways: principal
lists in an order of their own (by a hash of each value, so never simply sorted or as sent),
one-element lists collapsed, root ARNs, two-space indentation.

IAM keeps a managed policy's document as sent, and GetPolicyVersion returns it URL-encoded ("The
policy document returned in this structure is URL-encoded compliant with RFC 3986", IAM API
reference, PolicyVersion.Document); CreatePolicyVersion and ListPolicyVersions do not return it
("It is not returned in the response to the CreatePolicyVersion or ListPolicyVersions
operations"). moto 5.2 encodes it only for GetAccountAuthorizationDetails; botocore decodes it
either way (handlers.json_decode_policies), so a document that holds a ``%`` came back altered.

Class-level patches of moto's ECRBackend, so they hold in ``mock_aws`` and ThreadedMotoServer;
only strings are stored, so pickled sandbox state is unaffected.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

_ACCOUNT_ID = re.compile(r"\d{12}")
_LISTS = ("Action", "NotAction", "Resource", "NotResource")
_PRINCIPALS = ("Principal", "NotPrincipal")
_MARK = "_ecrcache_stores_as_aws"


def stored_form(text: str, partition: str) -> str:
    """``text`` as ECR stores and returns it (see the module docstring). Text that is not a
    JSON object is returned as it is: moto's validation has the final say on it."""
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    if not isinstance(doc, dict):
        return text
    statements = doc.get("Statement")
    if isinstance(statements, list):
        doc["Statement"] = [_statement(s, partition) for s in statements]
    elif isinstance(statements, dict):
        doc["Statement"] = _statement(statements, partition)
    return json.dumps(doc, indent=2)


def _statement(st: Any, partition: str) -> Any:
    if not isinstance(st, dict):
        return st
    out = dict(st)
    for key in _LISTS:
        if key in out:
            out[key] = _one(out[key])
    for key in _PRINCIPALS:
        principal = out.get(key)
        if isinstance(principal, dict):
            out[key] = {
                kind: _one(_aws_order(_roots(v, partition)) if kind == "AWS" else _aws_order(v))
                for kind, v in principal.items()
            }
    condition = out.get("Condition")
    if isinstance(condition, dict):
        out["Condition"] = {
            op: {k: _one(v) for k, v in block.items()} if isinstance(block, dict) else block
            for op, block in condition.items()
        }
    return out


def _roots(value: Any, partition: str) -> Any:
    def root(v: Any) -> Any:
        is_id = isinstance(v, str) and _ACCOUNT_ID.fullmatch(v)
        return f"arn:{partition}:iam::{v}:root" if is_id else v

    return [root(v) for v in value] if isinstance(value, list) else root(value)


def _aws_order(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sorted(value, key=lambda v: hashlib.sha256(v.encode()).hexdigest())
    return value


def _one(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


# --- hooks into moto's ECR backend ------------------------------------------------------------


def _put_registry_policy(original: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    def put_registry_policy(self: Any, policy_text: str) -> dict[str, Any]:
        result = original(self, policy_text)
        self.registry_policy = stored_form(policy_text, self.partition)
        return {**result, "policyText": self.registry_policy}

    return put_registry_policy


def _set_repository_policy(original: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    def set_repository_policy(
        self: Any, registry_id: str, repository_name: str, policy_text: str
    ) -> dict[str, Any]:
        result = original(self, registry_id, repository_name, policy_text)
        repo = self._get_repository(repository_name, registry_id)
        repo.policy = stored_form(policy_text, self.partition)
        return {**result, "policyText": repo.policy}

    return set_repository_policy


def _template_write(original: Callable[..., Any]) -> Callable[..., Any]:
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        template = original(self, *args, **kwargs)
        if template.repository_policy:
            template.repository_policy = stored_form(template.repository_policy, self.partition)
        return template

    return write


def _install_iam() -> None:
    from moto.core.serialize import never_return, url_encode
    from moto.iam.responses import IamResponse

    IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER.update(
        {
            "GetPolicyVersionResponse.PolicyVersion.Document": url_encode,
            "CreatePolicyVersionResponse.PolicyVersion.Document": never_return,
        }
    )


def install() -> None:
    """Patch moto's ECRBackend (after ``ecr_extension`` bound the template operations) and
    IAM's responses.
    Idempotent: moto's own methods are wrapped once; the template operations are re-wrapped
    from ecrcache's functions each time."""
    from moto.ecr.models import ECRBackend

    from ecrcache.sandbox import templates

    for name, wrap in (
        ("put_registry_policy", _put_registry_policy),
        ("set_repository_policy", _set_repository_policy),
    ):
        current = getattr(ECRBackend, name)
        if not getattr(current, _MARK, False):
            wrapped = wrap(current)
            setattr(wrapped, _MARK, True)
            setattr(ECRBackend, name, wrapped)
    ECRBackend.create_repository_creation_template = _template_write(  # type: ignore[attr-defined]
        templates.create_repository_creation_template
    )
    ECRBackend.update_repository_creation_template = _template_write(  # type: ignore[attr-defined]
        templates.update_repository_creation_template
    )
    _install_iam()
