"""Can the configured pullers make a first pull through the cache? (ECR-FACTS §5, §8.1-3)

Evaluated by ecrcache itself (``ecrcache.policy.iam``) with the actions the permissions table
lists for ``pull.first``, from the principal's identity policies and the resource side: the
registry policy plus the repository policy the covering creation template gives new
repositories. AmazonEC2ContainerRegistryReadOnly grants neither BatchImportUpstreamImage nor
CreateRepository, so the usual node role can read the cache but never fill it; a puller in
another account also needs the pull actions granted on the repository side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ecrcache.doctor.checks_templates import covering
from ecrcache.doctor.env import Env
from ecrcache.doctor.fixes import compact_json, toml_key
from ecrcache.doctor.iam import Principal, PrincipalNotFound, identity_policies
from ecrcache.doctor.model import (
    ECR_GATE,
    Finding,
    Fix,
    Need,
    Severity,
    check,
    passed,
    problem,
    skipped,
    warning,
)
from ecrcache.policy.iam import Outcome, evaluate
from ecrcache.policy.permissions import REGISTRY_POLICY_ACTIONS, Scope, permissions_for
from ecrcache.policy.policies import cache_repositories_arn

PROBE_REPOSITORY = "doctor-probe/image"  # any name under the prefix: ECR grants per repository
# Docker calls it before pulling layers; containerd (EKS nodes) does not, and the EKS node
# policy AmazonEC2ContainerRegistryPullOnly lacks it: missing it alone is only noted.
DOCKER_ONLY = frozenset({"ecr:BatchCheckLayerAvailability"})
_ALLOW_ALL = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass
class _Verdict:
    """What one principal may not do, and why."""

    principal: Principal
    text: str
    cache: set[str] = field(default_factory=set)  # registry-policy actions denied
    pull: set[str] = field(default_factory=set)  # pull actions denied
    docker_only: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    own_policies_read: bool = False
    unsure: set[str] = field(default_factory=set)


def _resource_policy(env: Env, prefix: str) -> dict[str, Any] | None:
    """The registry policy and the covering template's repository policy, as one document."""
    from ecrcache.config.upstreams import partition

    statements: list[Any] = []
    for doc, repository in (
        (env.live.registry_policy, False),
        (_template_policy(env, prefix), True),
    ):
        st = (doc or {}).get("Statement", [])
        for statement in st if isinstance(st, list) else [st]:
            if repository and "Resource" not in statement:
                # a repository policy's resource is the repository itself
                statement = {
                    **statement,
                    "Resource": cache_repositories_arn(
                        partition=partition(env.region),
                        account_id=env.live.account_id,
                        region=env.region,
                        prefix=prefix,
                    ),
                }
            statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def _template_policy(env: Env, prefix: str) -> dict[str, Any] | None:
    templates = {t.prefix: t for t in env.live.templates if "PULL_THROUGH_CACHE" in t.applied_for}
    t = covering(templates, prefix)
    return json.loads(t.repository_policy) if t is not None and t.repository_policy else None


def _judge(env: Env, text: str, prefixes: list[str]) -> _Verdict:
    from ecrcache.config.upstreams import partition

    part, account, region = partition(env.region), env.live.account_id, env.region
    p = Principal.parse(text, partition=part)
    v = _Verdict(p, text)
    names: list[str] = []
    docs: list[dict[str, Any]] = []
    if p.account != account or p.kind == "account":
        docs = [_ALLOW_ALL]  # its own account's IAM policies: not ours to read
        v.notes.append(f"{text}: assumed its own account's IAM policies allow the pull")
    else:
        try:
            found = identity_policies(env.live.clients, p)
            v.own_policies_read = True
        except PrincipalNotFound:
            v.notes.append(f"{text}: not found in account {account}: pull actions not checked")
            found = []
        names, docs = [n for n, _ in found], [d for _, d in found]
    for perm in permissions_for("pull.first"):
        for action in perm.actions:
            unknown_identity = not v.own_policies_read and p.account == account
            if unknown_identity and p.kind != "account" and action not in REGISTRY_POLICY_ACTIONS:
                continue  # the principal's own policies are unknown: judge the registry side
            for prefix in ["*"] if perm.scope is Scope.ANY else prefixes:
                name = (
                    PROBE_REPOSITORY if prefix in ("*", "ROOT") else f"{prefix}/{PROBE_REPOSITORY}"
                )
                resource = (
                    "*" if prefix == "*" else f"arn:{part}:ecr:{region}:{account}:repository/{name}"
                )
                policy = _resource_policy(env, prefixes[0] if prefix == "*" else prefix)
                d = evaluate(
                    action,
                    resource,
                    identity_policies=docs,
                    resource_policy=policy,
                    principal_arn=p.arn,
                )
                if d.allowed:
                    if not d.certain:
                        v.unsure.add(action)
                    continue
                if action in DOCKER_ONLY:
                    v.docker_only.add(action)
                elif action in REGISTRY_POLICY_ACTIONS:
                    v.cache.add(action)
                else:
                    v.pull.add(action)
                if d.outcome is Outcome.EXPLICIT_DENY and d.decided_by is not None:
                    ref = d.decided_by
                    where = (
                        "the registry or repository policy"
                        if ref.source == "resource"
                        else f"policy {names[int(ref.source[9:-1])]}"
                    )
                    v.notes.append(
                        f"{text}: {action} denied by {where} (statement {ref.sid or ref.index})"
                    )
    return v


