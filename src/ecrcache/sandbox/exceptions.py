"""The ECR errors the extension raises, as moto ServiceExceptions (codes from the botocore model).

Messages follow ECR's wording where a public report quotes it; otherwise they are ours, in the
same style (``registry with id '...'``).
"""

from __future__ import annotations

from moto.core.exceptions import ServiceException


class InvalidParameterException(ServiceException):
    code = "InvalidParameterException"


class PullThroughCacheRuleAlreadyExistsException(ServiceException):
    code = "PullThroughCacheRuleAlreadyExistsException"

    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"A pull through cache rule with prefix '{prefix}' already exists "
            f"in the registry with id '{registry_id}'"
        )


class PullThroughCacheRuleNotFoundException(ServiceException):
    code = "PullThroughCacheRuleNotFoundException"

    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"The pull through cache rule with prefix '{prefix}' does not exist "
            f"in the registry with id '{registry_id}'"
        )


class LimitExceededException(ServiceException):
    code = "LimitExceededException"


class UnsupportedUpstreamRegistryException(ServiceException):
    code = "UnsupportedUpstreamRegistryException"


class SecretNotFoundException(ServiceException):
    code = "SecretNotFoundException"

    def __init__(self, credential_arn: str) -> None:
        super().__init__(
            f"The specified secret '{credential_arn}' could not be found in Secrets Manager"
        )


class TemplateAlreadyExistsException(ServiceException):
    code = "TemplateAlreadyExistsException"

    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"A repository creation template with prefix '{prefix}' already exists "
            f"in the registry with id '{registry_id}'"
        )


class TemplateNotFoundException(ServiceException):
    code = "TemplateNotFoundException"

    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"The repository creation template with prefix '{prefix}' does not exist "
            f"in the registry with id '{registry_id}'"
        )
