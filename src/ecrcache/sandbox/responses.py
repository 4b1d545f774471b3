"""Request handlers for the added operations, bound onto moto's ``ECRResponse`` by ``install()``.

Each parses the request with moto's ``_get_param`` and returns an ``ActionResult``; moto then
serialises it through the botocore output shape, so only the model's members reach the client.
"""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.ecr.responses import ECRResponse


def create_pull_through_cache_rule(self: ECRResponse) -> ActionResult:
    rule = self.ecr_backend.create_pull_through_cache_rule(  # type: ignore[attr-defined]
        ecr_repository_prefix=self._get_param("ecrRepositoryPrefix"),
        upstream_registry_url=self._get_param("upstreamRegistryUrl"),
        registry_id=self._get_param("registryId"),
        upstream_registry=self._get_param("upstreamRegistry"),
        credential_arn=self._get_param("credentialArn"),
        custom_role_arn=self._get_param("customRoleArn"),
        upstream_repository_prefix=self._get_param("upstreamRepositoryPrefix"),
    )
    return ActionResult(rule)


def describe_pull_through_cache_rules(self: ECRResponse) -> ActionResult:
    rules, token = self.ecr_backend.describe_pull_through_cache_rules(  # type: ignore[attr-defined]
        registry_id=self._get_param("registryId"),
        ecr_repository_prefixes=self._get_param("ecrRepositoryPrefixes"),
        next_token=self._get_param("nextToken"),
        max_results=self._get_param("maxResults"),
    )
    return ActionResult({"pullThroughCacheRules": rules, "nextToken": token})


def update_pull_through_cache_rule(self: ECRResponse) -> ActionResult:
    rule = self.ecr_backend.update_pull_through_cache_rule(  # type: ignore[attr-defined]
        ecr_repository_prefix=self._get_param("ecrRepositoryPrefix"),
        registry_id=self._get_param("registryId"),
        credential_arn=self._get_param("credentialArn"),
        custom_role_arn=self._get_param("customRoleArn"),
    )
    return ActionResult(rule)


def delete_pull_through_cache_rule(self: ECRResponse) -> ActionResult:
    rule = self.ecr_backend.delete_pull_through_cache_rule(  # type: ignore[attr-defined]
        ecr_repository_prefix=self._get_param("ecrRepositoryPrefix"),
        registry_id=self._get_param("registryId"),
    )
    return ActionResult(rule)


def validate_pull_through_cache_rule(self: ECRResponse) -> ActionResult:
    result = self.ecr_backend.validate_pull_through_cache_rule(  # type: ignore[attr-defined]
        ecr_repository_prefix=self._get_param("ecrRepositoryPrefix"),
        registry_id=self._get_param("registryId"),
    )
    return ActionResult(result)


_TEMPLATE_PARAMS = {
    "description": "description",
    "encryption_configuration": "encryptionConfiguration",
    "resource_tags": "resourceTags",
    "image_tag_mutability": "imageTagMutability",
    "image_tag_mutability_exclusion_filters": "imageTagMutabilityExclusionFilters",
    "repository_policy": "repositoryPolicy",
    "lifecycle_policy": "lifecyclePolicy",
    "applied_for": "appliedFor",
    "custom_role_arn": "customRoleArn",
}


def _template_result(self: ECRResponse, template: object) -> ActionResult:
    return ActionResult(
        {"registryId": self.current_account, "repositoryCreationTemplate": template}
    )


def create_repository_creation_template(self: ECRResponse) -> ActionResult:
    kwargs = {name: self._get_param(param) for name, param in _TEMPLATE_PARAMS.items()}
    template = self.ecr_backend.create_repository_creation_template(  # type: ignore[attr-defined]
        prefix=self._get_param("prefix"), **kwargs
    )
    return _template_result(self, template)


def update_repository_creation_template(self: ECRResponse) -> ActionResult:
    kwargs = {name: self._get_param(param) for name, param in _TEMPLATE_PARAMS.items()}
    template = self.ecr_backend.update_repository_creation_template(  # type: ignore[attr-defined]
        prefix=self._get_param("prefix"), **kwargs
    )
    return _template_result(self, template)


def delete_repository_creation_template(self: ECRResponse) -> ActionResult:
    template = self.ecr_backend.delete_repository_creation_template(  # type: ignore[attr-defined]
        prefix=self._get_param("prefix")
    )
    return _template_result(self, template)


def describe_repository_creation_templates(self: ECRResponse) -> ActionResult:
    templates, token = self.ecr_backend.describe_repository_creation_templates(  # type: ignore[attr-defined]
        prefixes=self._get_param("prefixes"),
        next_token=self._get_param("nextToken"),
        max_results=self._get_param("maxResults"),
    )
    return ActionResult(
        {
            "registryId": self.current_account,
            "repositoryCreationTemplates": templates,
            "nextToken": token,
        }
    )
