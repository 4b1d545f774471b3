"""How ECR picks the creation template for a repository a pull creates, and that a template
leaves earlier repositories alone: what backfill's reach rests on. One test per behaviour, each
naming its source; the sandbox (ecrcache's extension) must behave so."""

from __future__ import annotations

import boto3
from reconcile_support import ACCOUNT, REGION, apply, clients, config, plan

from ecrcache import lifecycle
from ecrcache.sandbox.pulls import simulate_pull


def template_lifecycle(keep: int) -> dict[str, object]:
    return {"lifecycle": {"keep_last": keep}}


def kept(session: boto3.session.Session, name: str) -> int | None:
    """The keep_last count of a repository's lifecycle policy (None: no policy)."""
    ecr = clients(session).ecr
    try:
        text = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        return None
    for keep in range(1, 100):
        if lifecycle.normalise(text) == lifecycle.normalise(
            lifecycle.compile_rules(keep_last=keep)
        ):
            return keep
    raise AssertionError(text)


def pull(name: str) -> None:
    simulate_pull(account_id=ACCOUNT, region=REGION, repository=name, tag="1")


def test_the_repository_name_picks_the_template_not_the_rule(aws: boto3.session.Session) -> None:
    # Source: CreateRepositoryCreationTemplate, prefix: "All repositories created using this
    # namespace prefix will have the settings defined in this template applied ... ROOT [for]
    # all repositories ... that don't have an associated creation template."
    # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepositoryCreationTemplate.html
    c = config(
        {"ROOT": {"upstream": "ecr-public"}},
        templates={"ROOT": template_lifecycle(5), "bitnami": template_lifecycle(7)},
    )
    apply(c, clients(aws))
    pull("bitnami/redis")  # through the ROOT rule
    pull("library/nginx")
    assert kept(aws, "bitnami/redis") == 7
    assert kept(aws, "library/nginx") == 5


def test_the_most_specific_template_prefix_wins(aws: boto3.session.Session) -> None:
    # Source: as above: "a prefix of prod/team would apply to all repositories beginning with
    # prod/team/" (while prod applies to the rest of prod/).
    c = config(
        {"quay": {"upstream": "quay"}},
        templates={"quay": template_lifecycle(5), "quay/prometheus": template_lifecycle(7)},
    )
    apply(c, clients(aws))
    pull("quay/prometheus/node-exporter")
    pull("quay/org/app")
    assert kept(aws, "quay/prometheus/node-exporter") == 7
    assert kept(aws, "quay/org/app") == 5


def test_a_template_applies_only_to_its_scenarios(aws: boto3.session.Session) -> None:
    # Source: RepositoryCreationTemplate.appliedFor: "the repository creation scenarios that this
    # template will apply towards" (PULL_THROUGH_CACHE, REPLICATION, CREATE_ON_PUSH).
    # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_RepositoryCreationTemplate.html
    c = config(
        {"quay": {"upstream": "quay"}},
        templates={
            "ROOT": template_lifecycle(5),
            "quay": {**template_lifecycle(7), "applied_for": ["CREATE_ON_PUSH"]},
        },
    )
    apply(c, clients(aws))
    pull("quay/org/app")
    assert kept(aws, "quay/org/app") == 5


def test_a_template_does_not_touch_repositories_created_before_it(
    aws: boto3.session.Session,
) -> None:
    # Source: "Once the repository creation template is created, all new repositories created
    # will have the settings applied. This doesn't have any effect on any previously created
    # repositories." https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create.html
    rules = {"quay": {"upstream": "quay"}}
    apply(config(rules), clients(aws))
    pull("quay/org/old")
    c = config(rules, templates={"quay": template_lifecycle(5)})
    apply(c, clients(aws))
    assert kept(aws, "quay/org/old") is None
    # which is what backfill is for: it sets the template ECR would have applied
    with_backfill = config(rules, templates={"quay": {**template_lifecycle(5), "backfill": True}})
    apply(with_backfill, clients(aws))
    assert kept(aws, "quay/org/old") == 5
    assert plan(with_backfill, clients(aws)).plan.empty


def test_backfill_sets_the_template_ecr_would_have_applied_under_a_root_rule(
    aws: boto3.session.Session,
) -> None:
    # Source: as in the first test; backfill's choice of template (backfill.BackfillScope) and
    # ECR's agree, so a repository pulled after the apply plans no change either.
    rules = {"ROOT": {"upstream": "ecr-public"}}
    apply(config(rules), clients(aws))
    pull("bitnami/redis")
    c = config(
        rules,
        templates={
            "ROOT": template_lifecycle(5),
            "bitnami": {
                **template_lifecycle(7),
                "backfill": True,
                "backfill_repositories": ["bitnami/*"],
            },
        },
    )
    apply(c, clients(aws))
    assert kept(aws, "bitnami/redis") == 7
    pull("bitnami/postgres")
    assert kept(aws, "bitnami/postgres") == 7
    assert plan(c, clients(aws)).plan.empty
