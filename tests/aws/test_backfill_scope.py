"""Backfill touches only what a cache rule of this config could have created (issue 10, item 1),
and a rule left in place keeps its prefix in the policies (item 7). Against moto + extension."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import boto3
import pytest
from reconcile_support import (
    ACCOUNT,
    REGION,
    TOKEN,
    apply,
    clients,
    config,
    cred,
    example_roles,
    plan,
)

from ecrcache.config.loading import parse_config
from ecrcache.config.schema import Config
from ecrcache.policy import lifecycle
from ecrcache.reconcile.plan import Action
from ecrcache.sandbox.pulls import simulate_pull

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
EXAMPLE_ENV = {"DOCKERHUB_TOKEN": TOKEN, "GHCR_TOKEN": TOKEN}
FOREIGN_LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "the other team's own rule",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 3,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)
KEEP_5 = {"keep_last": 5}


def example_doc() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text())


def repository_view(session: boto3.session.Session, name: str) -> dict[str, Any]:
    """Everything backfill could change on a repository, and its tags, as the account reads."""
    ecr = clients(session).ecr
    r = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    try:
        text: str | None = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        text = None
    return {
        "lifecycle": text,
        "mutability": r["imageTagMutability"],
        "exclusions": r.get("imageTagMutabilityExclusionFilters"),
        "scan_on_push": r["imageScanningConfiguration"]["scanOnPush"],
        "tags": sorted(
            (t["Key"], t["Value"])
            for t in ecr.list_tags_for_resource(resourceArn=r["repositoryArn"])["tags"]
        ),
    }


def foreign_repository(session: boto3.session.Session, name: str) -> None:
    """Another team's repository: its own lifecycle policy, IMMUTABLE tags, its own tags."""
    ecr = session.client("ecr", region_name=REGION)  # not through ecrcache: another team's
    ecr.create_repository(
        repositoryName=name, imageTagMutability="IMMUTABLE", tags=[{"Key": "team", "Value": "b"}]
    )
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=FOREIGN_LIFECYCLE)


def pull(name: str) -> None:
    simulate_pull(account_id=ACCOUNT, region=REGION, repository=name, tag="1")


def settings_changed(result: Any) -> set[str]:
    return {c.key for c in result.plan.changes if c.kind == "repository-settings"}


def touched(result: Any) -> set[str]:
    """Every repository name a change of the plan names."""
    return {c.key for c in result.plan.changes if c.kind in ("repository", "repository-settings")}


# --- the example config: [templates.ROOT] backfill = true ---------------------------------------


def test_example_backfill_changes_only_the_cache_repositories(
    aws: boto3.session.Session,
) -> None:
    example_roles(aws)  # the puller role the example names (ECR refuses unknown principals)
    doc = example_doc()
    # Before: the same rules and application repositories, no templates, and one more
    # application repository that the final config no longer declares.
    before = copy.deepcopy(doc)
    del before["templates"]
    before["repositories"]["acme/old"] = {"tag_mutability": "IMMUTABLE"}
    apply(parse_config(before), clients(aws), EXAMPLE_ENV)
    for name in ("docker-hub/library/nginx", "quay/prometheus/node-exporter", "k8s/pause"):
        pull(name)  # cache repositories created before their template: no lifecycle policy
    foreign_repository(aws, "other-team/service")
    foreign_repository(aws, "tools")
    foreign = ("other-team/service", "tools", "acme/old")
    seen = {name: repository_view(aws, name) for name in foreign}

    final = parse_config(doc)
    result = plan(final, clients(aws), EXAMPLE_ENV)
    cache = {"docker-hub/library/nginx", "quay/prometheus/node-exporter", "k8s/pause"}
    assert settings_changed(result) == cache
    assert touched(result) == cache
    assert {c.address for c in result.plan.changes} == {
        "template.ROOT",
        "template.docker-hub",
        # no iam-policy change: the CI policy names no application repository (ecrcache's tag
        # scopes them), so dropping acme/old from the config leaves it as it is
        *(f"repository-settings.{n}" for n in cache),
    }
    assert "repository.acme/old" in [u.address for u in result.plan.unmanaged]
    templates = {
        c.key: c.after.template for c in result.plan.changes if c.kind == "repository-settings"
    }
    assert templates == {
        "docker-hub/library/nginx": "docker-hub",
        "quay/prometheus/node-exporter": "ROOT",
        "k8s/pause": "ROOT",
    }

    apply(final, clients(aws), EXAMPLE_ENV)
    for name in foreign:
        assert repository_view(aws, name) == seen[name], name
    api = repository_view(aws, "acme/api")
    assert api["mutability"] == "IMMUTABLE" and api["scan_on_push"] is True
    assert api["tags"] == [("managed-by", "ecrcache"), ("team", "platform")]
    assert api["lifecycle"] is not None
    assert (
        lifecycle.normalise(api["lifecycle"]) == final.repositories["acme/api"].lifecycle.document()
    )  # type: ignore[union-attr]
    nginx = repository_view(aws, "docker-hub/library/nginx")["lifecycle"]
    assert nginx is not None
    assert lifecycle.normalise(nginx) == final.templates["docker-hub"].lifecycle.document()  # type: ignore[union-attr]
    assert plan(final, clients(aws), EXAMPLE_ENV).plan.empty


