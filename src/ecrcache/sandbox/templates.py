"""Repository creation templates for moto's ECR backend (bound as methods by ``install()``).

Templates have no registryId parameter (model): they belong to the caller's registry.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from moto.core.common_models import BaseModel
from moto.core.exceptions import InvalidToken
from moto.core.utils import utcnow
from moto.ecr.models import ECRBackend

from ecrcache.sandbox import constraints as c
from ecrcache.sandbox.exceptions import (
    InvalidParameterException,
    TemplateAlreadyExistsException,
    TemplateNotFoundException,
)
from ecrcache.sandbox.lifecycle_form import ecr_form
from ecrcache.sandbox.models import _page_templates, check, check_max_results, invalid_next_token

# Tag limits from the user guide (the model sets none); 50 tags is ECR's repository limit.
_TAG_KEY_MAX, _TAG_VALUE_MAX, _TAGS_MAX = 128, 256, 50


class RepositoryCreationTemplate(BaseModel):
    """One template; attribute names are the model's members in snake_case."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.description: str | None = None
        self.encryption_configuration: dict[str, str] = {"encryptionType": "AES256"}
        self.resource_tags: list[dict[str, str]] = []
        self.image_tag_mutability = "MUTABLE"
        self.image_tag_mutability_exclusion_filters: list[dict[str, str]] | None = None
        self.repository_policy: str | None = None
        self.lifecycle_policy: str | None = None
        self.applied_for: list[str] = []
        self.custom_role_arn: str | None = None
        self.created_at: datetime = utcnow()
        self.updated_at: datetime = self.created_at


def templates_of(backend: ECRBackend) -> dict[str, RepositoryCreationTemplate]:
    """The backend's templates keyed by prefix without a trailing '/' (created on first use)."""
    templates: dict[str, RepositoryCreationTemplate] = backend.__dict__.setdefault(
        "repository_creation_templates", {}
    )
    return templates


def _invalid(member: str, reason: str) -> InvalidParameterException:
    return InvalidParameterException(
        f"Invalid parameter at '{member}' failed to satisfy constraint: '{reason}'"
    )


def _check_encryption(config: dict[str, Any] | None) -> None:
    if config is None:
        return
    if "encryptionType" not in config:
        raise _invalid("encryptionType", "Member must not be null")
    check(c.ENCRYPTION_TYPE, config["encryptionType"])
    kms_key = config.get("kmsKey")
    check(c.KMS_KEY, kms_key)
    if kms_key and config["encryptionType"] == "AES256":
        # Inferred from CreateRepository's rule; not confirmed for templates.
        raise _invalid(
            "kmsKey", "kmsKey can only be specified when encryptionType is KMS or KMS_DSSE"
        )


def _check_tags(tags: list[dict[str, str]] | None) -> None:
    if tags is None:
        return
    if len(tags) > _TAGS_MAX:
        raise _invalid("resourceTags", f"Member must have length less than or equal to {_TAGS_MAX}")
    for tag in tags:
        key, value = tag.get("Key"), tag.get("Value")
        if not key or len(key) > _TAG_KEY_MAX:
            raise _invalid(
                "resourceTags.Key", f"Member must have length between 1 and {_TAG_KEY_MAX}"
            )
        if value is None or len(value) > _TAG_VALUE_MAX:
            raise _invalid(
                "resourceTags.Value",
                f"Member must have length less than or equal to {_TAG_VALUE_MAX}",
            )


