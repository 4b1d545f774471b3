"""ecrcache's own repositories, found by their managed-by tag in a few calls. Reads only.

ECR reads tags one repository at a time (ListTagsForResource); finding the few repositories
ecrcache tagged among thousands that way is one call per repository. The Resource Groups
Tagging API answers the question itself: ``tag:GetResources`` filtered on the tag and on the
``ecr:repository`` type, 100 a page (botocore's resourcegroupstaggingapi model:
ResourcesPerPage 1 to 100). IAM: ``tag:GetResources`` on ``*`` (Service Authorization Reference,
"Actions defined by AWS Resource Groups Tagging API": no resource types).

The listing is eventually consistent, and may name repositories deleted since (aws/aws-cli#4173,
aws/aws-sdk#676, aws/aws-sdk#302: "previously tagged" resources). So callers intersect it with
DescribeRepositories, read the tags of the config's own repositories directly, and confirm with
ListTagsForResource anything they would delete.
"""

from __future__ import annotations

from ecrcache.aws import Clients, aws_errors
from ecrcache.reconcile.resources import MANAGED_BY_KEY, MANAGED_BY_VALUE

PAGE_SIZE = 100  # the most ResourcesPerPage allows
Tags = tuple[tuple[str, str], ...]


def repository_name(arn: str) -> str:
    """``arn:aws:ecr:<region>:<account>:repository/<name>`` -> ``<name>`` (names hold ``/``)."""
    return arn.split(":repository/", 1)[1]


def list_managed_repositories(clients: Clients) -> dict[str, Tags]:
    """Name -> tags of every repository the listing says carries ``managed-by=ecrcache``."""
    out: dict[str, Tags] = {}
    with aws_errors("find ecrcache's repositories (tag:GetResources)"):
        pages = clients.tagging.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": MANAGED_BY_KEY, "Values": [MANAGED_BY_VALUE]}],
            ResourceTypeFilters=["ecr:repository"],
            PaginationConfig={"PageSize": PAGE_SIZE},
        )
        for page in pages:
            for r in page.get("ResourceTagMappingList", []):
                arn = r["ResourceARN"]
                if ":repository/" not in arn:
                    continue
                out[repository_name(arn)] = tuple(
                    sorted((t["Key"], t["Value"]) for t in r.get("Tags", []))
                )
    return out
