"""Handlers for pull-through cache rules (create, update, replace, delete)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecrcache.aws import aws_errors
from ecrcache.reconcile import idempotent
from ecrcache.reconcile.handlers.common import with_propagation_retry
from ecrcache.reconcile.plan import Change
from ecrcache.reconcile.resources import Rule

if TYPE_CHECKING:
    from ecrcache.reconcile.apply import ApplyContext


def _rule(obj: Any) -> Rule:
    assert isinstance(obj, Rule)
    return obj


def _credential_arn(ctx: ApplyContext, rule: Rule) -> str | None:
    if rule.credential is None:
        return None
    arn = ctx.secret_arns.get(rule.credential)
    if arn is None:
        with aws_errors(f"look up secret {rule.credential}"):
            arn = ctx.clients.secretsmanager.describe_secret(SecretId=rule.credential)["ARN"]
        ctx.secret_arns[rule.credential] = arn
    return arn


def create_rule(ctx: ApplyContext, change: Change) -> None:
    want = _rule(change.after)
    params: dict[str, Any] = {
        "ecrRepositoryPrefix": want.prefix,
        "upstreamRegistryUrl": want.url,
        "upstreamRegistry": want.upstream,
    }
    arn = _credential_arn(ctx, want)
    if arn is not None:
        params["credentialArn"] = arn
    if want.role_arn is not None:
        params["customRoleArn"] = want.role_arn
    if want.upstream_prefix != "ROOT":
        params["upstreamRepositoryPrefix"] = want.upstream_prefix
    doing = f"create rule {want.prefix}"
    idempotent.create(
        lambda: with_propagation_retry(
            ctx, change, doing, lambda: ctx.clients.ecr.create_pull_through_cache_rule(**params)
        ),
        kind="rule",
        want=want,
        exists={"PullThroughCacheRuleAlreadyExistsException"},
        read_back=lambda: idempotent.read_rule(ctx.clients, want.prefix, ctx.secret_arns),
        doing=doing,
    )


def update_rule(ctx: ApplyContext, change: Change) -> None:
    want = _rule(change.after)
    params: dict[str, Any] = {"ecrRepositoryPrefix": want.prefix}
    arn = _credential_arn(ctx, want)
    # The API refuses an update with neither ARN; send each one the rule should have.
    if arn is not None:
        params["credentialArn"] = arn
    if want.role_arn is not None:
        params["customRoleArn"] = want.role_arn
    with_propagation_retry(
        ctx,
        change,
        f"update rule {want.prefix}",
        lambda: ctx.clients.ecr.update_pull_through_cache_rule(**params),
    )


def delete_rule(ctx: ApplyContext, change: Change) -> None:
    have = _rule(change.before)
    idempotent.delete(
        lambda: ctx.clients.ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix=have.prefix),
        gone={"PullThroughCacheRuleNotFoundException"},
        doing=f"delete rule {have.prefix}",
    )


def replace_rule(ctx: ApplyContext, change: Change) -> None:
    delete_rule(ctx, change)
    create_rule(ctx, change)