def _check_mutability(mutability: str | None, filters: list[dict[str, str]] | None) -> None:
    check(c.IMAGE_TAG_MUTABILITY, mutability)
    if filters is not None:
        if not c.EXCLUSION_FILTERS_MIN <= len(filters) <= c.EXCLUSION_FILTERS_MAX:
            raise _invalid(
                "imageTagMutabilityExclusionFilters",
                f"Member must have length between {c.EXCLUSION_FILTERS_MIN} and "
                f"{c.EXCLUSION_FILTERS_MAX}",
            )
        for item in filters:
            check(c.EXCLUSION_FILTER_TYPE, item.get("filterType") or "")
            check(c.EXCLUSION_FILTER, item.get("filter") or "")
    mutability = mutability or "MUTABLE"
    with_exclusion = mutability.endswith("_WITH_EXCLUSION")
    if with_exclusion != (filters is not None):
        # The rule (and wording) moto applies to CreateRepository.
        reason = (
            f"ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as "
            f"{mutability}"
            if with_exclusion
            else f"ImageTagMutabilityExclusionFilters need imageTagMutability "
            f"{mutability}_WITH_EXCLUSION"
        )
        raise _invalid("imageTagMutabilityExclusionFilters", reason)


def _check_json(field: c.Field, text: str | None) -> None:
    check(field, text)
    if text:
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise _invalid(field.name, "Member must be a valid JSON policy document")


def _check_lifecycle(text: str | None) -> None:
    # ECR checks a template's lifecycle rules as PutLifecyclePolicy does, without its 100-character
    # minimum (an empty text clears it).
    from ecrcache.policy.lifecycle import check_policy

    if text:
        problems = check_policy(text, min_chars=0)
        if problems:
            raise _invalid("lifecyclePolicy", f"Lifecycle policy validation failure: {problems[0]}")


def _check_applied_for(applied_for: list[str] | None, *, required: bool) -> None:
    if applied_for is None:
        if required:
            raise _invalid("appliedFor", "Member must not be null")
        return
    if not applied_for:
        # The model sets no minimum; an empty list would make a template that applies to nothing.
        raise _invalid("appliedFor", "Member must have length greater than or equal to 1")
    for item in applied_for:
        check(c.APPLIED_FOR_ITEM, item)


def _validate(fields: dict[str, Any], *, create: bool) -> None:
    check(c.DESCRIPTION, fields.get("description"))
    _check_encryption(fields.get("encryption_configuration"))
    _check_tags(fields.get("resource_tags"))
    if (
        create
        or "image_tag_mutability" in fields
        or "image_tag_mutability_exclusion_filters" in fields
    ):
        _check_mutability(
            fields.get("image_tag_mutability"), fields.get("image_tag_mutability_exclusion_filters")
        )
    _check_json(c.REPOSITORY_POLICY, fields.get("repository_policy"))
    _check_json(c.LIFECYCLE_POLICY, fields.get("lifecycle_policy"))
    _check_lifecycle(fields.get("lifecycle_policy"))
    _check_applied_for(fields.get("applied_for"), required=create)
    check(c.CUSTOM_ROLE_ARN, fields.get("custom_role_arn"))


