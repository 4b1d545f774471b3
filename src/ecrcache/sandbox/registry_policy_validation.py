"""PutRegistryPolicy validation as ECR does it for pull-through cache.

moto 5.2 allows only ecr:CreateRepository and ecr:ReplicateImage in a registry policy; ECR also
allows ecr:BatchImportUpstreamImage there, the action a principal needs to pull a new image
through the cache ("Registry permissions for pull through cache", ECR user guide). This keeps
moto's check for anything else.
"""

from __future__ import annotations

import json
from typing import Any

# The actions a registry policy may grant at the original (V1) policy scope.
REGISTRY_POLICY_ACTIONS = frozenset(
    {"ecr:CreateRepository", "ecr:ReplicateImage", "ecr:BatchImportUpstreamImage"}
)


def _validate_registry_policy_action(self: Any, policy_text: str) -> None:
    from moto.iam.exceptions import MalformedPolicyDocument

    for statement in json.loads(policy_text)["Statement"]:
        action = statement["Action"]
        actions = {action} if isinstance(action, str) else set(action)
        if actions - REGISTRY_POLICY_ACTIONS:
            raise MalformedPolicyDocument()


def install() -> None:
    from moto.ecr.models import ECRBackend

    ECRBackend._validate_registry_policy_action = _validate_registry_policy_action  # type: ignore[method-assign]
