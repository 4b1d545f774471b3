"""The three policies a pull through another account's cache needs, and their evaluation (pure).

A spoke's principal pulling ``<hub>.dkr.ecr.<region>.../docker-hub/library/nginx`` for the
first time makes, in the hub's account: GetAuthorizationToken, CreateRepository (the repository
does not exist yet), BatchImportUpstreamImage, then the pull itself (BatchGetImage,
GetDownloadUrlForLayer, BatchCheckLayerAvailability). Across accounts both sides must allow
each call ("Cross-account policy evaluation logic", IAM user guide):

- the identity side: ``spoke_pull_policy``, a managed policy in the spoke for its pullers;
- the hub's registry policy (``hub_registry_statements``): CreateRepository "can be granted by
  either an identity-based IAM policy or the private registry permissions policy", never by a
  repository policy, and BatchImportUpstreamImage by any of the three
  (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html). Only
  these two actions, which every registry policy scope accepts (V1 enforces only ReplicateImage,
  BatchImportUpstreamImage and CreateRepository at registry level:
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create.html);
- the repository policy of the cache repository, which the hub's creation template gives it
  at creation (``hub_repository_statements``, merged into the user's own template policy by
  ``merged_repository_policy``): the pull actions. Repository policy statements carry no
  Resource: the repository is the resource.

Spokes are named by account ID or role ARN (``Principal.AWS``), or by organization: ``"*"``
with ``aws:PrincipalOrgID`` (and ``aws:PrincipalOrgPaths``, a multivalued key, with
``ForAnyValue:StringLike``), as the IAM global condition keys reference describes them.
Sids start with ``ecrcache-`` so apply finds its own statements in a shared policy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecrcache.inputfile import loads_json
from ecrcache.policy.iam import ContextValue, Decision, evaluate
from ecrcache.policy.policies import _cache_arns, repository_arn

HUB_SPOKES_SID = "ecrcache-hub-spokes"
HUB_ORG_SID = "ecrcache-hub-organization"
HUB_PULL_SID = "ecrcache-hub-pull"
HUB_PULL_ORG_SID = "ecrcache-hub-pull-organization"
FIRST_PULL_ACTIONS = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository")
PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)
TOKEN_ACTION = "ecr:GetAuthorizationToken"


@dataclass(frozen=True)
class Spokes:
    """Who the hub lets pull: named principals (account IDs, role ARNs) and/or an organization,
    optionally narrowed to organization paths."""

    principals: tuple[str, ...] = ()
    organization_id: str | None = None
    organization_paths: tuple[str, ...] = ()

    def statements(self, sid: str, org_sid: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.principals:
            out.append(
                {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": list(self.principals)}}
                | dict(body)
            )
        if self.organization_id is not None:
            condition: dict[str, Any] = {
                "StringEquals": {"aws:PrincipalOrgID": self.organization_id}
            }
            if self.organization_paths:
                condition["ForAnyValue:StringLike"] = {
                    "aws:PrincipalOrgPaths": list(self.organization_paths)
                }
            out.append(
                {"Sid": org_sid, "Effect": "Allow", "Principal": "*"}
                | dict(body)
                | {"Condition": condition}
            )
        return out


def hub_registry_statements(
    spokes: Spokes, *, partition: str, account_id: str, region: str, cache_prefixes: Sequence[str]
) -> list[dict[str, Any]]:
    """The hub's registry policy statements: the spokes may make first pulls (create the cache
    repository, import the image) under the cache prefixes only."""
    if not cache_prefixes:
        return []
    body = {
        "Action": list(FIRST_PULL_ACTIONS),
        "Resource": _cache_arns(partition, account_id, region, cache_prefixes),
    }
    return spokes.statements(HUB_SPOKES_SID, HUB_ORG_SID, body)


def hub_repository_statements(spokes: Spokes) -> list[dict[str, Any]]:
    """The statements a cache repository's policy needs so the spokes can pull from it."""
    return spokes.statements(HUB_PULL_SID, HUB_PULL_ORG_SID, {"Action": list(PULL_ACTIONS)})


