"""What cost-report's inventory costs in API calls, and that bench_cost_report's baseline (the
plain script a user would write) computes the figures cost-report computes.

Call counts come from ``Clients.calls`` (a botocore before-call hook): a change that brings back
a listing page per 100 repositories, or a second read per repository, fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from ecrcache.aws import Clients
from ecrcache.cost.inventory import read_inventory
from ecrcache.sandbox.pulls import simulate_pull

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT, REGION = "123456789012", "af-south-1"
MULTI = ("linux/amd64", "linux/arm64")


def seed(aws: boto3.session.Session, repositories: int) -> None:
    """``repositories`` cache repositories (every third multi-platform), two tags each, v0 of
    every fifth re-pulled (its first image untagged), one image in eleven archived, v0 of every
    fourth last pulled 200 days ago (stale)."""
    now = datetime.now(UTC)
    ecr = aws.client("ecr")
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="hub",
        upstreamRegistryUrl="public.ecr.aws",
        upstreamRegistry="ecr-public",
    )
    ecr.create_repository_creation_template(
        prefix="ROOT",
        appliedFor=["PULL_THROUGH_CACHE"],
        lifecyclePolicy=json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {
                            "tagStatus": "any",
                            "countType": "imageCountMoreThan",
                            "countNumber": 1,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            }
        ),
    )
    for i in range(repositories):
        name, platforms = f"hub/team/app{i:03}", MULTI if i % 3 == 0 else ()
        for tag, size in (("v0", 1000 + i), ("v1", 2000 + i)):
            pull = simulate_pull(
                account_id=ACCOUNT,
                region=REGION,
                repository=name,
                tag=tag,
                layer_sizes=(size,),
                platforms=platforms,
                pulled_at=now - timedelta(days=200 if i % 4 == 0 and tag == "v0" else 1),
            )
        if i % 5 == 0:
            simulate_pull(
                account_id=ACCOUNT,
                region=REGION,
                repository=name,
                tag="v0",
                layer_sizes=(5000 + i,),
                platforms=platforms,
            )
        if i % 11 == 0:
            ecr.update_image_storage_class(
                repositoryName=name,
                imageId={"imageDigest": pull.image_digest},
                targetStorageClass="ARCHIVE",
            )


def test_inventory_makes_one_listing_call_and_one_read_per_repository(
    aws: boto3.session.Session,
) -> None:
    # 150 repositories: two pages at ECR's default of 100, one at the 1,000 ecrcache asks for.
    seed(aws, 150)
    clients = Clients(aws, REGION)
    inv = read_inventory(clients, concurrency=4)
    assert len(inv.repositories) == 150
    with_index = sum(1 for r in inv.repositories if any(i.children for i in r.images))
    assert with_index == 50
    assert Counter(clients.calls) == {
        "ecr.DescribePullThroughCacheRules": 1,
        "ecr.DescribeRepositoryCreationTemplates": 1,
        "ecr.DescribeRepositories": 1,
        "ecr.DescribeImages": 150,
        "ecr.BatchGetImage": 50,  # one per repository holding an index, none elsewhere
    }


def test_the_benchmark_baseline_computes_what_cost_report_computes(
    aws: boto3.session.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    # bench_cost_report compares cost-report with benchmarks/plain_cost_report.py and means it
    # only if both compute the same figures: indexes, untagged, archived and stale images alike.
    from moto.server import ThreadedMotoServer

    from ecrcache.cli.app import run

    seed(aws, 12)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
        plain = subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "plain_cost_report.py"),
                "--endpoint-url",
                endpoint,
                "--region",
                REGION,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        code = run(["--endpoint-url", endpoint, "--region", REGION, "-o", "json", "cost-report"])
        assert code == 0
    finally:
        server.stop()
    theirs = json.loads(plain.stdout)
    data = json.loads(capsys.readouterr().out)["data"]
    (hub,) = data["per_upstream"]
    assert theirs["per_prefix"] == {
        "hub": [hub["images"], hub["stored_bytes"], hub["archived_bytes"]]
    }
    assert hub["images"] == 12 * 2 + 3  # 2 tags, and the untagged v0 of 3 repositories
    assert hub["archived_bytes"] > 0
    assert theirs["untagged_bytes"] == data["untagged"]["bytes"] > 0
    assert theirs["stale_bytes"] == data["stale"]["bytes"] > 0
    assert theirs["lifecycle_expire_bytes"] == {
        w["template"]: w["expire"]["bytes"] for w in data["lifecycle"]
    }
    assert theirs["lifecycle_expire_bytes"]["ROOT"] > 0
