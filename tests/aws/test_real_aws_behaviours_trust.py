"""What ecrcache's ownership rule (reconcile/ownership.py) relies on in ECR, and the sandbox
holding to it: where a template can carry a mark and how much, what a rule can carry at all.
Each test names its source (botocore's ECR model, installed with botocore)."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError, ParamValidationError

from ecrcache.config.loading import parse_config
from ecrcache.errors import ConfigError
from ecrcache.reconcile.ownership import (
    TEMPLATE_MARKER,
    USER_DESCRIPTION_MAX,
    marked_description,
    split_description,
)

REGION = "af-south-1"


def _shapes() -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("ecr")
    return {name: model.shape_for(name) for name in model.shape_names}


def _described(ecr: Any, prefix: str) -> dict[str, Any]:
    (t,) = ecr.describe_repository_creation_templates(prefixes=[prefix])[
        "repositoryCreationTemplates"
    ]
    return dict(t)


def test_neither_templates_nor_rules_can_be_tagged_themselves() -> None:
    # Source: botocore ECR model. CreateRepositoryCreationTemplateRequest has no tags member
    # (resourceTags are put on the repositories a template creates), and PullThroughCacheRule
    # holds only its prefixes, URLs, ARNs and dates: no tags, no description. So the one mark a
    # template can carry is its description, and a rule none (ownership.py).
    shapes = _shapes()
    # no ARN a TagResource could name (customRoleArn is the role's)
    described = set(shapes["RepositoryCreationTemplate"].members) - {"customRoleArn"}
    assert not [m for m in described if "arn" in m.lower()]
    template = set(shapes["CreateRepositoryCreationTemplateRequest"].members)
    assert "tags" not in template and {"description", "resourceTags"} <= template
    assert shapes["RepositoryCreationTemplate"].members["description"].name == (
        "RepositoryTemplateDescription"
    )
    rule = set(shapes["PullThroughCacheRule"].members)
    assert rule == {
        "ecrRepositoryPrefix",
        "upstreamRegistryUrl",
        "createdAt",
        "registryId",
        "credentialArn",
        "customRoleArn",
        "upstreamRepositoryPrefix",
        "upstreamRegistry",
        "updatedAt",
    }
    assert "tags" not in shapes["CreatePullThroughCacheRuleRequest"].members


def test_a_description_holds_256_characters_read_back_as_written(
    aws: boto3.session.Session,
) -> None:
    # Source: botocore ECR model, RepositoryTemplateDescription: string, max 256, no pattern
    # (botocore checks no max itself: the service refuses, InvalidParameterException).
    assert _shapes()["RepositoryTemplateDescription"].metadata == {"max": 256}
    ecr = aws.client("ecr")
    longest = marked_description("x" * USER_DESCRIPTION_MAX)
    assert len(longest) == 256
    ecr.create_repository_creation_template(
        prefix="quay", description=longest, appliedFor=["PULL_THROUGH_CACHE"]
    )
    assert _described(ecr, "quay")["description"] == longest
    assert split_description(longest) == ("x" * USER_DESCRIPTION_MAX, True)
    with pytest.raises(ClientError) as exc:
        ecr.create_repository_creation_template(
            prefix="k8s", description="y" * 257, appliedFor=["PULL_THROUGH_CACHE"]
        )
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "less than or equal to 256" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        ecr.update_repository_creation_template(prefix="quay", description=longest + "z")
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
    assert _described(ecr, "quay")["description"] == longest  # a refused update changes nothing


def test_an_update_of_the_description_alone_keeps_everything_else(
    aws: boto3.session.Session,
) -> None:
    # Source: botocore ECR model, UpdateRepositoryCreationTemplateRequest: only prefix is
    # required, and RepositoryTemplateDescription has no minimum, so "" is a valid value; the
    # Terraform AWS provider's update sends only the changed members (internal/service/ecr/
    # repository_creation_template.go), relying on the others being kept. Adoption sends it so.
    ecr = aws.client("ecr")
    ecr.create_repository_creation_template(
        prefix="quay",
        appliedFor=["PULL_THROUGH_CACHE"],
        imageTagMutability="IMMUTABLE",
        resourceTags=[{"Key": "team", "Value": "b"}],
    )
    ecr.update_repository_creation_template(prefix="quay", description=TEMPLATE_MARKER)
    t = _described(ecr, "quay")
    assert t["description"] == TEMPLATE_MARKER
    assert t["imageTagMutability"] == "IMMUTABLE"
    assert t["resourceTags"] == [{"Key": "team", "Value": "b"}]
    ecr.update_repository_creation_template(prefix="quay", description="")
    assert not _described(ecr, "quay").get("description")


def test_resource_tags_need_a_key_and_a_value_within_their_limits(
    aws: boto3.session.Session,
) -> None:
    # Source: botocore ECR model, Tag: required Key and Value (botocore refuses either missing
    # before sending); resourceTags' documentation: "Tag keys can have a maximum character
    # length of 128 characters, and tag values can have a maximum length of 256 characters"
    # (the model sets no max on TagKey/TagValue, so the service checks).
    assert _shapes()["Tag"].required_members == ["Key", "Value"]
    ecr = aws.client("ecr")
    with pytest.raises(ParamValidationError):
        ecr.create_repository_creation_template(
            prefix="quay", appliedFor=["PULL_THROUGH_CACHE"], resourceTags=[{"Key": "team"}]
        )
    raw = aws.client("ecr", config=BotoConfig(parameter_validation=False))
    with pytest.raises(ClientError) as exc:
        raw.create_repository_creation_template(
            prefix="quay", appliedFor=["PULL_THROUGH_CACHE"], resourceTags=[{"Key": "team"}]
        )
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
    for tag in ({"Key": "k" * 129, "Value": "v"}, {"Key": "k", "Value": "v" * 257}):
        with pytest.raises(ClientError) as exc:
            ecr.create_repository_creation_template(
                prefix="quay", appliedFor=["PULL_THROUGH_CACHE"], resourceTags=[tag]
            )
        assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
    assert ecr.describe_repository_creation_templates()["repositoryCreationTemplates"] == []


def test_the_config_leaves_room_for_the_marker() -> None:
    # Source: botocore ECR model, RepositoryTemplateDescription max 256: the user's text plus
    # " [managed-by=ecrcache]" must fit, so validate refuses longer text before ECR would.
    def cfg(text: str) -> Any:
        return parse_config(
            {"region": REGION, "rules": {}, "templates": {"ROOT": {"description": text}}}
        )

    assert cfg("d" * USER_DESCRIPTION_MAX).templates["ROOT"].description == (
        "d" * USER_DESCRIPTION_MAX
    )
    with pytest.raises(ConfigError) as exc:
        cfg("d" * (USER_DESCRIPTION_MAX + 1))
    assert f"at most {USER_DESCRIPTION_MAX}" in exc.value.message
    assert "[managed-by=ecrcache]" in (exc.value.hint or "")
