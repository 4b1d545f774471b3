"""A spoke's view: can its pullers (node roles) make a first pull through the hub?

Across accounts both sides must allow each call of a first pull (``policy.hub``): the node
role's identity policies, read here in the spoke; the hub's registry policy (CreateRepository,
BatchImportUpstreamImage); the repository policy the hub's covering creation template gives new
cache repositories (the pull actions). The hub's two policies are read through the hub's clients
when doctor has them (``Env.hub_clients``: the hub target's); otherwise doctor says it cannot see
them and judges the spoke's side alone. In a spoke the rule, template and secret checks are the
hub's (``HUB_OWNED``): the runner skips them, saying so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

from ecrcache.doctor.checks_templates import covering
from ecrcache.doctor.env import Env, Live
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
from ecrcache.policy.hub import Step, first_pull_steps

# Checks of what the hub's config makes: in a spoke they would judge the wrong account.
HUB_OWNED = frozenset(
    {
        "rule.quota",
        "rule.present",
        "rule.matches",
        "upstream.credentials",
        "rule.validate",
        "secret.exists",
        "secret.location",
        "secret.keys",
        "secret.kms",
        "secret.sync-failures",
        "template.coverage",
        "template.role",
        "template.immutability",
        "pullers.first-pull",
    }
)
SPOKE_SKIP = "spoke: the hub's config makes the rules, templates and secrets (doctor the hub)"
PROBE = "doctor-probe/image"
# the side doctor cannot read: taken as allowing, so that only what it can see decides
_UNSEEN: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}


@dataclass(frozen=True)
class _Denied:
    """A call of a first pull that is denied, and the side that lacks it."""

    step: Step
    side: str  # "identity" (this account's policies) or "hub"


def spoke_skip(env: Env, check_id: str) -> str | None:
    """Why the runner skips ``check_id`` for a spoke's config, or None."""
    config = env.config
    if config is not None and config.spoke is not None and check_id in HUB_OWNED:
        return SPOKE_SKIP
    return None


