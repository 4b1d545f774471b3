"""simulate_pull: what a first pull through a cache rule leaves in the (moto) account."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from ecrcache.errors import SandboxError
from ecrcache.sandbox.pulls import DEFAULT_LAYER_SIZES, PullError, SimulatedPull, simulate_pull

ACCOUNT = "123456789012"
REGION = "af-south-1"
LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "any",
                    "countType": "sinceImagePulled",
                    "countUnit": "days",
                    "countNumber": 30,
                },
                # sinceImagePulled can only transition (to the archive class), not expire
                "action": {"type": "transition", "targetStorageClass": "archive"},
            }
        ]
    }
)
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "pull", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}
        ],
    }
)
KMS_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"


def pull(repository: str, **kwargs: Any) -> SimulatedPull:
    return simulate_pull(account_id=ACCOUNT, region=REGION, repository=repository, **kwargs)


@pytest.fixture
def ecr(aws: boto3.session.Session) -> Any:
    client = aws.client("ecr")
    client.create_pull_through_cache_rule(
        ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws"
    )
    return client


def test_first_pull_creates_the_repository_with_the_prefix_template(ecr: Any) -> None:
    ecr.create_repository_creation_template(
        prefix="ecr-public",
        appliedFor=["PULL_THROUGH_CACHE"],
        lifecyclePolicy=LIFECYCLE,
        repositoryPolicy=POLICY,
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}],
        encryptionConfiguration={"encryptionType": "KMS", "kmsKey": KMS_ARN},
        resourceTags=[{"Key": "team", "Value": "platform"}],
    )
    ecr.create_repository_creation_template(prefix="ROOT", appliedFor=["PULL_THROUGH_CACHE"])
    result = pull("ecr-public/docker/library/nginx", tag="1.27")
    assert result.created and result.template_prefix == "ecr-public"
    assert result.rule_prefix == "ecr-public"
    repo = ecr.describe_repositories(repositoryNames=["ecr-public/docker/library/nginx"])[
        "repositories"
    ][0]
    assert repo["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert repo["imageTagMutabilityExclusionFilters"] == [
        {"filterType": "WILDCARD", "filter": "latest"}
    ]
    assert repo["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": KMS_ARN}
    name = repo["repositoryName"]
    text = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    assert json.loads(text) == json.loads(LIFECYCLE)  # as ECR serialises it
    assert json.loads(ecr.get_repository_policy(repositoryName=name)["policyText"]) == json.loads(
        POLICY
    )
    tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
    assert tags == [{"Key": "team", "Value": "platform"}]


def test_root_template_applies_when_no_prefix_template(ecr: Any) -> None:
    ecr.create_repository_creation_template(
        prefix="ROOT", appliedFor=["PULL_THROUGH_CACHE"], imageTagMutability="IMMUTABLE"
    )
    result = pull("ecr-public/a/b")
    assert result.template_prefix == "ROOT"
    repo = ecr.describe_repositories(repositoryNames=["ecr-public/a/b"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"


def test_template_not_for_pull_through_cache_is_ignored(ecr: Any) -> None:
    ecr.create_repository_creation_template(
        prefix="ecr-public", appliedFor=["REPLICATION"], imageTagMutability="IMMUTABLE"
    )
    result = pull("ecr-public/a/b")
    assert result.template_prefix is None
    repo = ecr.describe_repositories(repositoryNames=["ecr-public/a/b"])["repositories"][0]
    assert repo["imageTagMutability"] == "MUTABLE"
    assert repo["encryptionConfiguration"] == {"encryptionType": "AES256"}


def test_image_is_listed_and_described_with_size_and_pull_time(ecr: Any) -> None:
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = pull("ecr-public/nginx/nginx", tag="stable", pulled_at=when)
    ids = ecr.list_images(repositoryName="ecr-public/nginx/nginx")["imageIds"]
    assert ids == [{"imageDigest": result.image_digest, "imageTag": "stable"}]
    detail = ecr.describe_images(repositoryName="ecr-public/nginx/nginx")["imageDetails"][0]
    assert detail["imageSizeInBytes"] == sum(DEFAULT_LAYER_SIZES) == result.image_size_in_bytes
    assert detail["lastRecordedPullTime"] == when
    assert detail["imagePushedAt"] == when
    got = ecr.batch_get_image(
        repositoryName="ecr-public/nginx/nginx", imageIds=[{"imageTag": "stable"}]
    )
    manifest = got["images"][0]["imageManifest"]
    assert "sha256:" + hashlib.sha256(manifest.encode()).hexdigest() == result.image_digest
    doc = json.loads(manifest)
    assert doc["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert [layer["size"] for layer in doc["layers"]] == list(DEFAULT_LAYER_SIZES)


def test_second_pull_updates_pull_time_only(ecr: Any) -> None:
    first = pull("ecr-public/x/y", pulled_at=datetime(2025, 1, 1, tzinfo=UTC))
    later = datetime(2025, 3, 1, tzinfo=UTC)
    second = pull("ecr-public/x/y", pulled_at=later)
    assert not second.created and second.image_digest == first.image_digest
    details = ecr.describe_images(repositoryName="ecr-public/x/y")["imageDetails"]
    assert len(details) == 1 and details[0]["lastRecordedPullTime"] == later


def test_changed_upstream_content_moves_the_tag(ecr: Any) -> None:
    old = pull("ecr-public/x/y", layer_sizes=(10, 20))
    new = pull("ecr-public/x/y", layer_sizes=(10, 30))
    assert old.image_digest != new.image_digest
    ids = ecr.list_images(repositoryName="ecr-public/x/y")["imageIds"]
    tagged = {i["imageDigest"] for i in ids if i.get("imageTag") == "latest"}
    assert tagged == {new.image_digest}
    assert len(ids) == 2


def test_multi_platform_pull_records_children_and_a_tagged_list(ecr: Any) -> None:
    result = pull(
        "ecr-public/x/y", platforms=("linux/amd64", "linux/arm64"), layer_sizes=(100, 200)
    )
    details = ecr.describe_images(repositoryName="ecr-public/x/y")["imageDetails"]
    assert len(details) == 3
    tagged = [d for d in details if d.get("imageTags")]
    assert [d["imageDigest"] for d in tagged] == [result.image_digest]
    assert tagged[0]["imageManifestMediaType"].endswith("manifest.list.v2+json")
    assert tagged[0]["imageSizeInBytes"] == 300


@pytest.mark.parametrize(
    ("rules", "repository", "expected"),
    [
        (["ecr-public", "ROOT"], "ecr-public/a", "ecr-public"),
        (["ecr-public", "ROOT"], "nginx", "ROOT"),
        (["ecr-public", "ROOT"], "ecr-public", "ROOT"),  # the prefix alone is not under it
        (["team", "team/sub"], "team/sub/app", "team/sub"),
        (["team", "team/sub"], "team/other", "team"),
        (["team/"], "team/app", "team/"),
    ],
)
def test_rule_matching(
    aws: boto3.session.Session, rules: list[str], repository: str, expected: str
) -> None:
    ecr = aws.client("ecr")
    for prefix in rules:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix=prefix, upstreamRegistryUrl="quay.io"
        )
    assert pull(repository).rule_prefix == expected


def test_no_matching_rule_is_a_clear_error(ecr: Any) -> None:
    with pytest.raises(PullError) as exc:
        pull("docker-hub/library/nginx")
    assert isinstance(exc.value, SandboxError)
    assert "no pull-through cache rule" in exc.value.message
    assert "docker-hub/library/nginx" in exc.value.message
    assert ecr.describe_repositories()["repositories"] == []


def test_unusable_secret_fails_the_pull(aws: boto3.session.Session) -> None:
    sm = aws.client("secretsmanager")
    arn = sm.create_secret(Name="ecr-pullthroughcache/dh", SecretString='{"username": "u"}')["ARN"]
    aws.client("ecr").create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub",
        upstreamRegistryUrl="registry-1.docker.io",
        credentialArn=arn,
    )
    with pytest.raises(PullError, match="accessToken"):
        pull("docker-hub/library/nginx")
    sm.put_secret_value(SecretId=arn, SecretString='{"username": "u", "accessToken": "t"}')
    assert pull("docker-hub/library/nginx").created