def test_backfill_reads_no_repository_outside_its_reach(aws: boto3.session.Session) -> None:
    """The repositories backfill leaves alone are not even read for its settings."""
    c = config(
        {"quay": {"upstream": "quay"}},
        templates={"ROOT": {"lifecycle": KEEP_5, "backfill": True}},
    )
    apply(c, clients(aws))
    foreign_repository(aws, "other-team/service")
    pull("quay/org/app")
    live = plan(c, clients(aws)).live
    assert set(live.repository_settings) == {"quay/org/app"}


def test_an_ecrcache_repository_under_a_rule_prefix_is_left_alone(
    aws: boto3.session.Session,
) -> None:
    """An application repository declared before a rule took its prefix (validate then asks
    for it to be removed from the config) carries ecrcache's tag: left alone, never backfilled."""
    apply(config({}, repositories={"quay/tools": {"tag_mutability": "IMMUTABLE"}}), clients(aws))
    seen = repository_view(aws, "quay/tools")
    pull_config = config(
        {"quay": {"upstream": "quay"}},
        templates={"quay": {"lifecycle": KEEP_5, "backfill": True}},
    )
    apply(config({"quay": {"upstream": "quay"}}), clients(aws))
    pull("quay/org/app")
    result = plan(pull_config, clients(aws))
    assert settings_changed(result) == {"quay/org/app"}
    assert "repository.quay/tools" in [u.address for u in result.plan.unmanaged]
    apply(pull_config, clients(aws))
    assert repository_view(aws, "quay/tools") == seen
    assert plan(pull_config, clients(aws)).plan.empty


# --- a ROOT rule: only the names the user lists ---------------------------------------------------


ROOT_RULES = {"ROOT": {"upstream": "ecr-public"}, "k8s": {"upstream": "k8s"}}


def root_config(**template: Any) -> Config:
    return config(
        ROOT_RULES,
        templates={"ROOT": {"lifecycle": KEEP_5, "backfill": True, **template}},
        repositories={"acme/api": {}},
    )


def seed_root_account(session: boto3.session.Session) -> None:
    apply(config(ROOT_RULES, repositories={"acme/api": {}}), clients(session))
    pull("k8s/pause")  # under the k8s rule's prefix
    pull("library/nginx")  # through the ROOT rule
    pull("bitnami/redis")  # through the ROOT rule
    foreign_repository(session, "team/app")  # pushed by a person: any name is a ROOT name


def test_root_rule_backfill_reaches_only_rule_prefixes_and_says_what_it_left(
    aws: boto3.session.Session,
) -> None:
    seed_root_account(aws)
    c = root_config()
    result = plan(c, clients(aws))
    assert settings_changed(result) == {"k8s/pause"}
    assert touched(result) == {"k8s/pause"}
    (note,) = [n for n in result.notes if n.startswith("backfill left")]
    assert "3 repositories" in note
    assert "bitnami/redis, library/nginx, team/app" in note
    assert "templates.ROOT.backfill_repositories" in note
    seen = repository_view(aws, "team/app")
    apply(c, clients(aws))
    assert repository_view(aws, "team/app") == seen
    assert plan(c, clients(aws)).plan.empty


def test_root_rule_backfill_reaches_the_names_the_user_lists(aws: boto3.session.Session) -> None:
    seed_root_account(aws)
    c = root_config(backfill_repositories=["library/*", "bitnami/*", "acme/*"])
    assert any("matches the application repository 'acme/api'" in w for w in c.warnings())
    result = plan(c, clients(aws))
    assert settings_changed(result) == {"k8s/pause", "library/nginx", "bitnami/redis"}
    assert touched(result) == {"k8s/pause", "library/nginx", "bitnami/redis"}
    (note,) = [n for n in result.notes if n.startswith("backfill left")]
    assert "1 repository alone" in note and "(team/app)" in note
    seen = repository_view(aws, "team/app")
    apply(c, clients(aws))
    assert repository_view(aws, "team/app") == seen
    text = repository_view(aws, "library/nginx")["lifecycle"]
    assert text is not None
    assert lifecycle.normalise(text) == lifecycle.normalise(lifecycle.compile_rules(**KEEP_5))
    assert plan(c, clients(aws)).plan.empty


