"""Handlers for the CI policy, an IAM managed policy (its versions included)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrcache.aws import aws_errors
from ecrcache.reconcile import idempotent
from ecrcache.reconcile.plan import Change
from ecrcache.reconcile.resources import IamPolicy

if TYPE_CHECKING:
    from ecrcache.reconcile.apply import ApplyContext

MAX_POLICY_VERSIONS = 5  # IAM keeps at most five versions of a managed policy


def create_iam_policy(ctx: ApplyContext, change: Change) -> None:
    p = change.after
    assert isinstance(p, IamPolicy)
    idempotent.create(
        lambda: ctx.clients.iam.create_policy(
            PolicyName=p.name,
            PolicyDocument=p.document,
            Description="ecrcache: least privilege for CI/CD on the ECR pull-through cache",
            Tags=[{"Key": k, "Value": v} for k, v in p.tags],
        ),
        kind="iam-policy",
        want=p,
        exists={"EntityAlreadyExists"},
        read_back=lambda: idempotent.read_iam_policy(ctx.clients, p.name),
        doing=f"create IAM policy {p.name}",
    )


def update_iam_policy(ctx: ApplyContext, change: Change) -> None:
    want, have = change.after, change.before
    assert isinstance(want, IamPolicy) and isinstance(have, IamPolicy) and have.arn
    iam = ctx.clients.iam
    names = {f.name for f in change.fields}
    doing = f"update IAM policy {want.name}"
    with aws_errors(doing):
        if "document" in names:
            # Make room: the oldest non-default version goes when all five are used.
            stale = len(have.versions) + 1 - (MAX_POLICY_VERSIONS - 1)
            for version in have.versions[: max(stale, 0)]:
                _delete_policy_version(ctx, have.arn, version, doing)
            # Not idempotent (no token): a retry after a lost response would add a second
            # version, so no retry; read the default version back instead.
            arn = have.arn
            idempotent.create_once(
                lambda: ctx.clients.iam_single_attempt.create_policy_version(
                    PolicyArn=arn, PolicyDocument=want.document, SetAsDefault=True
                ),
                landed=lambda: _default_document_is(ctx, want),
                doing=doing,
                sleep=ctx.clients.sleep,
            )
        if "tags" in names:
            iam.tag_policy(PolicyArn=have.arn, Tags=[{"Key": k, "Value": v} for k, v in want.tags])


def delete_iam_policy(ctx: ApplyContext, change: Change) -> None:
    have = change.before
    assert isinstance(have, IamPolicy) and have.arn
    arn = have.arn
    doing = f"delete IAM policy {have.name}"
    for version in have.versions:  # IAM refuses to delete a policy with other versions left
        _delete_policy_version(ctx, arn, version, doing)
    idempotent.delete(
        lambda: ctx.clients.iam.delete_policy(PolicyArn=arn), gone={"NoSuchEntity"}, doing=doing
    )


def _delete_policy_version(ctx: ApplyContext, arn: str, version: str, doing: str) -> None:
    idempotent.delete(
        lambda: ctx.clients.iam.delete_policy_version(PolicyArn=arn, VersionId=version),
        gone={"NoSuchEntity"},
        doing=doing,
    )


def _default_document_is(ctx: ApplyContext, want: IamPolicy) -> bool:
    have = idempotent.read_iam_policy(ctx.clients, want.name)
    return have is not None and have.document == want.document
