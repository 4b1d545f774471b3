"""Handlers for the Secrets Manager secrets that hold upstream registry credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrcache.aws import aws_errors
from ecrcache.reconcile import idempotent
from ecrcache.reconcile.plan import Change
from ecrcache.reconcile.resources import MANAGED_TAGS, Secret

if TYPE_CHECKING:
    from ecrcache.reconcile.apply import ApplyContext

SECRET_RECOVERY_DAYS = 30  # DeleteSecret's default: a deleted secret can be restored for 30 days


def _secret(change: Change) -> Secret:
    s = change.after if change.after is not None else change.before
    assert isinstance(s, Secret)
    return s


def create_secret(ctx: ApplyContext, change: Change) -> None:
    want = _secret(change)
    value = want.value
    assert value is not None
    sm = ctx.clients.secretsmanager
    # botocore's retry repeats the ClientRequestToken, which Secrets Manager ignores when the
    # value is the same; ResourceExistsException is a secret made by someone else meanwhile.
    resp = idempotent.create(
        lambda: sm.create_secret(
            Name=want.name,
            SecretString=value.reveal(),
            Description="Upstream registry credentials for an ECR pull-through cache rule",
            Tags=[{"Key": k, "Value": v} for k, v in (want.tags or MANAGED_TAGS)],
        ),
        kind="secret",
        want=want,
        exists={"ResourceExistsException"},
        read_back=lambda: idempotent.read_secret(ctx.clients, want.name),
        doing=f"create secret {want.name}",
    )
    if resp is not None:
        ctx.secret_arns[want.name] = resp["ARN"]


def update_secret(ctx: ApplyContext, change: Change) -> None:
    want = _secret(change)
    have = change.before
    assert isinstance(have, Secret)
    sm = ctx.clients.secretsmanager
    secret_id = have.arn or want.name
    names = {f.name for f in change.fields}
    with aws_errors(f"update secret {want.name}"):
        if "pending_deletion" in names:
            sm.restore_secret(SecretId=secret_id)
        if "value" in names:
            assert want.value is not None
            sm.put_secret_value(SecretId=secret_id, SecretString=want.value.reveal())
        if "tags" in names and want.tags:
            sm.tag_resource(SecretId=secret_id, Tags=[{"Key": k, "Value": v} for k, v in want.tags])


def delete_secret(ctx: ApplyContext, change: Change) -> None:
    have = _secret(change)
    secret_id = have.arn or have.name
    idempotent.delete(
        lambda: ctx.clients.secretsmanager.delete_secret(
            SecretId=secret_id, RecoveryWindowInDays=SECRET_RECOVERY_DAYS
        ),
        gone={"ResourceNotFoundException"},
        # a repeat meets the deletion the first attempt scheduled
        scheduled=(
            "InvalidRequestException",
            lambda: idempotent.secret_scheduled_for_deletion(ctx.clients, secret_id),
        ),
        doing=f"delete secret {have.name}",
    )
