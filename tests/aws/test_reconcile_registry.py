"""Templates, backfill, application repositories, scanning, puller statements and the CI
policy: create, update, no-op and delete round trips against moto with the extension."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from reconcile_support import ACCOUNT, REGION, apply, clients, config, example_roles, plan

from ecrcache.policy import iam as iampolicy
from ecrcache.policy import lifecycle
from ecrcache.reconcile.plan import Action
from ecrcache.sandbox.pulls import simulate_pull

QUAY = {"quay": {"upstream": "quay"}, "k8s": {"upstream": "k8s"}}
KEEP_30 = {"expire_untagged_after_days": 7, "keep_last": 30}


def cfg(**sections: Any) -> Any:
    return config(QUAY, **sections)


def actions(result: Any) -> list[tuple[str, Action]]:
    return [(c.address, c.action) for c in result.plan.changes]


def round_trip(session: boto3.session.Session, before: Any, after: Any) -> list[str]:
    """apply ``before``; then ``after`` (its mutating calls are returned); then both plans
    are empty and a further apply makes no mutating call."""
    apply(before, clients(session))
    assert plan(before, clients(session)).plan.empty
    c = clients(session)
    apply(after, c)
    again = clients(session)
    result = apply(after, again)
    assert result.plan.empty and again.mutating_calls == []
    return c.mutating_calls


# --- templates ----------------------------------------------------------------------------------


def test_template_create_update_noop_delete(aws: boto3.session.Session) -> None:
    one = cfg(
        templates={
            "quay": {
                "lifecycle": KEEP_30,
                "tags": {"team": "x"},
                "role_arn": f"arn:aws:iam::{ACCOUNT}:role/t",
            }
        }
    )
    calls = round_trip(aws, cfg(), one)
    assert calls == ["ecr.CreateRepositoryCreationTemplate"]
    t = clients(aws).ecr.describe_repository_creation_templates(prefixes=["quay"])[
        "repositoryCreationTemplates"
    ][0]
    assert lifecycle.normalise(t["lifecyclePolicy"]) == lifecycle.normalise(
        lifecycle.compile_rules(expire_untagged_after_days=7, keep_last=30)
    )
    assert t["appliedFor"] == ["PULL_THROUGH_CACHE"]
    assert t["resourceTags"] == [{"Key": "team", "Value": "x"}]

    two = cfg(templates={"quay": {"lifecycle": {"keep_last": 5}, "tag_mutability": "MUTABLE"}})
    result = plan(two, clients(aws))
    (change,) = result.plan.changes
    assert change.action is Action.UPDATE
    assert {f.name for f in change.fields} == {"lifecycle_policy", "resource_tags", "role_arn"}
    assert round_trip(aws, one, two) == ["ecr.UpdateRepositoryCreationTemplate"]

    kept = plan(cfg(), clients(aws))
    assert kept.plan.empty and [u.address for u in kept.plan.unmanaged] == ["template.quay"]
    pruned = plan(cfg(), clients(aws), prune=True)
    assert actions(pruned) == [("template.quay", Action.DELETE)]
    apply(cfg(), clients(aws), prune=True)
    assert (
        clients(aws).ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
        == []
    )


def test_raw_lifecycle_json_round_trips(aws: boto3.session.Session) -> None:
    raw = {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 14,
                },
                "action": {"type": "expire"},
            }
        ]
    }
    c = cfg(templates={"ROOT": {"lifecycle": {"policy": json.dumps(raw, indent=4)}}})
    apply(c, clients(aws))
    assert plan(c, clients(aws)).plan.empty


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ({"tags": {"team": "x"}}, "a template with resource tags needs role_arn"),
        (
            {"encryption": "KMS", "kms_key": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/abcd-1234"},
            "a template with a KMS key needs role_arn",
        ),
        ({"tag_mutability": "IMMUTABLE"}, "tag immutability on a cache prefix"),
    ],
)
def test_template_warnings_reach_the_plan(
    aws: boto3.session.Session, template: dict[str, Any], fragment: str
) -> None:
    result = plan(cfg(templates={"quay": template}), clients(aws))
    assert any(fragment in w for w in result.warnings), result.warnings


def test_no_template_is_warned_about(aws: boto3.session.Session) -> None:
    assert any("no repository creation templates" in w for w in plan(cfg(), clients(aws)).warnings)


# --- a pull through the cache, and backfill ------------------------------------------------------


def test_pull_creates_a_repository_with_the_templates_lifecycle(
    aws: boto3.session.Session,
) -> None:
    apply(cfg(templates={"quay": {"lifecycle": KEEP_30}}), clients(aws))
    pulled = simulate_pull(account_id=ACCOUNT, region=REGION, repository="quay/org/app", tag="1")
    assert pulled.created and pulled.template_prefix == "quay"
    text = clients(aws).ecr.get_lifecycle_policy(repositoryName="quay/org/app")[
        "lifecyclePolicyText"
    ]
    assert lifecycle.normalise(text) == lifecycle.normalise(lifecycle.compile_rules(**KEEP_30))


def test_backfill_fixes_a_repository_created_before_the_template(
    aws: boto3.session.Session,
) -> None:
    apply(cfg(), clients(aws))
    simulate_pull(account_id=ACCOUNT, region=REGION, repository="quay/org/old", tag="1")
    ecr = clients(aws).ecr
    with pytest.raises(ecr.exceptions.LifecyclePolicyNotFoundException):
        ecr.get_lifecycle_policy(repositoryName="quay/org/old")

    without = cfg(templates={"quay": {"lifecycle": KEEP_30}})
    assert actions(plan(without, clients(aws))) == [("template.quay", Action.CREATE)]

    with_backfill = cfg(templates={"quay": {"lifecycle": KEEP_30, "backfill": True}})
    result = plan(with_backfill, clients(aws))
    assert actions(result) == [
        ("template.quay", Action.CREATE),
        ("repository-settings.quay/org/old", Action.UPDATE),
    ]
    c = clients(aws)
    apply(with_backfill, c)
    assert c.mutating_calls == ["ecr.CreateRepositoryCreationTemplate", "ecr.PutLifecyclePolicy"]
    text = ecr.get_lifecycle_policy(repositoryName="quay/org/old")["lifecyclePolicyText"]
    assert lifecycle.normalise(text) == lifecycle.normalise(lifecycle.compile_rules(**KEEP_30))
    assert plan(with_backfill, clients(aws)).plan.empty


def test_backfill_leaves_other_prefixes_and_app_repositories_alone(
    aws: boto3.session.Session,
) -> None:
    c = cfg(
        templates={
            "quay": {"lifecycle": KEEP_30, "backfill": True},
            "k8s": {"lifecycle": {"keep_last": 3}},
        },
        repositories={"acme/api": {}},
    )
    apply(cfg(), clients(aws))
    simulate_pull(account_id=ACCOUNT, region=REGION, repository="k8s/pause", tag="3.10")
    result = plan(c, clients(aws))
    assert not [a for a in actions(result) if a[0].startswith("repository-settings")]


# --- application repositories ---------------------------------------------------------------------


def test_application_repository_round_trip(aws: boto3.session.Session) -> None:
    repo = {
        "tag_mutability": "IMMUTABLE",
        "scan_on_push": True,
        "tags": {"team": "a"},
        "lifecycle": {"keep_last": 10},
    }
    one = cfg(repositories={"acme/api": repo})
    calls = round_trip(aws, cfg(), one)
    assert calls == ["ecr.CreateRepository", "ecr.PutLifecyclePolicy"]
    r = clients(aws).ecr.describe_repositories(repositoryNames=["acme/api"])["repositories"][0]
    assert r["imageTagMutability"] == "IMMUTABLE"
    assert r["imageScanningConfiguration"] == {"scanOnPush": True}
    tags = clients(aws).ecr.list_tags_for_resource(resourceArn=r["repositoryArn"])["tags"]
    assert {"Key": "managed-by", "Value": "ecrcache"} in tags

    two = cfg(
        repositories={
            "acme/api": {
                **repo,
                "tag_mutability": "MUTABLE",
                "tags": {"team": "b"},
                "lifecycle": None,
            }
        }
    )
    calls = round_trip(aws, one, two)
    # The same tag key with a new value: tagged again, nothing to untag.
    assert calls == ["ecr.PutImageTagMutability", "ecr.DeleteLifecyclePolicy", "ecr.TagResource"]


def test_encryption_cannot_change_and_is_reported(aws: boto3.session.Session) -> None:
    apply(cfg(repositories={"acme/api": {}}), clients(aws))
    result = plan(cfg(repositories={"acme/api": {"encryption": "KMS"}}), clients(aws))
    assert result.plan.empty
    assert any("encryption cannot change after creation" in p for p in result.plan.problems)


def test_repository_delete_needs_prune_force_and_delete_images(
    aws: boto3.session.Session,
) -> None:
    apply(cfg(repositories={"acme/api": {}, "acme/web": {}}), clients(aws))
    ecr = clients(aws).ecr
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "digest": "sha256:" + "1" * 64,
                "size": 1,
                "mediaType": "application/vnd.docker.container.image.v1+json",
            },
            "layers": [],
        }
    )
    ecr.put_image(repositoryName="acme/web", imageManifest=manifest, imageTag="v1")
    # A repository someone made by hand is never ecrcache's to delete.
    aws.client("ecr").create_repository(repositoryName="hand/made")  # not through ecrcache
    keep = cfg(repositories={"acme/api": {}})
    assert [u.address for u in plan(keep, clients(aws)).plan.unmanaged] == ["repository.acme/web"]
    pruned = plan(keep, clients(aws), prune=True)
    assert pruned.plan.empty
    assert any("acme/web holds 1 image(s)" in p for p in pruned.plan.problems)
    forced = plan(keep, clients(aws), prune=True, delete_images=True)
    (change,) = forced.plan.changes
    assert (change.address, change.action, change.needs_force) == (
        "repository.acme/web",
        Action.DELETE,
        True,
    )
    apply(keep, clients(aws), prune=True, delete_images=True)
    names = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
    assert names == {"acme/api", "hand/made"}


def test_app_repository_under_a_cache_prefix_is_refused() -> None:
    from ecrcache.errors import ConfigError

    with pytest.raises(ConfigError, match="under the cache prefix 'quay'"):
        cfg(repositories={"quay/mine": {}})


# --- scanning ---------------------------------------------------------------------------------


def test_scanning_round_trip(aws: boto3.session.Session) -> None:
    one = cfg(scanning={"type": "BASIC", "rules": [{"frequency": "SCAN_ON_PUSH"}]})
    assert round_trip(aws, cfg(), one) == ["ecr.PutRegistryScanningConfiguration"]
    two = cfg(
        scanning={
            "type": "ENHANCED",
            "rules": [{"frequency": "CONTINUOUS_SCAN", "filters": ["acme/*"]}],
        }
    )
    assert round_trip(aws, one, two) == ["ecr.PutRegistryScanningConfiguration"]
    got = clients(aws).ecr.get_registry_scanning_configuration()["scanningConfiguration"]
    assert got["scanType"] == "ENHANCED"
    assert got["rules"][0]["repositoryFilters"] == [{"filter": "acme/*", "filterType": "WILDCARD"}]


# --- puller statements ------------------------------------------------------------------------

NODE = f"arn:aws:iam::{ACCOUNT}:role/eks-node"
FOREIGN = {
    "Sid": "ReplicationFromProd",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
    "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*",
}


def registry_policy(session: boto3.session.Session) -> dict[str, Any]:
    text = clients(session).ecr.get_registry_policy()["policyText"]
    return json.loads(text)  # type: ignore[no-any-return]


def test_puller_statements_keep_other_statements(aws: boto3.session.Session) -> None:
    example_roles(aws)  # ECR refuses a principal IAM does not know
    ecr = clients(aws).ecr
    ecr.put_registry_policy(
        policyText=json.dumps({"Version": "2012-10-17", "Statement": [FOREIGN]})
    )
    one = cfg(pullers={"principals": [NODE]})
    assert round_trip(aws, cfg(), one) == ["ecr.PutRegistryPolicy"]
    doc = registry_policy(aws)
    assert FOREIGN in doc["Statement"]
    ours = [s for s in doc["Statement"] if s["Sid"].startswith("ecrcache-")]
    assert len(ours) == 1
    # The node role, with ReadOnly's identity policy, can now make a first pull.
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    readonly = json.loads(aws_managed_policies_data)["AmazonEC2ContainerRegistryReadOnly"][
        "Document"
    ]
    repo = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/quay/prometheus/node-exporter"
    for action in ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository", "ecr:BatchGetImage"):
        d = iampolicy.evaluate(
            action, repo, identity_policies=[readonly], resource_policy=doc, principal_arn=NODE
        )
        assert d.allowed, action
    outside = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/acme/api"
    assert not iampolicy.evaluate(
        "ecr:CreateRepository",
        outside,
        identity_policies=[readonly],
        resource_policy=doc,
        principal_arn=NODE,
    ).allowed

    none = cfg(pullers={"principals": []})
    assert round_trip(aws, one, none) == ["ecr.PutRegistryPolicy"]
    assert registry_policy(aws)["Statement"] == [FOREIGN]


def test_removing_the_last_statement_deletes_the_policy(aws: boto3.session.Session) -> None:
    example_roles(aws)
    one = cfg(pullers={"principals": [NODE]})
    apply(one, clients(aws))
    c = clients(aws)
    apply(cfg(pullers={"principals": []}), c)
    assert c.mutating_calls == ["ecr.DeleteRegistryPolicy"]


# --- the CI policy ------------------------------------------------------------------------------


def ci_document(session: boto3.session.Session) -> dict[str, Any]:
    iam = session.client("iam")
    arn = f"arn:aws:iam::{ACCOUNT}:policy/ecrcache-ci"
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return doc if isinstance(doc, dict) else json.loads(doc)  # type: ignore[no-any-return]


def test_ci_policy_allows_exactly_what_the_operations_need(aws: boto3.session.Session) -> None:
    c = cfg(ci_policy={}, repositories={"acme/api": {}})
    assert round_trip(aws, cfg(), c) == ["iam.CreatePolicy", "ecr.CreateRepository"]
    doc = ci_document(aws)
    base = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/"
    cases = [
        ("ecr:CreateRepository", base + "quay/org/app", True),  # first pull
        ("ecr:BatchImportUpstreamImage", base + "k8s/pause", True),
        ("ecr:BatchGetImage", base + "quay/org/app", True),  # cached pull
        ("ecr:PutImage", base + "acme/api", True),  # push
        ("ecr:PutImage", base + "quay/org/app", False),  # never into the cache
        ("ecr:CreateRepository", base + "other/thing", False),
        ("ecr:DescribePullThroughCacheRules", "*", True),  # plan
        (
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/docker-hub-Ab12Cd",
            True,
        ),
        (
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-Ab12Cd",
            False,
        ),
    ]
    # every request names its region; acme/api carries the tag apply gave it
    tags = {"aws:ResourceTag/managed-by": "ecrcache"}
    for action, resource, allowed in cases:
        context = {"aws:RequestedRegion": REGION, **(tags if "acme/api" in resource else {})}
        decision = iampolicy.evaluate(action, resource, identity_policies=[doc], context=context)
        assert decision.allowed is allowed, (action, resource)


def test_ci_policy_update_respects_the_five_version_limit(aws: boto3.session.Session) -> None:
    from ecrcache.policy.permissions import operations
    from ecrcache.policy.policies import ci_policy

    iam = aws.client("iam")
    arn = f"arn:aws:iam::{ACCOUNT}:policy/ecrcache-ci"
    # Six operation lists whose documents all differ (some operations share every action).
    lists: list[list[str]] = []
    docs: list[Any] = []
    for i in range(1, len(operations()) + 1):
        ops = list(operations()[:i])
        doc = ci_policy(
            partition="aws",
            account_id=ACCOUNT,
            region=REGION,
            cache_prefixes=["k8s", "quay"],
            app_repositories=[],
            operations=ops,
        )
        if doc not in docs:
            lists.append(ops)
            docs.append(doc)
    assert len(lists) >= 6
    apply(cfg(ci_policy={"operations": lists[0]}), clients(aws))
    for i, ops in enumerate(lists[1:6], start=2):  # versions would reach six without pruning
        c = clients(aws)
        apply(cfg(ci_policy={"operations": ops}), c)
        assert "iam.CreatePolicyVersion" in c.mutating_calls
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        assert len(versions) <= 5
        assert next(v for v in versions if v["IsDefaultVersion"])["VersionId"] == f"v{i}"
    assert c.mutating_calls[0] == "iam.DeletePolicyVersion"  # the sixth made room first
    assert plan(cfg(ci_policy={"operations": lists[5]}), clients(aws)).plan.empty


def test_ci_policy_is_pruned_only_with_prune_and_force(aws: boto3.session.Session) -> None:
    apply(cfg(ci_policy={"operations": ["plan"]}), clients(aws))
    apply(cfg(ci_policy={"operations": ["plan", "push"]}), clients(aws))  # a second version
    # Without [ci_policy] a plain plan does not even look (no IAM read, no permission needed).
    c0 = clients(aws)
    assert plan(cfg(), c0).plan.empty
    assert not [x for x in c0.calls if x.startswith("iam.")]
    pruned = plan(cfg(), clients(aws), prune=True)
    (change,) = pruned.plan.changes
    assert (change.address, change.action, change.needs_force) == (
        "iam-policy.ecrcache-ci",
        Action.DELETE,
        True,
    )
    c = clients(aws)
    apply(cfg(), c, prune=True)
    assert c.mutating_calls == ["iam.DeletePolicyVersion", "iam.DeletePolicy"]
    assert aws.client("iam").list_policies(Scope="Local")["Policies"] == []