@check(
    "hub.first-pull",
    "A spoke's pullers can make a first pull through the hub",
    Severity.ERROR,
    why="a pull across accounts needs the spoke's identity policy and the hub's registry and "
    "repository policies: without any one, nodes get ImagePullBackOff",
    needs=(Need.CONFIG, Need.AWS),
    after=ECR_GATE,
)
def hub_first_pull(env: Env) -> Finding:
    from ecrcache.config.upstreams import partition

    config = env.require_config()
    if config.spoke is None:
        return skipped("not a spoke (no [spoke] in the config)")
    hub, hub_region = config.registry_of("", env.region or config.region)
    prefixes = sorted(config.rules)
    if not prefixes:
        return skipped("the config declares no rules to route through the hub")
    principals = config.pullers.principals if config.pullers else ()
    policy_arn = (
        f"arn:{partition(env.region)}:iam::{env.live.account_id}:policy/{config.spoke.pull_policy}"
    )
    if not principals:
        return warning(
            "no [pullers] in the config: doctor cannot tell which roles pull through the hub",
            Fix(
                f"declare this account's node roles; attach {config.spoke.pull_policy} to them",
                config=f'[pullers]\nprincipals = ["arn:aws:iam::{env.live.account_id}:'
                'role/<node-role>"]',
            ),
        )
    hub_side, unseen = _hub_policies(env)
    notes = [f"the hub's {what}: not visible from here, taken as allowing" for what in unseen]
    if unseen and env.hub_unreadable:
        notes.append(env.hub_unreadable)
    denied: dict[str, list[_Denied]] = {}
    for text in principals:
        p = Principal.parse(text, partition=partition(env.region))
        if p.kind != "role" or p.account != env.live.account_id:
            notes.append(f"{text}: not a role in this account, not checked")
            continue
        try:
            docs = [d for _, d in identity_policies(env.live.clients, p)]
        except PrincipalNotFound:
            notes.append(f"{text}: not found in account {env.live.account_id}")
            continue
        for prefix in prefixes:
            repository = PROBE if prefix == "ROOT" else f"{prefix}/{PROBE}"

            judge = partial(
                first_pull_steps,
                principal_arn=p.arn,
                identity_policies=docs,
                partition=partition(hub_region),
                hub_account_id=hub,
                hub_region=hub_region,
                repository=repository,
            )
            # the same calls with the hub's side allowing all: what the identity side lacks
            unseen_hub = judge(registry_policy=_UNSEEN, repository_policy=_UNSEEN)
            alone = {s.action: s.decision.allowed for s in unseen_hub}
            registry, repo_policy = hub_side(prefix)
            for step in judge(registry_policy=registry, repository_policy=repo_policy):
                if not step.decision.allowed:
                    side = "hub" if alone[step.action] else "identity"
                    denied.setdefault(text, []).append(_Denied(step, side))
    if denied:
        return problem(
            "; ".join(
                f"{who} may not "
                + ", ".join(sorted({d.step.action.removeprefix("ecr:") for d in ds}))
                + " through the hub"
                for who, ds in denied.items()
            ),
            _fix(env, denied, policy_arn, hub),
            *notes,
            *(
                f"{who}: {d.step.action} on {d.step.resource}: "
                + (
                    "this account's identity policies do not allow it"
                    if d.side == "identity"
                    else f"the hub's {d.step.hub_side} policy does not allow it"
                )
                for who, ds in denied.items()
                for d in ds
            ),
        )
    if unseen:
        return warning(
            f"this account's side allows first pulls through {hub}; the hub's "
            + " and ".join(unseen)
            + " could not be read",
            Fix(
                "let this run assume the hub target's role (its trust policy), then run doctor "
                "again"
                if env.hub_unreadable
                else "run doctor with the hub as a target of this config ([targets.NAME] with "
                'its role, and hub_target = "NAME"), or doctor the hub\'s config'
            ),
            *notes,
        )
    return passed(
        f"{len(principals)} puller(s) may make a first pull through {hub} on "
        f"{len(prefixes)} prefix(es)",
        *notes,
    )


def _hub_policies(env: Env) -> tuple[Any, list[str]]:
    """A function from prefix to (registry policy, template repository policy) of the hub, and
    what of them doctor could not read."""
    hub_clients = env.hub_clients
    if hub_clients is None:
        return (lambda _prefix: (_UNSEEN, _UNSEEN)), ["registry policy", "creation templates"]
    live = Live(hub_clients)
    registry = live.registry_policy
    templates = {t.prefix: t for t in live.templates if "PULL_THROUGH_CACHE" in t.applied_for}

    def policies(prefix: str) -> tuple[Any, Any]:
        t = covering(templates, prefix)
        repo = json.loads(t.repository_policy) if t is not None and t.repository_policy else None
        return registry, repo

    return policies, []


def _fix(env: Env, denied: dict[str, list[_Denied]], policy_arn: str, hub: str) -> Fix:
    identity = sorted({who for who, ds in denied.items() if any(d.side == "identity" for d in ds)})
    hub_side = any(d.side == "hub" for ds in denied.values() for d in ds)
    commands = [
        env.commands.aws_global(
            "iam",
            "attach-role-policy",
            "--role-name",
            who.rsplit("/", 1)[1],
            "--policy-arn",
            policy_arn,
        )
        for who in identity
    ]
    parts = []
    if identity:
        parts.append(f"attach {policy_arn.rsplit('/', 1)[1]} (apply creates it) to the node roles")
    if hub_side:
        parts.append(
            f"in the hub's config ({hub}) name this account in [hub] spoke_accounts (or its "
            "roles in spoke_principals, or the organization) and apply it there"
        )
    return Fix(
        "; ".join(parts),
        (env.commands.apply(), *commands) if identity else (),
    )


CHECKS = (hub_first_pull,)
