"""CreateRepository and PutImageTagMutability checked as ECR checks them, server side.

botocore checks only minimum lengths client side, and only when parameter validation is on (the
AWS CLI, Terraform's Go SDK or a raw HTTP client can send anything), so ECR itself enforces the
model's constraints. moto 5.2 leaves them to botocore ("[This is handled by botocore]",
moto/ecr/models.py) and does not check the mutability/filter pairing on PutImageTagMutability.
From the botocore ECR model:
- ``KmsKey``: length 1 to 2048 (an empty ``kmsKey`` is refused, not read as "no key");
- ``EncryptionType``: AES256 | KMS | KMS_DSSE; a key only with KMS or KMS_DSSE;
- ``ImageTagMutabilityExclusionFilters``: 1 to 5 filters (an empty list is refused: a plain
  mutability is how filters are cleared); each ``filter`` ``^[0-9a-zA-Z._*-]{1,128}$``, type
  WILDCARD; filters go with a ``*_WITH_EXCLUSION`` mutability and only with one (the rule and
  wording moto applies to CreateRepository).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ecrcache.sandbox import constraints as c
from ecrcache.sandbox.exceptions import InvalidParameterException

KMS_KEY = c.Field("kmsKey", 1, 2048)
_CREATE_ATTR = "_ecrcache_unchecked_create_repository"
_PUT_ATTR = "_ecrcache_unchecked_put_image_tag_mutability"
_lock = threading.Lock()


def _check(field: c.Field, value: str | None) -> None:
    if value is not None and (problem := c.violation(field, value)):
        raise InvalidParameterException(problem)


def check_encryption(config: dict[str, str] | None) -> None:
    if not config:
        return
    _check(c.ENCRYPTION_TYPE, config.get("encryptionType", ""))
    key = config.get("kmsKey")
    _check(KMS_KEY, key)
    if key is not None and config.get("encryptionType") == "AES256":
        raise InvalidParameterException(
            "Invalid parameter at 'kmsKey' failed to satisfy constraint: "
            "'kmsKey can only be specified when encryptionType is KMS or KMS_DSSE'"
        )


def check_mutability(mutability: str | None, filters: list[dict[str, str]] | None) -> None:
    if filters is not None:
        if not c.EXCLUSION_FILTERS_MIN <= len(filters) <= c.EXCLUSION_FILTERS_MAX:
            raise InvalidParameterException(
                "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy "
                f"constraint: 'Member must have length between {c.EXCLUSION_FILTERS_MIN} and "
                f"{c.EXCLUSION_FILTERS_MAX}'"
            )
        for item in filters:
            _check(c.EXCLUSION_FILTER_TYPE, item.get("filterType") or "")
            _check(c.EXCLUSION_FILTER, item.get("filter") or "")
    from moto.ecr.models import ECRBackend

    ECRBackend.validate_image_tag_mutability_params_compatibility(
        mutability or "MUTABLE",
        filters,  # type: ignore[arg-type]
    )


def install() -> None:
    """Check requests before moto's CreateRepository and PutImageTagMutability. Idempotent."""
    from moto.ecr.models import ECRBackend

    with _lock:
        if not hasattr(ECRBackend, _CREATE_ATTR):
            setattr(ECRBackend, _CREATE_ATTR, ECRBackend.create_repository)
        if not hasattr(ECRBackend, _PUT_ATTR):
            setattr(ECRBackend, _PUT_ATTR, ECRBackend.put_image_tag_mutability)
        create: Callable[..., Any] = getattr(ECRBackend, _CREATE_ATTR)
        put: Callable[..., Any] = getattr(ECRBackend, _PUT_ATTR)

        def create_repository(
            self: Any,
            repository_name: str,
            registry_id: str | None,
            encryption_config: dict[str, str],
            image_scan_config: Any,
            image_tag_mutability: str,
            tags: list[dict[str, str]],
            image_tag_mutability_exclusion_filters: list[dict[str, str]] | None = None,
        ) -> Any:
            check_encryption(encryption_config)
            check_mutability(image_tag_mutability, image_tag_mutability_exclusion_filters)
            return create(
                self,
                repository_name,
                registry_id,
                encryption_config,
                image_scan_config,
                image_tag_mutability,
                tags,
                image_tag_mutability_exclusion_filters,
            )

        def put_image_tag_mutability(
            self: Any,
            registry_id: str,
            repository_name: str,
            image_tag_mutability: str,
            image_tag_mutability_exclusion_filters: list[dict[str, str]] | None = None,
        ) -> Any:
            check_mutability(image_tag_mutability, image_tag_mutability_exclusion_filters)
            return put(
                self,
                registry_id,
                repository_name,
                image_tag_mutability,
                image_tag_mutability_exclusion_filters,
            )

        setattr(ECRBackend, "create_repository", create_repository)  # noqa: B010
        setattr(ECRBackend, "put_image_tag_mutability", put_image_tag_mutability)  # noqa: B010
