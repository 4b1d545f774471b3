"""Handlers for repository creation templates, and the requests they send."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecrcache.aws import aws_errors
from ecrcache.reconcile import idempotent
from ecrcache.reconcile.handlers.common import filters, tag_list
from ecrcache.reconcile.plan import Change
from ecrcache.reconcile.resources import Template

if TYPE_CHECKING:
    from ecrcache.reconcile.apply import ApplyContext


def _template_params(t: Template) -> dict[str, Any]:
    """CreateRepositoryCreationTemplate's request: only the members the template sets, no empty
    strings or lists (an empty customRoleArn names no role; the Terraform AWS provider's create,
    too, sends only what is set)."""
    params: dict[str, Any] = {
        "prefix": t.prefix,
        "encryptionConfiguration": _template_encryption(t),
        "appliedFor": list(t.applied_for),
        **_template_mutability(t),
    }
    optional = {
        "description": t.description,
        "resourceTags": tag_list(t.resource_tags),
        "repositoryPolicy": t.repository_policy,
        "lifecyclePolicy": t.lifecycle_policy,
        "customRoleArn": t.role_arn,
    }
    params.update({k: v for k, v in optional.items() if v})
    return params


def _template_update_params(t: Template, changed: set[str]) -> dict[str, Any]:
    """UpdateRepositoryCreationTemplate's request: the members that changed, an empty value where
    one is removed (the model allows "" for description, policies and customRoleArn, and [] for
    resourceTags). Update keeps what a request leaves out, so "" for customRoleArn only when a
    role is being removed. The mutability always goes, with its filters: an exclusion filter list
    cannot be sent empty (the model's minimum is 1), so a plain mutability is what clears them."""
    params: dict[str, Any] = {"prefix": t.prefix, **_template_mutability(t)}
    if "description" in changed:
        params["description"] = t.description or ""
    if changed & {"encryption", "kms_key"}:
        params["encryptionConfiguration"] = _template_encryption(t)
    if "resource_tags" in changed:
        params["resourceTags"] = tag_list(t.resource_tags)
    if "repository_policy" in changed:
        params["repositoryPolicy"] = t.repository_policy or ""
    if "lifecycle_policy" in changed:
        params["lifecyclePolicy"] = t.lifecycle_policy or ""
    if "applied_for" in changed:
        params["appliedFor"] = list(t.applied_for)
    if "role_arn" in changed:
        params["customRoleArn"] = t.role_arn or ""
    return params


def _template_encryption(t: Template) -> dict[str, Any]:
    enc: dict[str, Any] = {"encryptionType": t.encryption}
    if t.kms_key:
        enc["kmsKey"] = t.kms_key
    return enc


def _template_mutability(t: Template) -> dict[str, Any]:
    out: dict[str, Any] = {"imageTagMutability": t.tag_mutability}
    if t.tag_mutability_exclusions:
        out["imageTagMutabilityExclusionFilters"] = filters(t.tag_mutability_exclusions)
    return out


def create_template(ctx: ApplyContext, change: Change) -> None:
    t = change.after
    assert isinstance(t, Template)
    params = _template_params(t)
    idempotent.create(
        lambda: ctx.clients.ecr.create_repository_creation_template(**params),
        kind="template",
        want=t,
        exists={"TemplateAlreadyExistsException"},
        read_back=lambda: idempotent.read_template(ctx.clients, t.prefix),
        doing=f"create template {t.prefix}",
    )


def update_template(ctx: ApplyContext, change: Change) -> None:
    t = change.after
    assert isinstance(t, Template)
    params = _template_update_params(t, {f.name for f in change.fields})
    with aws_errors(f"update template {t.prefix}"):
        ctx.clients.ecr.update_repository_creation_template(**params)


def delete_template(ctx: ApplyContext, change: Change) -> None:
    t = change.before
    assert isinstance(t, Template)
    idempotent.delete(
        lambda: ctx.clients.ecr.delete_repository_creation_template(prefix=t.prefix),
        gone={"TemplateNotFoundException"},
        doing=f"delete template {t.prefix}",
    )
