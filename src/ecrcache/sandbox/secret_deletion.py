"""DeleteSecret of a secret already scheduled for deletion, answered as Secrets Manager does.

A DeleteSecret whose response was lost is retried by botocore and meets the deletion it
scheduled. Secrets Manager then answers InvalidRequestException ("A parameter value is not valid
for the current state of the resource. Possible causes: The secret is scheduled for deletion",
botocore's service model, secretsmanager 2017-10-17), with the message it gives every operation
on a secret in its recovery window: "You can't perform this operation on the secret because it
was marked for deletion." (as AWS returns it, e.g. external-secrets/kubernetes-external-secrets
issue 114; the Terraform AWS provider matches that text in secretsmanager/secret_policy.go).
moto 5.2 raises the same code with a message of its own that embeds "An error occurred (...)
when calling the DeleteSecret operation:" and the source's line-continuation spaces.
"""

from __future__ import annotations

from typing import Any

MARKED_FOR_DELETION = (
    "You can't perform this operation on the secret because it was marked for deletion."
)
_MOTO_TEXT = "currently marked deleted"


def _wrap(original: Any) -> Any:
    def delete_secret(self: Any, *args: Any, **kwargs: Any) -> Any:
        from moto.secretsmanager.exceptions import InvalidRequestException

        try:
            return original(self, *args, **kwargs)
        except InvalidRequestException as exc:
            if _MOTO_TEXT not in exc.message:
                raise
            raise InvalidRequestException(MARKED_FOR_DELETION) from None

    delete_secret.ecrcache_original = original  # type: ignore[attr-defined]
    return delete_secret


def install() -> None:
    """Idempotent: wraps moto's backend method once."""
    from moto.secretsmanager.models import SecretsManagerBackend

    current = SecretsManagerBackend.delete_secret
    if not hasattr(current, "ecrcache_original"):
        SecretsManagerBackend.delete_secret = _wrap(current)  # type: ignore[method-assign]
