"""A KMS repository created without a key reads back with the AWS-managed key for ECR's ARN.

ECR (botocore ECR model, ``EncryptionConfiguration``): with ``KMS`` or ``KMS_DSSE`` "you can
either use the default Amazon Web Services managed KMS key for Amazon ECR, or specify your own";
DescribeRepositories then returns that key's ARN as ``kmsKey``. The Terraform AWS provider's
acceptance test ``TestAccECRRepository_Encryption_kms`` (internal/service/ecr/repository_test.go)
checks exactly that against real accounts: ``encryption_configuration.0.kms_key`` of a repository
declared ``encryption_type = "KMS"`` alone matches ``arn:...:kms:<region>:<account>:key/<uuid>``,
"the default ECR service KMS key". That key is the account's AWS-managed key with the alias
``aws/ecr`` (KMS creates an AWS-managed key on its service's first use; its ``KeyManager`` is
``AWS``).

moto 5.2 invents a random key ARN that exists nowhere (only for exactly ``{"encryptionType":
"KMS"}``, and none for KMS_DSSE). ``install()`` makes CreateRepository use, and create on first
use, the ``alias/aws/ecr`` key in moto's KMS backend of the same account and region, with
``KeyManager`` ``AWS``, so a DescribeKey on the repository's ARN answers as KMS does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

ECR_MANAGED_ALIAS = "alias/aws/ecr"
_ORIGINAL_ATTR = "_ecrcache_original_create_repository"
_lock = threading.Lock()


def aws_managed_key_arn(account_id: str, region: str) -> str:
    """The ARN of the account's AWS-managed key for ECR, created in moto's KMS on first use."""
    from moto.kms.models import kms_backends

    kms = kms_backends[account_id][region]
    for key in kms.keys.values():
        if ECR_MANAGED_ALIAS in key.aliases:
            return str(key.arn)
    key = kms.create_key(
        None,
        "ENCRYPT_DECRYPT",
        "SYMMETRIC_DEFAULT",
        "Default key that protects my ECR data when no other key is defined",
        None,
    )
    key.key_manager = "AWS"
    kms.create_alias(key.id, ECR_MANAGED_ALIAS)
    return str(key.arn)


def _with_default_key(backend: Any, config: dict[str, str] | None) -> dict[str, str] | None:
    if config and config.get("encryptionType") in ("KMS", "KMS_DSSE") and not config.get("kmsKey"):
        return {**config, "kmsKey": aws_managed_key_arn(backend.account_id, backend.region_name)}
    return config


def install() -> None:
    """Wrap moto's ``ECRBackend.create_repository``. Idempotent."""
    from moto.ecr.models import ECRBackend

    from ecrcache.sandbox import kms_pickling

    kms_pickling.install()  # the key it creates must survive the state file

    with _lock:
        if not hasattr(ECRBackend, _ORIGINAL_ATTR):
            setattr(ECRBackend, _ORIGINAL_ATTR, ECRBackend.create_repository)
        original: Callable[..., Any] = getattr(ECRBackend, _ORIGINAL_ATTR)

        def create_repository(
            self: Any,
            repository_name: str,
            registry_id: str | None,
            encryption_config: dict[str, str],
            *args: Any,
            **kwargs: Any,
        ) -> Any:
            config = _with_default_key(self, encryption_config)
            return original(self, repository_name, registry_id, config, *args, **kwargs)

        ECRBackend.create_repository = create_repository  # type: ignore[method-assign]
