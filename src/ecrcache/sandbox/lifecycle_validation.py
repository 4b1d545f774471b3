"""PutLifecyclePolicy validation as ECR does it today.

moto 5.2's validator predates the archive storage class: it rejects ``sinceImagePulled``,
``transition`` actions and ``storageClass``, which ECR accepts. Check with ecrcache's own rules
(ecrcache.policy.lifecycle, written from the ECR docs) instead, in moto's error shape.
"""

from __future__ import annotations

from ecrcache.policy import lifecycle


class LifecyclePolicyValidator:
    """Drop-in for moto's ``EcrLifecyclePolicyValidator(policy_text).validate()``."""

    PREFIX = (
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
        "'Lifecycle policy validation failure: "
    )

    def __init__(self, policy_text: str) -> None:
        self._text = policy_text

    def validate(self) -> None:
        from moto.ecr.exceptions import InvalidParameterException

        problems = lifecycle.check_policy(self._text)
        if problems:
            raise InvalidParameterException(f"{self.PREFIX}{problems[0]}'")


def install() -> None:
    import moto.ecr.models

    moto.ecr.models.EcrLifecyclePolicyValidator = LifecyclePolicyValidator  # type: ignore[misc,assignment]
