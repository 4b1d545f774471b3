"""prune on a seeded moto account: exactly the stale set goes, indexes whole, nothing else."""

from __future__ import annotations

from datetime import datetime, timedelta

import boto3
from cost_seed import ACCOUNT, GIB, REGION, manifest, push, seed

from ecrcache.aws import Clients
from ecrcache.cost.inventory import read_inventory
from ecrcache.cost.prune import PrunePlan, plan_prune, run_prune
from ecrcache.sandbox.pulls import simulate_pull

APPS = ["team/api"]


def tags_left(clients: Clients, repo: str) -> list[tuple[str, ...]]:
    details = clients.ecr.describe_images(repositoryName=repo)["imageDetails"]
    return sorted(tuple(d.get("imageTags", ())) for d in details)


def plan_for(clients: Clients, now: datetime, **kw: object) -> PrunePlan:
    inv = read_inventory(clients)
    return plan_prune(
        inv.repositories,
        prefixes=[r.prefix for r in inv.rules],
        applications=APPS,
        now=now,
        **{"older_than_days": 90, **kw},  # type: ignore[arg-type]
    )


def test_prune_deletes_exactly_the_stale_set(aws: boto3.session.Session) -> None:
    now = seed(aws)
    clients = Clients(aws, REGION)
    plan = plan_for(clients, now)
    # stale at 90 days: nginx:1.26 (120 days) and the prometheus index (100 days) with its two
    # platform images; nothing in team/api (application) or legacy/tool (no rule)
    assert [(d.repository, d.images, d.bytes) for d in plan.deletions] == [
        ("ecr-public/library/nginx", 1, GIB),
        ("quay/prometheus/prometheus", 1, GIB),
    ]
    prom = plan.deletions[1]
    assert len(prom.first) == 1 and len(prom.then) == 2  # the index first, then its children
    # in scope: 4 nginx + 2 quay images
    assert plan.images_in_scope == 6 and plan.images == 2
    before = len(clients.calls)
    result = run_prune(plan, clients)
    assert clients.calls[before:] == ["ecr.BatchDeleteImage"] * 3  # nginx; index; children
    assert result.deleted_images == 4 and result.failures == ()
    assert tags_left(clients, "ecr-public/library/nginx") == [(), ("1.27",), ("old",)]
    assert tags_left(clients, "quay/prometheus/prometheus") == []
    assert tags_left(clients, "quay/coreos/etcd") == [(), (), ("v3.5",)]
    assert tags_left(clients, "team/api") == [("v1",)]
    assert tags_left(clients, "legacy/tool") == [("v1",)]
    assert plan_for(clients, now).deletions == ()  # idempotent: nothing left to prune


def test_applications_only_when_named(aws: boto3.session.Session) -> None:
    now = seed(aws)
    clients = Clients(aws, REGION)
    later = now + timedelta(days=365)  # everything is stale a year on
    plain = plan_for(clients, later)
    assert "team/api" not in {d.repository for d in plain.deletions}
    named = plan_for(clients, later, named=["team/api"])
    assert "team/api" in {d.repository for d in named.deletions}
    assert "legacy/tool" not in {d.repository for d in named.deletions}


def test_only_prefixes_and_whole_repositories(aws: boto3.session.Session) -> None:
    now = seed(aws)
    clients = Clients(aws, REGION)
    plan = plan_for(clients, now, only_prefixes=["quay"], whole_repositories=True)
    # prometheus is all stale: the repository goes; etcd (pushed now) stays
    assert [(d.repository, d.whole_repository) for d in plan.deletions] == [
        ("quay/prometheus/prometheus", True)
    ]
    result = run_prune(plan, clients)
    assert result.deleted_repositories == ("quay/prometheus/prometheus",)
    names = {r["repositoryName"] for r in clients.ecr.describe_repositories()["repositories"]}
    assert "quay/prometheus/prometheus" not in names and "quay/coreos/etcd" in names
    assert "ecr-public/library/nginx" in names


def test_share_threshold(aws: boto3.session.Session) -> None:
    now = seed(aws)
    clients = Clients(aws, REGION)
    # eleven stale images in one cache repository: 11 of 17 images in scope, 65%
    for i in range(11):
        simulate_pull(
            account_id=ACCOUNT,
            region=REGION,
            repository="ecr-public/library/redis",
            tag=f"7.{i}",
            layer_sizes=(1000 + i,),
            pulled_at=now - timedelta(days=200),
        )
    plan = plan_for(clients, now)
    assert plan.images_in_scope == 17 and plan.images == 13
    assert plan.unsafe_reason(0.5) is not None
    assert plan.unsafe_reason(0.8) is None


def test_batches_of_100(aws: boto3.session.Session) -> None:
    aws.client("ecr").create_pull_through_cache_rule(
        ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io", upstreamRegistry="quay"
    )
    now = seed_many(aws, 150)
    clients = Clients(aws, REGION)
    plan = plan_for(clients, now)
    assert plan.images == 150
    before = len(clients.calls)
    result = run_prune(plan, clients)
    assert clients.calls[before:] == ["ecr.BatchDeleteImage"] * 2
    assert result.deleted_images == 150
    assert tags_left(clients, "quay/many/images") == []


def seed_many(aws: boto3.session.Session, n: int) -> datetime:
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="quay/many/images")
    for i in range(n):
        push(ecr, "quay/many/images", manifest(f"m{i}", [i + 1]), f"t{i}")
    return datetime.now().astimezone() + timedelta(days=100)


def test_planning_changes_nothing(aws: boto3.session.Session) -> None:
    now = seed(aws)
    clients = Clients(aws, REGION)
    plan_for(clients, now)
    assert clients.mutating_calls == []
