"""Real-AWS behaviours warm rests on, one test each, each naming its source.

warm decides "already cached" with DescribeImages before it pulls (registry/warm/inspect.py);
these pin the answers it reads, on the sandbox, which gives them as ECR does.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from ecrcache.registry.warm import EcrInspector
from ecrcache.sandbox.pulls import simulate_pull

ACCOUNT = "123456789012"
REGION = "af-south-1"


@pytest.fixture
def ecr(aws: boto3.session.Session) -> object:
    client = aws.client("ecr")
    client.create_pull_through_cache_rule(ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io")
    return client


def test_a_missing_repository_or_tag_is_not_cached(ecr: object) -> None:
    # Source: botocore's ECR model (data/ecr/2015-09-21/service-2.json), DescribeImages errors:
    # RepositoryNotFoundException ("The specified repository could not be found") and
    # ImageNotFoundException ("The image requested does not exist in the specified repository").
    inspector = EcrInspector(ecr)
    assert inspector.lookup("quay/org/app", "1").state == "absent"  # no repository yet
    simulate_pull(account_id=ACCOUNT, region=REGION, repository="quay/org/app", tag="1")
    assert inspector.lookup("quay/org/app", "2").state == "absent"  # the repository, not the tag
    found = inspector.lookup("quay/org/app", "1")
    assert found.state == "present" and found.digest and found.digest.startswith("sha256:")
    assert inspector.failures == []


def test_each_platform_of_a_cached_index_is_an_image_of_its_own(ecr: object) -> None:
    # Source: a pull through the cache "creates two additional untagged images along with the
    # image with the tag" (https://github.com/aws/containers-roadmap/issues/1612); the console
    # lists a multi-architecture image's manifests as untagged images
    # (https://github.com/aws/containers-roadmap/issues/1596). So each platform can be asked
    # for by its manifest digest.
    simulate_pull(
        account_id=ACCOUNT,
        region=REGION,
        repository="quay/org/multi",
        tag="1",
        platforms=("linux/amd64", "linux/arm64"),
    )
    index = ecr.batch_get_image(  # type: ignore[attr-defined]
        repositoryName="quay/org/multi", imageIds=[{"imageTag": "1"}]
    )["images"][0]
    children = [m["digest"] for m in json.loads(index["imageManifest"])["manifests"]]
    assert len(children) == 2
    inspector = EcrInspector(ecr)
    for digest in children:
        found = inspector.lookup("quay/org/multi", digest)
        assert found.state == "present" and found.digest == digest
    details = ecr.describe_images(  # type: ignore[attr-defined]
        repositoryName="quay/org/multi", imageIds=[{"imageDigest": d} for d in children]
    )["imageDetails"]
    assert all(not d.get("imageTags") for d in details)  # untagged


def test_without_describe_images_the_state_is_unknown_not_absent(ecr: object) -> None:
    # Source: IAM denies an action the caller's policies do not allow with AccessDeniedException
    # (ECR API reference, Common Errors); a puller role with only
    # AmazonEC2ContainerRegistryPullOnly lacks ecr:DescribeImages. No stateful fake denies, so
    # botocore's Stubber gives the error.
    inspector = EcrInspector(ecr)
    with Stubber(ecr) as stub:  # type: ignore[arg-type]
        stub.add_client_error(
            "describe_images",
            service_error_code="AccessDeniedException",
            service_message="User is not authorized to perform: ecr:DescribeImages",
            http_status_code=400,
        )
        found = inspector.lookup("quay/org/app", "1")
    assert found.state == "unknown"
    assert found.reason and "ecr:DescribeImages" in found.reason
    assert len(inspector.failures) == 1
