"""test_pull in the sandbox: the simulated pull's effect on ECR, verified through the ECR client."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ecrcache.config.upstreams import registry_host
from ecrcache.registry import Platform
from ecrcache.registry import testpull as pulltest
from ecrcache.rewrite.mapping import Mapping, routes_from_rules

ACCOUNT = "123456789012"
REGION = "af-south-1"
AMD64 = Platform.parse("linux/amd64")
LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 5,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)


@dataclass(frozen=True)
class Rule:
    prefix: str
    upstream: str
    url: str | None = None
    upstream_prefix: str | None = None


MAPPING = Mapping(
    routes_from_rules([Rule("ecr-public", "ecr-public"), Rule("k8s", "k8s")]),
    registry_host(ACCOUNT, REGION),
)


@pytest.fixture
def ecr(aws: boto3.session.Session) -> Any:
    client = aws.client("ecr")
    for prefix, url in (("ecr-public", "public.ecr.aws"), ("k8s", "registry.k8s.io")):
        client.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl=url)
    return client


def sandbox_pull(ecr: Any, text: str) -> pulltest.PullTestResult:
    target, warnings = pulltest.resolve(text, MAPPING)
    simulate = pulltest.simulator(target, account_id=ACCOUNT, region=REGION, platform=AMD64)
    return pulltest.test_pull(
        target, reference=text, platform=AMD64, simulate=simulate, ecr=ecr, warnings=warnings
    )


def test_first_pull_creates_the_repository_under_the_template(ecr: Any) -> None:
    ecr.create_repository_creation_template(
        prefix="ecr-public",
        appliedFor=["PULL_THROUGH_CACHE"],
        lifecyclePolicy=LIFECYCLE,
        imageTagMutability="IMMUTABLE",
    )
    result = sandbox_pull(ecr, "public.ecr.aws/nginx/nginx:1.27")
    assert result.simulated and result.attempts == ()
    assert result.note == pulltest.SIMULATED_NOTE
    assert result.cache_reference == (
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/ecr-public/nginx/nginx:1.27"
    )
    v = result.verification
    assert v is not None and v.error is None
    assert (v.repository, v.exists, v.created) == ("ecr-public/nginx/nginx", True, True)
    assert v.lifecycle_policy is True and v.tag_mutability == "IMMUTABLE"
    assert v.encryption == "AES256"
    listed = ecr.describe_images(
        repositoryName="ecr-public/nginx/nginx", imageIds=[{"imageTag": "1.27"}]
    )["imageDetails"][0]
    assert v.image_listed and v.image_digest == listed["imageDigest"]
    assert v.image_size == listed["imageSizeInBytes"]
    assert v.digest_matches is None  # nothing was pulled to compare with
    assert result.warnings == ()

    again = sandbox_pull(ecr, "public.ecr.aws/nginx/nginx:1.27")
    assert again.verification is not None and again.verification.created is False


def test_without_a_template_there_is_no_lifecycle_policy(ecr: Any) -> None:
    result = sandbox_pull(ecr, "registry.k8s.io/pause:3.10")
    v = result.verification
    assert v is not None and v.created is True and v.repository == "k8s/pause"
    assert v.lifecycle_policy is False and v.tag_mutability == "MUTABLE"
    assert any("no lifecycle policy" in w for w in result.warnings)


def test_digest_only_populates_nothing(ecr: Any) -> None:
    digest = "sha256:" + "ab" * 32
    result = sandbox_pull(ecr, f"public.ecr.aws/nginx/nginx@{digest}")
    assert any("digest-only" in w for w in result.warnings)
    assert result.note is not None and "would not fetch a pull by digest" in result.note
    v = result.verification
    assert v is not None and v.exists is False and v.created is False
    assert ecr.describe_repositories()["repositories"] == []


def test_verify_compares_the_pulled_digest(ecr: Any) -> None:
    sandbox_pull(ecr, "public.ecr.aws/nginx/nginx:1.27")
    target, _ = pulltest.resolve("public.ecr.aws/nginx/nginx:1.27", MAPPING)
    listed = ecr.describe_images(repositoryName=target.repository, imageIds=[{"imageTag": "1.27"}])[
        "imageDetails"
    ][0]["imageDigest"]
    same = pulltest.verify(ecr, target, existed_before=True, pulled_digest=listed)
    assert same.digest_matches is True and same.created is False
    other = pulltest.verify(ecr, target, existed_before=None, pulled_digest="sha256:" + "0" * 64)
    assert other.digest_matches is False and other.created is None


def test_a_tag_ecr_does_not_list(ecr: Any) -> None:
    sandbox_pull(ecr, "public.ecr.aws/nginx/nginx:1.27")
    target, _ = pulltest.resolve("public.ecr.aws/nginx/nginx:9.99", MAPPING)
    v = pulltest.verify(ecr, target, existed_before=True, pulled_digest=None)
    assert v.exists and not v.image_listed and v.image_digest is None


def test_no_permission_to_verify_is_reported_not_raised(aws: boto3.session.Session) -> None:
    # AccessDenied on a read is what a puller with only AmazonEC2ContainerRegistryPullOnly gets;
    # no stateful fake enforces IAM, hence the Stubber.
    client = aws.client("ecr")
    target, _ = pulltest.resolve("public.ecr.aws/nginx/nginx:1.27", MAPPING)
    with Stubber(client) as stub:
        for _ in range(2):  # before the pull, and after it
            stub.add_client_error(
                "describe_repositories",
                service_error_code="AccessDeniedException",
                service_message="not authorized to perform: ecr:DescribeRepositories",
            )
        result = pulltest.test_pull(
            target, reference="x", platform=AMD64, simulate=lambda: None, ecr=client
        )
    v = result.verification
    assert v is not None and v.error is not None and "AccessDeniedException" in v.error
    assert result.warnings == (f"could not verify on ECR: {v.error}",)


def test_no_rule_in_the_account_is_the_sandbox_error(aws: boto3.session.Session) -> None:
    from ecrcache.sandbox.pulls import PullError

    with pytest.raises(PullError, match="no pull-through cache rule"):
        sandbox_pull(aws.client("ecr"), "public.ecr.aws/nginx/nginx:1.27")