@check(
    "pullers.first-pull",
    "Pullers can make a first pull",
    Severity.ERROR,
    why="a first pull needs ecr:BatchImportUpstreamImage and ecr:CreateRepository, which "
    "AmazonEC2ContainerRegistryReadOnly lacks: nodes get ImagePullBackOff",
    needs=(Need.CONFIG, Need.AWS),
    after=ECR_GATE,
)
def first_pull(env: Env) -> Finding:
    config = env.require_config()
    account = env.live.account_id
    principals = config.pullers.principals if config.pullers else ()
    if not principals:
        return warning(
            "no [pullers] in the config: doctor cannot tell who pulls through the cache",
            Fix(
                "declare the roles that pull (EKS node roles, ECS task execution roles); "
                "apply grants them the first-pull actions in the registry policy",
                (env.commands.apply(),),
                config=f'[pullers]\nprincipals = ["arn:aws:iam::{account}:role/<node-role>"]',
            ),
        )
    prefixes = sorted(config.rules)
    if not prefixes:
        return skipped("the config declares no rules")
    verdicts = [_judge(env, text, prefixes) for text in principals]
    notes = [n for v in verdicts for n in v.notes]
    notes += [
        f"{v.text}: lacks {', '.join(sorted(v.docker_only))}, which docker (not containerd) calls"
        for v in verdicts
        if v.docker_only and not (v.cache or v.pull)
    ]
    notes += [
        f"{v.text}: conditions doctor cannot evaluate on {', '.join(sorted(v.unsure))}"
        for v in verdicts
        if v.unsure
    ]
    denied = [v for v in verdicts if v.cache or v.pull]
    if denied:
        fixes = [_fix(env, v, prefixes) for v in denied]
        return problem(
            "; ".join(
                f"{v.text} may not "
                + ", ".join(
                    a.removeprefix("ecr:") for a in sorted(v.cache | v.pull | v.docker_only)
                )
                for v in denied
            ),
            Fix(
                "; ".join(dict.fromkeys(f.summary for f in fixes)),
                tuple(dict.fromkeys(c for f in fixes for c in f.commands)),
                "\n\n".join(dict.fromkeys(f.config for f in fixes if f.config)) or None,
            ),
            *notes,
        )
    missing = [v.text for v in verdicts if v.notes and "not found in account" in v.notes[0]]
    if missing:
        return warning(
            f"the registry policy grants the first-pull actions, but {', '.join(missing)} is "
            f"not found in account {account}: its own pull permissions were not checked",
            Fix("create the role, or correct [pullers] in the config"),
            *notes,
        )
    if any(v.unsure for v in verdicts):
        return warning("conditions doctor cannot evaluate decide some actions", None, *notes)
    return passed(
        f"{len(principals)} puller(s) may make a first pull on {len(prefixes)} prefix(es)", *notes
    )


def _pull_statement(env: Env, actions: set[str], prefixes: list[str]) -> dict[str, Any]:
    from ecrcache.config.upstreams import partition

    repo_actions = sorted(a for a in actions if a != "ecr:GetAuthorizationToken")
    arns = sorted(
        cache_repositories_arn(
            partition=partition(env.region),
            account_id=env.live.account_id,
            region=env.region,
            prefix=p,
        )
        for p in prefixes
    )
    statements: list[dict[str, Any]] = []
    if "ecr:GetAuthorizationToken" in actions:
        statements.append(
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}
        )
    if repo_actions:
        statements.append({"Effect": "Allow", "Action": repo_actions, "Resource": arns})
    return {"Version": "2012-10-17", "Statement": statements}


def _fix(env: Env, v: _Verdict, prefixes: list[str]) -> Fix:
    p = v.principal
    steps: list[str] = []
    parts: list[str] = []
    snippet = None
    pull = v.pull | (v.docker_only if v.pull else set())
    if v.cache:
        parts.append(
            f"apply puts {', '.join(sorted(v.cache))} for {p.arn} in the registry policy "
            "(and remove any Deny named below)"
        )
    if pull and v.own_policies_read and p.name:
        verb = "put-role-policy" if p.kind == "role" else "put-user-policy"
        who = "--role-name" if p.kind == "role" else "--user-name"
        parts.append(f"give {p.kind} {p.name} the pull actions on the cache prefixes")
        steps.append(
            env.commands.aws_global(
                "iam",
                verb,
                who,
                p.name,
                "--policy-name",
                "ecrcache-pull-through-cache",
                "--policy-document",
                compact_json(_pull_statement(env, pull, prefixes)),
            )
        )
    elif pull and (p.account != env.live.account_id or p.kind == "account"):
        # Across accounts the repository side must grant the pull actions too: a creation
        # template gives every new cache repository its repository policy.
        repo = sorted(a for a in pull if a != "ecr:GetAuthorizationToken")
        declared = env.config.templates if env.config is not None else {}
        keys = sorted({pre if pre in declared else "ROOT" for pre in prefixes})
        if repo:
            doc = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PullersInOtherAccounts",
                        "Effect": "Allow",
                        "Principal": {"AWS": [p.arn]},
                        "Action": repo,
                    }
                ],
            }
            parts.append(
                f"grant {', '.join(repo)} to {p.arn} in the repository policy of template(s) "
                f"{', '.join(keys)} (repositories created from now on get it)"
            )
            snippet = "\n\n".join(
                f"[templates.{toml_key(k)}]\nrepository_policy = '{compact_json(doc)}'"
                for k in keys
            )
    if v.cache or snippet:
        steps.append(env.commands.apply())
    return Fix("; ".join(parts) or f"grant {p.arn} the first-pull actions", tuple(steps), snippet)


CHECKS = (first_pull,)
