"""Repository creation templates in the moto extension: constraints, errors, update, pages."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
KMS_ARN = f"arn:aws:kms:af-south-1:{ACCOUNT}:key/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
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
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}],
    }
)
BASE = {"prefix": "docker-hub", "appliedFor": ["PULL_THROUGH_CACHE"]}


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"prefix": "ROOT"},
        {"prefix": "a"},
        {"prefix": "a/" + "b" * 254},
        {"appliedFor": ["REPLICATION", "PULL_THROUGH_CACHE", "CREATE_ON_PUSH"]},
        {"encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": KMS_ARN}},
        {"encryptionConfiguration": {"encryptionType": "KMS"}},
        {"imageTagMutability": "IMMUTABLE"},
        {
            "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": [
                {"filterType": "WILDCARD", "filter": f"latest{i}*"} for i in range(5)
            ],
        },
        {"lifecyclePolicy": LIFECYCLE, "repositoryPolicy": POLICY},
        {"description": "d" * 256, "resourceTags": [{"Key": "team", "Value": "platform"}]},
        {"customRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecr-templates"},
    ],
)
def test_valid_templates_round_trip(aws: boto3.session.Session, extra: dict[str, Any]) -> None:
    ecr = aws.client("ecr")
    request = {**BASE, **extra}
    out = ecr.create_repository_creation_template(**request)
    assert out["registryId"] == ACCOUNT
    created = out["repositoryCreationTemplate"]
    described = ecr.describe_repository_creation_templates(prefixes=[request["prefix"]])
    assert described["repositoryCreationTemplates"] == [created]
    for key, value in request.items():
        if key in ("lifecyclePolicy", "repositoryPolicy"):
            # ECR returns its own serialisation (sandbox/lifecycle_form, sandbox/policy_storage)
            assert json.loads(created[key]) == json.loads(value)
        else:
            assert created[key] == value
    assert created["imageTagMutability"] == request.get("imageTagMutability", "MUTABLE")
    assert (
        created["encryptionConfiguration"]["encryptionType"]
        == request.get("encryptionConfiguration", {"encryptionType": "AES256"})["encryptionType"]
    )
    assert created["createdAt"] == created["updatedAt"]


@pytest.mark.parametrize(
    "extra",
    [
        {"prefix": "Upper"},
        {"prefix": "a" * 257},
        {"prefix": "ROOT/x"},
        {"appliedFor": []},
        {"appliedFor": ["PULL"]},
        {"description": "d" * 257},
        {"encryptionConfiguration": {"encryptionType": "DES"}},
        {"encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": "alias/my-key"}},
        {"encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": "0f1e2d3c-aaaa"}},
        {"encryptionConfiguration": {"encryptionType": "AES256", "kmsKey": KMS_ARN}},
        {"imageTagMutability": "SOMETIMES"},
        {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"},
        {
            "imageTagMutability": "IMMUTABLE",
            "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "x"}],
        },
        {
            "imageTagMutability": "MUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": [
                {"filterType": "WILDCARD", "filter": f"t{i}"} for i in range(6)
            ],
        },
        {
            "imageTagMutability": "MUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "a/b"}],
        },
        {
            "imageTagMutability": "MUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": [{"filterType": "REGEX", "filter": "a"}],
        },
        {"lifecyclePolicy": "x" * 30721},
        {"lifecyclePolicy": "not json"},
        {"repositoryPolicy": "{" + " " * 10240 + "}"},
        {"repositoryPolicy": "[]"},
        {"resourceTags": [{"Key": "k" * 129, "Value": "v"}]},
        {"resourceTags": [{"Key": "k", "Value": "v" * 257}]},
        {"customRoleArn": "r" * 2049},
    ],
)
def test_invalid_templates_are_invalid_parameter(
    aws: boto3.session.Session, extra: dict[str, Any]
) -> None:
    ecr = aws.client("ecr")
    with pytest.raises(ClientError) as exc:
        ecr.create_repository_creation_template(**{**BASE, **extra})
    assert _code(exc) == "InvalidParameterException"
    assert ecr.describe_repository_creation_templates()["repositoryCreationTemplates"] == []


def test_duplicate_template_already_exists(aws: boto3.session.Session) -> None:
    ecr = aws.client("ecr")
    ecr.create_repository_creation_template(**BASE)
    with pytest.raises(ClientError) as exc:
        ecr.create_repository_creation_template(**BASE)
    assert _code(exc) == "TemplateAlreadyExistsException"


@pytest.mark.parametrize("operation", ["update", "delete"])
def test_missing_template_not_found(aws: boto3.session.Session, operation: str) -> None:
    ecr = aws.client("ecr")
    with pytest.raises(ClientError) as exc:
        if operation == "update":
            ecr.update_repository_creation_template(prefix="nope", description="x")
        else:
            ecr.delete_repository_creation_template(prefix="nope")
    assert _code(exc) == "TemplateNotFoundException"


def test_describe_skips_missing_prefixes(aws: boto3.session.Session) -> None:
    ecr = aws.client("ecr")
    ecr.create_repository_creation_template(**BASE)
    out = ecr.describe_repository_creation_templates(prefixes=["docker-hub", "nope"])
    assert [t["prefix"] for t in out["repositoryCreationTemplates"]] == ["docker-hub"]


def test_update_changes_named_members_keeps_others(aws: boto3.session.Session) -> None:
    ecr = aws.client("ecr")
    ecr.create_repository_creation_template(
        **BASE,
        description="before",
        lifecyclePolicy=LIFECYCLE,
        resourceTags=[{"Key": "a", "Value": "b"}],
    )
    out = ecr.update_repository_creation_template(
        prefix="docker-hub",
        description="after",
        imageTagMutability="MUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}],
    )["repositoryCreationTemplate"]
    assert out["description"] == "after"
    assert json.loads(out["lifecyclePolicy"]) == json.loads(LIFECYCLE)  # ECR's serialisation
    assert out["resourceTags"] == [{"Key": "a", "Value": "b"}]
    assert out["imageTagMutability"] == "MUTABLE_WITH_EXCLUSION"
    assert out["updatedAt"] >= out["createdAt"]
    again = ecr.update_repository_creation_template(
        prefix="docker-hub", imageTagMutability="IMMUTABLE"
    )
    assert "imageTagMutabilityExclusionFilters" not in again["repositoryCreationTemplate"]
    with pytest.raises(ClientError) as exc:
        ecr.update_repository_creation_template(prefix="docker-hub", appliedFor=["NEVER"])
    assert _code(exc) == "InvalidParameterException"


def test_delete_returns_the_template(aws: boto3.session.Session) -> None:
    ecr = aws.client("ecr")
    ecr.create_repository_creation_template(**BASE, description="gone soon")
    out = ecr.delete_repository_creation_template(prefix="docker-hub")
    assert out["repositoryCreationTemplate"]["description"] == "gone soon"
    assert ecr.describe_repository_creation_templates()["repositoryCreationTemplates"] == []


def test_templates_paginate(aws: boto3.session.Session) -> None:
    ecr = aws.client("ecr")
    names = [f"t{i:03d}" for i in range(105)]
    for name in names:
        ecr.create_repository_creation_template(prefix=name, appliedFor=["PULL_THROUGH_CACHE"])
    first = ecr.describe_repository_creation_templates()
    assert len(first["repositoryCreationTemplates"]) == 100  # the model's default page size
    rest = ecr.describe_repository_creation_templates(nextToken=first["nextToken"])
    assert [t["prefix"] for t in rest["repositoryCreationTemplates"]] == names[100:]
    assert "nextToken" not in rest
    pages = ecr.get_paginator("describe_repository_creation_templates").paginate(
        PaginationConfig={"PageSize": 40}
    )
    assert [t["prefix"] for p in pages for t in p["repositoryCreationTemplates"]] == names
