"""Can the configured pullers make a first pull through the cache? (ECR-FACTS §5, §8.1-3)

Evaluated by ecrcache itself (``ecrcache.iampolicy``) from the principal's identity policies
and the registry policy, with the actions the permissions table lists for ``pull.first``:
AmazonEC2ContainerRegistryReadOnly grants neither BatchImportUpstreamImage nor
CreateRepository, so the usual node role can read the cache but never fill it.
"""

from __future__ import annotations

from typing import Any

from ecrcache.doctor.env import Env
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
from ecrcache.iampolicy import Decision, Outcome, evaluate
from ecrcache.permissions import REGISTRY_POLICY_ACTIONS, Scope, permissions_for

PULL_ONLY = "AmazonEC2ContainerRegistryPullOnly"
PROBE_REPOSITORY = "doctor-probe/image"  # any name under the prefix: ECR grants per repository
_ALLOW_ALL = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _targets(env: Env, prefixes: list[str]) -> list[tuple[str, str]]:
    """(action, resource ARN) pairs a first pull needs, from the permissions table."""
    from ecrcache.desired import partition

    part, account, region = partition(env.region), env.live.account_id, env.region
    out = []
    for perm in permissions_for("pull.first"):
        for action in perm.actions:
            if perm.scope is Scope.ANY:
                out.append((action, "*"))
                continue
            for p in prefixes:
                name = PROBE_REPOSITORY if p == "ROOT" else f"{p}/{PROBE_REPOSITORY}"
                out.append((action, f"arn:{part}:ecr:{region}:{account}:repository/{name}"))
    return out


def _where(d: Decision, names: list[str]) -> str:
    ref = d.decided_by
    if ref is None:
        return "nothing allows it"
    if ref.source == "resource":
        return f"denied by the registry policy (statement {ref.sid or ref.index})"
    i = int(ref.source.removeprefix("identity[").rstrip("]"))
    return f"denied by policy {names[i]} (statement {ref.sid or ref.index})"


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
    from ecrcache.desired import partition

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
    registry = env.live.registry_policy
    targets = _targets(env, prefixes)
    denied: list[str] = []
    notes: list[str] = []
    fixes: list[Fix] = []
    for text in principals:
        p = Principal.parse(text, partition=partition(env.region))
        names: list[str] = []
        docs: list[dict[str, Any]] = []
        only_cache = False  # the principal's own policies are unknown: judge the registry side
        if p.account != account or p.kind == "account":
            docs = [_ALLOW_ALL]  # their own IAM policies: not ours to read
            notes.append(f"{text}: assumed its own account's IAM policies allow the pull actions")
        else:
            try:
                found = identity_policies(env.live.clients, p)
            except PrincipalNotFound:
                notes.append(
                    f"{text}: not found in account {account}: its pull actions were not checked"
                )
                found, only_cache = [], True
            names, docs = [n for n, _ in found], [d for _, d in found]
        missing_cache: set[str] = set()
        missing_pull: set[str] = set()
        unsure: set[str] = set()
        for action, resource in targets:
            if only_cache and action not in REGISTRY_POLICY_ACTIONS:
                continue
            d = evaluate(
                action,
                resource,
                identity_policies=docs,
                resource_policy=registry,
                principal_arn=p.arn,
            )
            if not d.allowed:
                why = _where(d, names)
                bucket = missing_cache if action in REGISTRY_POLICY_ACTIONS else missing_pull
                bucket.add(action)
                if d.outcome is Outcome.EXPLICIT_DENY:
                    notes.append(f"{text}: {action}: {why}")
            elif not d.certain:
                unsure.add(action)
        if missing_cache or missing_pull:
            acts = sorted(missing_cache | missing_pull)
            denied.append(f"{text} may not {', '.join(a.removeprefix('ecr:') for a in acts)}")
            fixes.append(_fix(env, p, missing_cache, missing_pull, found=not only_cache))
        if unsure:
            notes.append(
                f"{text}: conditions doctor cannot evaluate on {', '.join(sorted(unsure))}"
            )
    not_found = any("not found in account" in n for n in notes)
    if denied:
        return problem(
            "; ".join(denied),
            Fix(
                "; ".join(dict.fromkeys(f.summary for f in fixes)),
                tuple(dict.fromkeys(c for f in fixes for c in f.commands)),
            ),
            *notes,
        )
    if not_found:
        missing = [n.split(": not found", 1)[0] for n in notes if "not found in account" in n]
        return warning(
            f"the registry policy grants the first-pull actions, but {', '.join(missing)} is "
            f"not found in account {account}: its own pull permissions were not checked",
            Fix("create the role, or correct [pullers] in the config"),
            *notes,
        )
    if any("cannot evaluate" in n for n in notes):
        return warning("conditions doctor cannot evaluate decide some actions", None, *notes)
    return passed(
        f"{len(principals)} puller(s) may make a first pull on {len(prefixes)} prefix(es)", *notes
    )


def _fix(env: Env, p: Principal, cache: set[str], pull: set[str], *, found: bool) -> Fix:
    steps: list[str] = []
    parts = []
    if cache:
        parts.append(
            f"apply puts {', '.join(sorted(cache))} for {p.arn} in the registry policy "
            "(remove any Deny named below)"
        )
        steps.append(env.commands.apply())
    if pull and found and p.kind in ("role", "user") and p.name:
        verb = "attach-role-policy" if p.kind == "role" else "attach-user-policy"
        who = "--role-name" if p.kind == "role" else "--user-name"
        parts.append(f"attach {PULL_ONLY} to {p.kind} {p.name} for the pull actions")
        steps.append(
            env.commands.aws_global(
                "iam", verb, who, p.name, "--policy-arn", f"arn:aws:iam::aws:policy/{PULL_ONLY}"
            )
        )
    elif pull:
        parts.append(f"grant {', '.join(sorted(pull))} in account {p.account}'s IAM policies")
    if not found and p.kind in ("role", "user") and p.account == env.live.account_id:
        parts.append(f"create {p.kind} {p.name} or correct [pullers]")
    return Fix("; ".join(parts), tuple(steps))


CHECKS = (first_pull,)