def test_root_rule_pattern_never_reaches_an_ecrcache_repository(
    aws: boto3.session.Session,
) -> None:
    """An application repository since removed from the config matches a pattern: its tag says
    ecrcache made it for the config, so backfill leaves it alone."""
    apply(config(ROOT_RULES, repositories={"library/tool": {}}), clients(aws))
    seen = repository_view(aws, "library/tool")
    pull("library/nginx")
    c = config(
        ROOT_RULES,
        templates={
            "ROOT": {"lifecycle": KEEP_5, "backfill": True, "backfill_repositories": ["library/*"]}
        },
    )
    result = plan(c, clients(aws))
    assert settings_changed(result) == {"library/nginx"}
    assert [u.address for u in result.plan.unmanaged] == ["repository.library/tool"]
    assert not [n for n in result.notes if n.startswith("backfill left")]
    apply(c, clients(aws))
    assert repository_view(aws, "library/tool") == seen


# --- item 7: a rule left in place keeps its prefix in the policies --------------------------------


NODE = f"arn:aws:iam::{ACCOUNT}:role/eks-node"
TWO_RULES = {"quay": {"upstream": "quay"}, "k8s": {"upstream": "k8s"}}
DH = cred("dh")


def policy_config(rules: dict[str, Any]) -> Config:
    return config(rules, pullers={"principals": [NODE]}, ci_policy={})


def granted_prefixes(session: boto3.session.Session) -> set[str]:
    text = clients(session).ecr.get_registry_policy()["policyText"]
    (st,) = [s for s in json.loads(text)["Statement"] if s["Sid"].startswith("ecrcache-")]
    resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
    return {r.split(":repository/", 1)[1].split("/", 1)[0] for r in resources}


def ci_resources(session: boto3.session.Session) -> str:
    iam = session.client("iam")
    arn = f"arn:aws:iam::{ACCOUNT}:policy/ecrcache-ci"
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return doc if isinstance(doc, str) else json.dumps(doc)


def test_a_rule_left_in_place_stays_in_the_policies(aws: boto3.session.Session) -> None:
    example_roles(aws)
    apply(policy_config(TWO_RULES), clients(aws))
    assert granted_prefixes(aws) == {"quay", "k8s"}
    assert "repository/k8s/" in ci_resources(aws)

    only_quay = policy_config({"quay": {"upstream": "quay"}})
    result = plan(only_quay, clients(aws))
    assert result.plan.empty, [c.address for c in result.plan.changes]
    assert [u.address for u in result.plan.unmanaged] == ["rule.k8s"]
    (note,) = [n for n in result.notes if n.startswith("rule.k8s")]
    assert "registry policy and the CI policy keep granting on its prefix" in note
    apply(only_quay, clients(aws))
    assert granted_prefixes(aws) == {"quay", "k8s"}
    assert "repository/k8s/" in ci_resources(aws)


def test_with_prune_the_policies_cover_only_the_declared_rules(
    aws: boto3.session.Session,
) -> None:
    example_roles(aws)
    # the docker-hub rule is provably ecrcache's (it holds ecrcache's secret), so prune deletes it
    owned = {"quay": {"upstream": "quay"}, "dh": {"upstream": "docker-hub", "credentials": DH}}
    apply(policy_config(owned), clients(aws))
    only_quay = policy_config({"quay": {"upstream": "quay"}})
    result = plan(only_quay, clients(aws), prune=True)
    assert {(c.address, c.action) for c in result.plan.changes} == {
        ("rule.dh", Action.DELETE),
        ("secret.ecr-pullthroughcache/dh", Action.DELETE),
        ("registry-policy.registry", Action.UPDATE),
        ("iam-policy.ecrcache-ci", Action.UPDATE),
    }
    assert not [n for n in result.notes if n.startswith("rule.")]
    apply(only_quay, clients(aws), prune=True)
    assert granted_prefixes(aws) == {"quay"}
    assert "repository/dh/" not in ci_resources(aws)
    assert plan(only_quay, clients(aws)).plan.empty


def test_a_rule_prune_leaves_stays_in_the_policies(aws: boto3.session.Session) -> None:
    # k8s has no credential: not provably ecrcache's, so prune leaves it, and pulls through it
    # must keep working (ownership.py).
    example_roles(aws)
    apply(policy_config(TWO_RULES), clients(aws))
    only_quay = policy_config({"quay": {"upstream": "quay"}})
    result = plan(only_quay, clients(aws), prune=True)
    assert result.plan.empty, [c.address for c in result.plan.changes]
    (note,) = [n for n in result.notes if n.startswith("rule.k8s")]
    assert "left in place (not provably ecrcache's)" in note
    apply(only_quay, clients(aws), prune=True)
    assert granted_prefixes(aws) == {"quay", "k8s"}
    assert "repository/k8s/" in ci_resources(aws)


@pytest.mark.parametrize("prune", [False, True])
def test_a_new_config_without_policies_says_nothing_of_them(
    aws: boto3.session.Session, prune: bool
) -> None:
    apply(config(TWO_RULES), clients(aws))
    result = plan(config({"quay": {"upstream": "quay"}}), clients(aws), prune=prune)
    assert not [n for n in result.notes if n.startswith("rule.")]
    # what it does say: k8s is not provably ecrcache's, and how to remove it by hand
    assert [n for n in result.notes if "--ecr-repository-prefix k8s" in n]