def merged_repository_policy(user_policy: str | None, ours: Sequence[Mapping[str, Any]]) -> str:
    """The user's own template repository policy (if any) with ecrcache's statements added in
    place of any ``ecrcache-hub-*`` statement it holds; JSON text."""
    doc: dict[str, Any] = {"Version": "2012-10-17", "Statement": []}
    if user_policy:
        parsed = loads_json(user_policy)
        if isinstance(parsed, dict):
            doc = dict(parsed)
    theirs = doc.get("Statement", [])
    theirs = [theirs] if isinstance(theirs, Mapping) else list(theirs)
    ours_sids = {s["Sid"] for s in ours}
    kept = [s for s in theirs if not (isinstance(s, Mapping) and s.get("Sid") in ours_sids)]
    doc["Statement"] = kept + [dict(s) for s in ours]
    doc.setdefault("Version", "2012-10-17")
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def spoke_pull_policy(
    *, partition: str, hub_account_id: str, hub_region: str, cache_prefixes: Sequence[str]
) -> dict[str, Any]:
    """The identity policy a spoke's pullers need: a registry token, and pull and first pull
    on the hub's cache repositories (no other action on the hub)."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "EcrcacheRegistryToken",
            "Effect": "Allow",
            "Action": TOKEN_ACTION,
            "Resource": "*",
        }
    ]
    if cache_prefixes:
        statements.append(
            {
                "Sid": "EcrcacheHubPull",
                "Effect": "Allow",
                "Action": sorted((*PULL_ACTIONS, *FIRST_PULL_ACTIONS)),
                "Resource": _cache_arns(partition, hub_account_id, hub_region, cache_prefixes),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


# ---------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Step:
    """One call of a first pull, the policy that must allow it on the hub's side, and the
    decision."""

    action: str
    resource: str
    hub_side: str  # "none" (identity only), "registry", "registry or repository", "repository"
    decision: Decision


def first_pull_steps(
    *,
    principal_arn: str,
    identity_policies: Sequence[Mapping[str, Any]],
    registry_policy: Mapping[str, Any] | None,
    repository_policy: Mapping[str, Any] | None,
    partition: str,
    hub_account_id: str,
    hub_region: str,
    repository: str,
    context: Mapping[str, ContextValue] | None = None,
) -> tuple[Step, ...]:
    """Each call of a first pull of ``repository`` (in the hub) by ``principal_arn``, evaluated
    with ``policy.iam.evaluate``: the identity side and the hub's resource side. A call the
    registry or the repository policy may grant is allowed when either does."""
    arn = repository_arn(
        partition=partition, account_id=hub_account_id, region=hub_region, name=repository
    )
    ctx = dict(context or {})
    ctx.setdefault("aws:PrincipalAccount", principal_arn.split(":")[4])

    def decide(action: str, resource: str, policy: Mapping[str, Any] | None) -> Decision:
        return evaluate(
            action,
            resource,
            identity_policies=identity_policies,
            resource_policy=policy,
            principal_arn=principal_arn,
            context=ctx,
        )

    steps = [Step(TOKEN_ACTION, "*", "none", decide(TOKEN_ACTION, "*", None))]
    create = decide("ecr:CreateRepository", arn, _or(registry_policy))
    steps.append(Step("ecr:CreateRepository", arn, "registry", create))
    via_registry = decide("ecr:BatchImportUpstreamImage", arn, _or(registry_policy))
    on_repository = _on(repository_policy, arn)
    via_repository = decide("ecr:BatchImportUpstreamImage", arn, on_repository)
    steps.append(
        Step(
            "ecr:BatchImportUpstreamImage",
            arn,
            "registry or repository",
            via_registry if via_registry.allowed or not via_repository.allowed else via_repository,
        )
    )
    for action in PULL_ACTIONS:
        steps.append(Step(action, arn, "repository", decide(action, arn, on_repository)))
    return tuple(steps)


def _on(policy: Mapping[str, Any] | None, arn: str) -> Mapping[str, Any]:
    """A repository policy as the evaluator reads resource policies: its statements name no
    Resource, since the repository is the resource."""
    doc = _or(policy)
    st = doc.get("Statement", [])
    statements = [st] if isinstance(st, Mapping) else list(st)
    return {
        **doc,
        "Statement": [
            s if "Resource" in s or "NotResource" in s else {**s, "Resource": arn}
            for s in statements
        ],
    }


def _or(policy: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # no policy on the hub's side is an empty one: across accounts nothing then allows the call
    return policy if policy is not None else {"Version": "2012-10-17", "Statement": []}
