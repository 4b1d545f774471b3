"""Run a plan against the account: one handler per (kind, action), in the plan's order.

Handlers survive a lost response (AWS applied the call, botocore retried it): "already exists"
counts as done when the object read back is what the plan wanted, "already gone" counts as done,
and no retry creates a second object (``idempotent``). On a failure apply stops and the
ApplyError lists exactly what had been applied.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ecrcache.aws import Clients, aws_errors, error_code, translate
from ecrcache.errors import EXIT_INTERRUPTED, ApplyError, AwsError, EcrcacheError
from ecrcache.reconcile import idempotent
from ecrcache.reconcile.iam_propagation import (
    IAM_PROPAGATION_DELAYS,
    iam_identities,
    not_propagated,
    rejects_principal,
)
from ecrcache.reconcile.plan import Action, Change, Plan
from ecrcache.reconcile.resources import (
    MANAGED_TAGS,
    IamPolicy,
    RegistryPolicy,
    Repository,
    RepositorySettings,
    Rule,
    Scanning,
    Secret,
    Template,
)

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
            first = f"{exc.hint}. " if isinstance(exc, EcrcacheError) and exc.hint else ""
            err = ApplyError(
                f"{change.action.value} {change.address} {what}{detail}",
                hint=f"{first}applied before it stopped: {summary}. "
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


def _secret_race(exc: Exception) -> bool:
    return error_code(exc) in PROPAGATION_CODES


def _with_propagation_retry(
    ctx: ApplyContext,
    change: Change,
    doing: str,
    call: Callable[[], Any],
    *,
    retryable: Callable[[Exception], bool] = _secret_race,
    delays: tuple[float, ...] | None = None,
) -> Any:
    """Call, retrying only a propagation race (by default the secret's), with growing delays."""
    for delay in (*(PROPAGATION_DELAYS if delays is None else delays), None):
        try:
            return call()
        except Exception as exc:
            code = error_code(exc)
            if not retryable(exc) or delay is None:
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
    idempotent.create(
        lambda: _with_propagation_retry(
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
    _with_propagation_retry(
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


# --- creation templates -----------------------------------------------------------------------


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
        "resourceTags": _tag_list(t.resource_tags),
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
        params["resourceTags"] = _tag_list(t.resource_tags)
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
        out["imageTagMutabilityExclusionFilters"] = _filters(t.tag_mutability_exclusions)
    return out


def _tag_list(tags: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def _filters(patterns: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"filterType": "WILDCARD", "filter": f} for f in patterns]


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


# --- repositories (application repositories, and backfilled cache repositories) ------------------


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
        params["imageTagMutabilityExclusionFilters"] = _filters(excl)
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
        params["tags"] = _tag_list(r.tags)
    if r.tag_mutability_exclusions:
        params["imageTagMutabilityExclusionFilters"] = _filters(r.tag_mutability_exclusions)
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


# --- registry-wide settings and policies ---------------------------------------------------------


def update_scanning(ctx: ApplyContext, change: Change) -> None:
    want = change.after
    assert isinstance(want, Scanning)
    rules = [
        {"scanFrequency": r.frequency, "repositoryFilters": _filters(r.filters)} for r in want.rules
    ]
    with aws_errors("set the registry scanning configuration"):
        ctx.clients.ecr.put_registry_scanning_configuration(scanType=want.scan_type, rules=rules)


def put_registry_policy(ctx: ApplyContext, change: Change) -> None:
    """Write ecrcache's statements beside everybody else's, which stay exactly as they were."""
    want = change.after
    assert isinstance(want, RegistryPolicy)
    others = change.before.others if isinstance(change.before, RegistryPolicy) else ()
    statements = [json.loads(s) for s in (*others, *want.statements)]
    ecr = ctx.clients.ecr
    if not statements:
        idempotent.delete(
            ecr.delete_registry_policy,
            gone={"RegistryPolicyNotFoundException"},
            doing="delete the registry permissions policy",
        )
        return
    # no sort_keys: everybody else's statements go back exactly as they were read
    text = json.dumps({"Version": "2012-10-17", "Statement": statements})
    # A puller role created moments ago may not have reached ECR yet: retry while IAM catches up
    # (only when the policy names a role or user, the principals that can be "not found").
    principals = iam_identities(want.statements)
    try:
        _with_propagation_retry(
            ctx,
            change,
            "write the registry permissions policy",
            lambda: ecr.put_registry_policy(policyText=text),
            retryable=lambda exc: bool(principals) and _principal_rejected(exc),
            delays=IAM_PROPAGATION_DELAYS,
        )
    except AwsError as exc:
        if principals and rejects_principal(exc.aws_code, exc.message):
            raise not_propagated("registry permissions policy", principals, exc) from None
        raise


def _principal_rejected(exc: Exception) -> bool:
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))
    return rejects_principal(error_code(exc), message)


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


HANDLERS: dict[tuple[str, Action], Handler] = {
    ("secret", Action.CREATE): create_secret,
    ("secret", Action.UPDATE): update_secret,
    ("secret", Action.DELETE): delete_secret,
    ("rule", Action.CREATE): create_rule,
    ("rule", Action.UPDATE): update_rule,
    ("rule", Action.REPLACE): replace_rule,
    ("rule", Action.DELETE): delete_rule,
    ("iam-policy", Action.CREATE): create_iam_policy,
    ("iam-policy", Action.UPDATE): update_iam_policy,
    ("iam-policy", Action.DELETE): delete_iam_policy,
    ("template", Action.CREATE): create_template,
    ("template", Action.UPDATE): update_template,
    ("template", Action.DELETE): delete_template,
    ("repository", Action.CREATE): create_repository,
    ("repository", Action.UPDATE): update_repository,
    ("repository", Action.DELETE): delete_repository,
    ("repository-settings", Action.UPDATE): update_repository_settings,
    ("scanning", Action.UPDATE): update_scanning,
    ("registry-policy", Action.CREATE): put_registry_policy,
    ("registry-policy", Action.UPDATE): put_registry_policy,
}
