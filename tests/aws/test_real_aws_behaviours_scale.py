"""Real-AWS behaviours the sandbox follows for listings at scale (issue 14), each naming its source.

moto 5.2 answers DescribeRepositories in one page and its tagging API never lists an ECR
repository; the sandbox (sandbox/repository_pages.py, sandbox/tagging_api.py) answers as AWS
does, so plan's call counts in the tests are the counts AWS would see.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from reconcile_support import REGION

from serve_support import ServedSandbox

MANAGED = [{"Key": "managed-by", "Value": "ecrcache"}]


def make(ecr: Any, count: int, *, every: int = 0) -> None:
    """``count`` repositories; every ``every``-th carries ecrcache's managed-by tag."""
    for i in range(count):
        tags = MANAGED if every and i % every == 0 else [{"Key": "team", "Value": "b"}]
        ecr.create_repository(repositoryName=f"r/{i:04d}", tags=tags if i % 3 else [])


def test_describe_repositories_pages_at_100_and_allows_1000(aws: boto3.session.Session) -> None:
    # Source: botocore ECR model, DescribeRepositoriesRequest.maxResults: "If this parameter is
    # not used, then DescribeRepositories returns up to 100 results and a nextToken value ...
    # This value can be between 1 and 1000." (MaxResults shape: min 1, max 1000)
    ecr = aws.client("ecr", region_name=REGION)
    make(ecr, 1050)
    pages = list(ecr.get_paginator("describe_repositories").paginate())
    assert [len(p["repositories"]) for p in pages] == [100] * 10 + [50]
    big = list(
        ecr.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 1000})
    )
    assert [len(p["repositories"]) for p in big] == [1000, 50]
    names = [r["repositoryName"] for p in big for r in p["repositories"]]
    assert sorted(names) == sorted(set(names)) and len(names) == 1050  # each once
    # botocore refuses 1001 itself; ECR checks it too, for clients that do not
    unchecked = aws.client("ecr", region_name=REGION, config=BotoConfig(parameter_validation=False))
    with pytest.raises(ClientError) as caught:
        unchecked.describe_repositories(maxResults=1001)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


def test_describe_repositories_by_name_takes_no_page_size(aws: boto3.session.Session) -> None:
    # Source: botocore ECR model, DescribeRepositoriesRequest.maxResults: "This option cannot be
    # used when you specify repositories with repositoryNames."
    ecr = aws.client("ecr", region_name=REGION)
    make(ecr, 3)
    found = ecr.describe_repositories(repositoryNames=["r/0001", "r/0002"])["repositories"]
    assert sorted(r["repositoryName"] for r in found) == ["r/0001", "r/0002"]
    with pytest.raises(ClientError) as caught:
        ecr.describe_repositories(repositoryNames=["r/0001"], maxResults=5)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


def test_get_resources_lists_tagged_ecr_repositories_by_tag(aws: boto3.session.Session) -> None:
    # Source: botocore resourcegroupstaggingapi model: GetResources "does not return untagged
    # resources"; ResourceTypeFilters "service[:resourceType]", "the same as that embedded in a
    # resource's ARN" (ecr:repository); ResourcesPerPage "a minimum of 1 and a maximum value of
    # 100"; the API reference's supported-services list includes Amazon ECR repositories.
    ecr = aws.client("ecr", region_name=REGION)
    make(ecr, 300, every=2)
    tagging = aws.client("resourcegroupstaggingapi", region_name=REGION)
    pages = list(
        tagging.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": "managed-by", "Values": ["ecrcache"]}],
            ResourceTypeFilters=["ecr:repository"],
            PaginationConfig={"PageSize": 100},
        )
    )
    listed = {r["ResourceARN"]: r["Tags"] for p in pages for r in p["ResourceTagMappingList"]}
    want = {f"r/{i:04d}" for i in range(300) if i % 2 == 0 and i % 3}
    assert {a.split(":repository/", 1)[1] for a in listed} == want
    assert all(tags == MANAGED for tags in listed.values())
    assert all(len(p["ResourceTagMappingList"]) <= 100 for p in pages)
    everything = tagging.get_resources(ResourceTypeFilters=["ecr"])["ResourceTagMappingList"]
    untagged = {f"r/{i:04d}" for i in range(300) if i % 3 == 0}
    assert not {a["ResourceARN"].split(":repository/", 1)[1] for a in everything} & untagged
    with pytest.raises(ClientError) as caught:
        tagging.get_resources(ResourcesPerPage=101)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


def test_get_resources_over_http_follows_the_served_state(sandbox_server: ServedSandbox) -> None:
    # Source: as above; `sandbox serve` routes the tagging API (SigV4 scope "tagging") to the
    # same account, and a repository deleted or untagged is no longer listed.
    session = boto3.session.Session(
        region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x"
    )
    ecr = session.client("ecr", endpoint_url=sandbox_server.endpoint)
    tagging = session.client("resourcegroupstaggingapi", endpoint_url=sandbox_server.endpoint)
    for name in ("mine/a", "mine/b", "theirs/c"):
        tags = MANAGED if name.startswith("mine/") else [{"Key": "team", "Value": "b"}]
        ecr.create_repository(repositoryName=name, tags=tags)

    def listed() -> set[str]:
        found = tagging.get_resources(
            TagFilters=[{"Key": "managed-by", "Values": ["ecrcache"]}],
            ResourceTypeFilters=["ecr:repository"],
        )["ResourceTagMappingList"]
        return {r["ResourceARN"].split(":repository/", 1)[1] for r in found}

    assert listed() == {"mine/a", "mine/b"}
    ecr.delete_repository(repositoryName="mine/a")
    arn = ecr.describe_repositories(repositoryNames=["mine/b"])["repositories"][0]["repositoryArn"]
    ecr.untag_resource(resourceArn=arn, tagKeys=["managed-by"])
    assert listed() == set()
