"""Run a plan against the account: one handler per (kind, action), in the plan's order.

Handlers are idempotent where the API allows (a resource that already exists or is already gone
counts as done). On a failure apply stops and the ApplyError lists exactly what had been applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecrcache.aws import Clients, aws_errors, error_code, translate
from ecrcache.errors import EXIT_INTERRUPTED, ApplyError, AwsError, EcrcacheError
from ecrcache.plan import Action, Change, Plan
from ecrcache.resources import MANAGED_TAGS, Rule, Secret

log = logging.getLogger(__name__)

# Secrets Manager → ECR is eventually consistent: a rule created right after its secret can fail
# with SecretNotFoundException. botocore's retry modes do not retry that code, so we do, here only.
PROPAGATION_CODES = frozenset({"SecretNotFoundException", "UnableToAccessSecretException"})
PROPAGATION_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0)
SECRET_RECOVERY_DAYS = 30  # DeleteSecret's default: a deleted secret can be restored for 30 days


@dataclass(frozen=True)
class Applied:
    address: str
    action: str


@dataclass
class ApplyContext:
    clients: Clients
    account_id: str
    region: str
    # secret name -> ARN, seeded from live state and updated as secrets are created
    secret_arns: dict[str, str] = field(default_factory=dict)
    on_event: Callable[[str, Change], None] = lambda event, change: None


@dataclass(frozen=True)
class ApplyReport:
    applied: tuple[Applied, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"applied": [{"address": a.address, "action": a.action} for a in self.applied]}


Handler = Callable[[ApplyContext, Change], None]


def run(plan: Plan, ctx: ApplyContext) -> ApplyReport:
    """Apply every change in order. Deletes come after creates (the plan sorts them so)."""
    done: list[Applied] = []
    for change in plan.changes:
        handler = HANDLERS[(change.kind, change.action)]
        ctx.on_event("start", change)
        try:
            handler(ctx, change)
        except (EcrcacheError, KeyboardInterrupt) as exc:
            ctx.on_event("failed", change)
            applied = tuple(f"{a.action} {a.address}" for a in done)
            summary = ", ".join(applied) if applied else "nothing"
            what = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            detail = f": {exc.message}" if isinstance(exc, EcrcacheError) else ""
            err = ApplyError(
                f"{change.action.value} {change.address} {what}{detail}",
                hint=f"applied before it stopped: {summary}. "
                "Run apply again: it picks up where this stopped",
                applied=applied,
            )
            if isinstance(exc, KeyboardInterrupt):
                err.exit_code = EXIT_INTERRUPTED
            raise err from exc
        done.append(Applied(change.address, change.action.value))
        ctx.on_event("done", change)
    return ApplyReport(tuple(done))


# --- secrets ----------------------------------------------------------------------------------


def _secret(change: Change) -> Secret:
    s = change.after if change.after is not None else change.before
    assert isinstance(s, Secret)
    return s


def create_secret(ctx: ApplyContext, change: Change) -> None:
    want = _secret(change)
    assert want.value is not None
    sm = ctx.clients.secretsmanager
    try:
        resp = sm.create_secret(
            Name=want.name,
            SecretString=want.value.reveal(),
            Description="Upstream registry credentials for an ECR pull-through cache rule",
            Tags=[{"Key": k, "Value": v} for k, v in (want.tags or MANAGED_TAGS)],
        )
        ctx.secret_arns[want.name] = resp["ARN"]
    except Exception as exc:
        if error_code(exc) != "ResourceExistsException":
            raise translate(exc, f"create secret {want.name}") from None
        # Created by an earlier, interrupted apply: make it match instead.
        with aws_errors(f"update secret {want.name}"):
            arn = sm.describe_secret(SecretId=want.name)["ARN"]
            sm.put_secret_value(SecretId=arn, SecretString=want.value.reveal())
        ctx.secret_arns[want.name] = arn


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
    try:
        ctx.clients.secretsmanager.delete_secret(
            SecretId=have.arn or have.name, RecoveryWindowInDays=SECRET_RECOVERY_DAYS
        )
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise translate(exc, f"delete secret {have.name}") from None


# --- rules ------------------------------------------------------------------------------------


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


def _with_propagation_retry(
    ctx: ApplyContext, change: Change, doing: str, call: Callable[[], Any]
) -> Any:
    """Call, retrying only the secret-propagation race, with growing delays."""
    for delay in (*PROPAGATION_DELAYS, None):
        try:
            return call()
        except Exception as exc:
            code = error_code(exc)
            if code not in PROPAGATION_CODES or delay is None:
                raise translate(exc, doing) from None
            log.debug("%s: %s, retrying in %.0fs", doing, code, delay)
            ctx.on_event("retry", change)
            ctx.clients.sleep(delay)
    raise AssertionError("unreachable")


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
    try:
        _with_propagation_retry(
            ctx, change, doing, lambda: ctx.clients.ecr.create_pull_through_cache_rule(**params)
        )
    except AwsError as exc:
        # An interrupted earlier apply may have created it already; the next plan shows any
        # difference, so treat "already exists" with the same settings as done.
        if exc.aws_code != "PullThroughCacheRuleAlreadyExistsException":
            raise


def update_rule(ctx: ApplyContext, change: Change) -> None:
    want = _rule(change.after)
    params: dict[str, Any] = {"ecrRepositoryPrefix": want.prefix}
    arn = _credential_arn(ctx, want)
    # The API refuses an update with neither ARN; send each one the rule should have.
    if arn is not None:
        params["credentialArn"] = arn
    if want.role_arn is not None:
        params["customRoleArn"] = want.role_arn
    _with_propagation_retry(
        ctx,
        change,
        f"update rule {want.prefix}",
        lambda: ctx.clients.ecr.update_pull_through_cache_rule(**params),
    )


def delete_rule(ctx: ApplyContext, change: Change) -> None:
    have = _rule(change.before)
    try:
        ctx.clients.ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix=have.prefix)
    except Exception as exc:
        if error_code(exc) != "PullThroughCacheRuleNotFoundException":
            raise translate(exc, f"delete rule {have.prefix}") from None


def replace_rule(ctx: ApplyContext, change: Change) -> None:
    delete_rule(ctx, change)
    create_rule(ctx, change)


HANDLERS: dict[tuple[str, Action], Handler] = {
    ("secret", Action.CREATE): create_secret,
    ("secret", Action.UPDATE): update_secret,
    ("secret", Action.DELETE): delete_secret,
    ("rule", Action.CREATE): create_rule,
    ("rule", Action.UPDATE): update_rule,
    ("rule", Action.REPLACE): replace_rule,
    ("rule", Action.DELETE): delete_rule,
}
