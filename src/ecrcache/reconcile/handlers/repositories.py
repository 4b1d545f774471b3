"""Handlers for application repositories and the settings backfilled onto cache repositories."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ecrcache.aws import aws_errors
from ecrcache.reconcile import idempotent
from ecrcache.reconcile.handlers.common import filters, tag_list
from ecrcache.reconcile.plan import Change
from ecrcache.reconcile.resources import Repository, RepositorySettings

if TYPE_CHECKING:
    from ecrcache.reconcile.apply import ApplyContext


def _put_lifecycle(ctx: ApplyContext, name: str, policy: str | None) -> None:
    ecr = ctx.clients.ecr
    if policy:
        ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=policy)
        return
    idempotent.delete(
        lambda: ecr.delete_lifecycle_policy(repositoryName=name),
        gone={"LifecyclePolicyNotFoundException"},
        doing=f"delete the lifecycle policy of {name}",
    )


def _put_mutability(ctx: ApplyContext, name: str, mutability: str, excl: tuple[str, ...]) -> None:
    params: dict[str, Any] = {"repositoryName": name, "imageTagMutability": mutability}
    if excl:
        params["imageTagMutabilityExclusionFilters"] = filters(excl)
    ctx.clients.ecr.put_image_tag_mutability(**params)


def create_repository(ctx: ApplyContext, change: Change) -> None:
    r = change.after
    assert isinstance(r, Repository)
    enc: dict[str, Any] = {"encryptionType": r.encryption}
    if r.kms_key:
        enc["kmsKey"] = r.kms_key
    params: dict[str, Any] = {
        "repositoryName": r.name,
        "imageTagMutability": r.tag_mutability,
        "imageScanningConfiguration": {"scanOnPush": r.scan_on_push},
        "encryptionConfiguration": enc,
    }
    if r.tags:  # no empty list on create
        params["tags"] = tag_list(r.tags)
    if r.tag_mutability_exclusions:
        params["imageTagMutabilityExclusionFilters"] = filters(r.tag_mutability_exclusions)
    doing = f"create repository {r.name}"
    # The lifecycle policy is put next whatever the repository has now: compare the rest.
    idempotent.create(
        lambda: ctx.clients.ecr.create_repository(**params),
        kind="repository",
        want=replace(r, lifecycle_policy=None),
        exists={"RepositoryAlreadyExistsException"},
        read_back=lambda: _without_lifecycle(idempotent.read_repository(ctx.clients, r.name)),
        doing=doing,
    )
    with aws_errors(doing):
        if r.lifecycle_policy:
            _put_lifecycle(ctx, r.name, r.lifecycle_policy)


def _without_lifecycle(r: Repository | None) -> Repository | None:
    return replace(r, lifecycle_policy=None) if r is not None else None


def update_repository(ctx: ApplyContext, change: Change) -> None:
    want, have = change.after, change.before
    assert isinstance(want, Repository) and isinstance(have, Repository)
    names = {f.name for f in change.fields}
    ecr = ctx.clients.ecr
    with aws_errors(f"update repository {want.name}"):
        if names & {"tag_mutability", "tag_mutability_exclusions"}:
            _put_mutability(ctx, want.name, want.tag_mutability, want.tag_mutability_exclusions)
        if "scan_on_push" in names:
            ecr.put_image_scanning_configuration(
                repositoryName=want.name,
                imageScanningConfiguration={"scanOnPush": want.scan_on_push},
            )
        if "lifecycle_policy" in names:
            _put_lifecycle(ctx, want.name, want.lifecycle_policy)
        if "tags" in names:
            arn = ecr.describe_repositories(repositoryNames=[want.name])["repositories"][0][
                "repositoryArn"
            ]
            gone = sorted(set(dict(have.tags)) - set(dict(want.tags)))
            if gone:
                ecr.untag_resource(resourceArn=arn, tagKeys=gone)
            ecr.tag_resource(resourceArn=arn, tags=[{"Key": k, "Value": v} for k, v in want.tags])


def delete_repository(ctx: ApplyContext, change: Change) -> None:
    r = change.before
    assert isinstance(r, Repository)
    idempotent.delete(
        # force only when the plan counted images and --delete-images allowed it
        lambda: ctx.clients.ecr.delete_repository(repositoryName=r.name, force=r.image_count > 0),
        gone={"RepositoryNotFoundException"},
        doing=f"delete repository {r.name}",
    )


def update_repository_settings(ctx: ApplyContext, change: Change) -> None:
    want = change.after
    assert isinstance(want, RepositorySettings)
    names = {f.name for f in change.fields}
    with aws_errors(f"backfill repository {want.name}"):
        if "lifecycle_policy" in names:
            _put_lifecycle(ctx, want.name, want.lifecycle_policy)
        if names & {"tag_mutability", "tag_mutability_exclusions"}:
            _put_mutability(ctx, want.name, want.tag_mutability, want.tag_mutability_exclusions)