def _apply(template: RepositoryCreationTemplate, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if value is not None:
            setattr(template, name, value)
    if template.lifecycle_policy:
        template.lifecycle_policy = ecr_form(template.lifecycle_policy)  # as ECR returns it
    if not str(template.image_tag_mutability).endswith("_WITH_EXCLUSION"):
        # Omitted members keep their value, but filters cannot outlive a plain mutability: sending
        # one is how they are cleared (the model refuses an empty filter list).
        template.image_tag_mutability_exclusion_filters = None


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def create_repository_creation_template(
    self: ECRBackend,
    prefix: str,
    applied_for: list[str] | None,
    description: str | None = None,
    encryption_configuration: dict[str, str] | None = None,
    resource_tags: list[dict[str, str]] | None = None,
    image_tag_mutability: str | None = None,
    image_tag_mutability_exclusion_filters: list[dict[str, str]] | None = None,
    repository_policy: str | None = None,
    lifecycle_policy: str | None = None,
    custom_role_arn: str | None = None,
) -> RepositoryCreationTemplate:
    check(c.TEMPLATE_PREFIX, prefix)
    fields = _given(
        description=description,
        encryption_configuration=encryption_configuration,
        resource_tags=resource_tags,
        image_tag_mutability=image_tag_mutability,
        image_tag_mutability_exclusion_filters=image_tag_mutability_exclusion_filters,
        repository_policy=repository_policy,
        lifecycle_policy=lifecycle_policy,
        applied_for=applied_for,
        custom_role_arn=custom_role_arn,
    )
    _validate(fields, create=True)
    templates = templates_of(self)
    key = prefix.rstrip("/")
    if key in templates:
        raise TemplateAlreadyExistsException(prefix, self.account_id)
    template = RepositoryCreationTemplate(prefix)
    _apply(template, fields)
    templates[key] = template
    return template


def describe_repository_creation_templates(
    self: ECRBackend,
    prefixes: list[str] | None = None,
    next_token: str | None = None,
    max_results: int | None = None,
) -> tuple[list[RepositoryCreationTemplate], str | None]:
    """Templates in creation order. A missing prefix in the filter is skipped: unlike
    DescribePullThroughCacheRules, the model lists no not-found error for this operation."""
    check_max_results(max_results)
    for prefix in prefixes or ():
        check(c.TEMPLATE_PREFIX, prefix)
    wanted = {p.rstrip("/") for p in prefixes} if prefixes else None
    selected = [t for k, t in templates_of(self).items() if wanted is None or k in wanted]
    try:
        return _page_templates(
            selected, filters=sorted(wanted or ()), next_token=next_token, max_results=max_results
        )
    except InvalidToken as exc:
        raise invalid_next_token() from exc


def _get_template(backend: ECRBackend, prefix: str) -> RepositoryCreationTemplate:
    check(c.TEMPLATE_PREFIX, prefix)
    template = templates_of(backend).get(prefix.rstrip("/"))
    if template is None:
        raise TemplateNotFoundException(prefix, backend.account_id)
    return template


def update_repository_creation_template(
    self: ECRBackend,
    prefix: str,
    applied_for: list[str] | None = None,
    description: str | None = None,
    encryption_configuration: dict[str, str] | None = None,
    resource_tags: list[dict[str, str]] | None = None,
    image_tag_mutability: str | None = None,
    image_tag_mutability_exclusion_filters: list[dict[str, str]] | None = None,
    repository_policy: str | None = None,
    lifecycle_policy: str | None = None,
    custom_role_arn: str | None = None,
) -> RepositoryCreationTemplate:
    """Changes the members the request names and keeps the others, as the Terraform AWS provider
    relies on (its update sends only the changed members, internal/service/ecr/
    repository_creation_template.go); a plain mutability clears the exclusion filters. ECR's docs
    do not say more. updatedAt is set."""
    template = _get_template(self, prefix)
    fields = _given(
        description=description,
        encryption_configuration=encryption_configuration,
        resource_tags=resource_tags,
        image_tag_mutability=image_tag_mutability,
        image_tag_mutability_exclusion_filters=image_tag_mutability_exclusion_filters,
        repository_policy=repository_policy,
        lifecycle_policy=lifecycle_policy,
        applied_for=applied_for,
        custom_role_arn=custom_role_arn,
    )
    # An omitted member keeps its value (validated as the pair the template will hold).
    if "image_tag_mutability_exclusion_filters" in fields and "image_tag_mutability" not in fields:
        fields["image_tag_mutability"] = template.image_tag_mutability
    if (
        str(fields.get("image_tag_mutability", "")).endswith("_WITH_EXCLUSION")
        and "image_tag_mutability_exclusion_filters" not in fields
        and template.image_tag_mutability_exclusion_filters
    ):
        fields["image_tag_mutability_exclusion_filters"] = (
            template.image_tag_mutability_exclusion_filters
        )
    _validate(fields, create=False)
    _apply(template, fields)
    template.updated_at = utcnow()
    return template


def delete_repository_creation_template(
    self: ECRBackend, prefix: str
) -> RepositoryCreationTemplate:
    template = _get_template(self, prefix)
    del templates_of(self)[template.prefix.rstrip("/")]
    return template
