"""DeletePolicy refuses a managed policy that still has other versions or attachments, as IAM does.

IAM API reference, DeletePolicy: "Before you can delete a managed policy, you must first detach
the policy from all users, groups, and roles that it is attached to. In addition, you must
delete all the policy's versions." Otherwise DeleteConflict, with the messages AWS gives (as the
AWS CLI prints them): "This policy has more than one version. Before you delete a policy, you
must delete the policy's versions. The default version is deleted with the policy." and "Cannot
delete a policy attached to entities." The Terraform AWS provider deletes the non-default
versions first for that reason (iam/policy.go, resourcePolicyDelete). moto 5.2 deletes the
policy whatever it still has, so a caller that forgot the versions would pass against it.
"""

from __future__ import annotations

from typing import Any

MORE_THAN_ONE_VERSION = (
    "This policy has more than one version. Before you delete a policy, you must delete the "
    "policy's versions. The default version is deleted with the policy."
)
ATTACHED = "Cannot delete a policy attached to entities."


def _wrap(original: Any) -> Any:
    def delete_policy(self: Any, policy_arn: str) -> None:
        from moto.iam.exceptions import DeleteConflictException

        policy = self.get_policy(policy_arn)  # NoSuchEntity when absent, as before
        if policy.attachment_count > 0:
            raise DeleteConflictException(ATTACHED)
        if len(policy.versions) > 1:
            raise DeleteConflictException(MORE_THAN_ONE_VERSION)
        original(self, policy_arn)

    delete_policy.ecrcache_original = original  # type: ignore[attr-defined]
    return delete_policy


def install() -> None:
    """Idempotent: wraps moto's backend method once."""
    from moto.iam.models import IAMBackend

    current = IAMBackend.delete_policy
    if not hasattr(current, "ecrcache_original"):
        IAMBackend.delete_policy = _wrap(current)  # type: ignore[method-assign]
