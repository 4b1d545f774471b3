"""The Resource Groups Tagging API lists ECR repositories, as AWS's does.

``tag:GetResources`` covers Amazon ECR repositories (resource type ``ecr:repository``; the
``ResourceTypeFilters`` format is ``service[:resourceType]`` as embedded in the ARN, botocore's
resourcegroupstaggingapi model; ECR is in the API reference's "Services that support the
Resource Groups Tagging API"). moto 5.2's tagging backend lists only the services that mix in
its ``TaggableResourcesMixin`` (moto/core/resource_tagging.py), and its ECR backend does not, so
GetResources never names a repository.

``install()`` adds moto's ECR repositories, with the tags moto's ECR tagger holds, to the
listing, through the same type and tag filters moto applies to the rest. Only tagged
repositories are listed ("GetResources does not return untagged resources", the model's
operation documentation). The repositories are copied when the listing starts, since moto keeps
a listing's generator between pages and the registry may change in between. Not simulated: the
listing's lag behind changes (it is eventually consistent: aws/aws-cli#4173, aws/aws-sdk#676);
ecrcache reads the tags of what it would change directly (reconcile/live_managed.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

_ORIGINAL_ATTR = "_ecrcache_original_get_resources_generator"
RESOURCE_TYPE = "ecr:repository"
_lock = threading.Lock()


def _repositories(
    account_id: str,
    region: str,
    tag_filters: list[dict[str, Any]] | None,
    resource_type_filters: list[str] | None,
    resource_arn_list: list[str] | None,
) -> Iterator[Any]:
    from moto.core.resource_tagging import TaggedResource, make_tag_matcher, match_resource_type
    from moto.ecr.models import ecr_backends

    if not match_resource_type(RESOURCE_TYPE, resource_type_filters):
        return iter(())
    if account_id not in ecr_backends or region not in ecr_backends[account_id]:
        return iter(())
    backend = ecr_backends[account_id][region]
    matcher = make_tag_matcher(tag_filters)
    out = []
    for repo in list(backend.repositories.values()):
        listed = backend.tagger.list_tags_for_resource(repo.arn).get("tags", [])
        tags = {t["Key"]: t["Value"] for t in listed}
        if not tags or not matcher(tags):
            continue
        if resource_arn_list and repo.arn not in resource_arn_list:
            continue
        out.append(TaggedResource(arn=repo.arn, tags=tags, resource_type=RESOURCE_TYPE))
    return iter(out)


def install() -> None:
    """Make moto's GetResources list ECR repositories too. Idempotent."""
    from moto.core.resource_tagging import TaggableResourcesMixin
    from moto.ecr.models import ECRBackend
    from moto.resourcegroupstaggingapi.models import ResourceGroupsTaggingAPIBackend

    if issubclass(ECRBackend, TaggableResourcesMixin):
        return  # a moto that lists repositories itself
    with _lock:
        if not hasattr(ResourceGroupsTaggingAPIBackend, _ORIGINAL_ATTR):
            setattr(
                ResourceGroupsTaggingAPIBackend,
                _ORIGINAL_ATTR,
                ResourceGroupsTaggingAPIBackend._get_resources_generator,
            )
        original: Callable[..., Iterator[Any]] = getattr(
            ResourceGroupsTaggingAPIBackend, _ORIGINAL_ATTR
        )

        def _get_resources_generator(
            self: Any,
            tag_filters: list[dict[str, Any]] | None = None,
            resource_type_filters: list[str] | None = None,
            resource_arn_list: list[str] | None = None,
        ) -> Iterator[Any]:
            yield from original(self, tag_filters, resource_type_filters, resource_arn_list)
            yield from _repositories(
                self.account_id,
                self.region_name,
                tag_filters,
                resource_type_filters,
                resource_arn_list,
            )

        setattr(  # noqa: B010
            ResourceGroupsTaggingAPIBackend, "_get_resources_generator", _get_resources_generator
        )
