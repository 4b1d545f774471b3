"""Live repository creation templates, repositories and the settings backfill reaches. Reads only.

The application repositories (with their tags, lifecycle policy and image count) and, for
backfill, the lifecycle policy and tag mutability of the cache repositories it reaches.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ecrcache.aws import Clients, aws_errors, error_code
from ecrcache.config.upstreams import partition
from ecrcache.policy.canonical import canonical_text
from ecrcache.policy.lifecycle import normalise as normalise_lifecycle
from ecrcache.reconcile.bounded import Progress, no_progress, read_bounded
from ecrcache.reconcile.resources import Repository, RepositorySettings, Template

if TYPE_CHECKING:
    from ecrcache.reconcile.live import LiveScope

log = logging.getLogger(__name__)

REPOSITORIES_PAGE = 1000
Tags = tuple[tuple[str, str], ...]


def read_templates(clients: Clients) -> tuple[Template, ...]:
    out = []
    part = partition(clients.region)
    with aws_errors("list repository creation templates"):
        pages = clients.ecr.get_paginator("describe_repository_creation_templates").paginate()
        for page in pages:
            for t in page.get("repositoryCreationTemplates", []):
                enc = t.get("encryptionConfiguration") or {}
                lifecycle = t.get("lifecyclePolicy") or None
                policy = t.get("repositoryPolicy") or None
                out.append(
                    Template(
                        prefix=t["prefix"],
                        applied_for=tuple(sorted(t.get("appliedFor", []))),
                        description=t.get("description") or None,
                        encryption=enc.get("encryptionType", "AES256"),
                        kms_key=enc.get("kmsKey") or None,
                        tag_mutability=t.get("imageTagMutability", "MUTABLE"),
                        tag_mutability_exclusions=_exclusions(t),
                        resource_tags=tuple(
                            sorted((x["Key"], x["Value"]) for x in t.get("resourceTags", []))
                        ),
                        lifecycle_policy=normalise_lifecycle(lifecycle) if lifecycle else None,
                        repository_policy=(
                            canonical_text(policy, partition=part) if policy else None
                        ),
                        role_arn=t.get("customRoleArn") or None,
                    )
                )
    return tuple(sorted(out, key=lambda t: t.prefix))


def _exclusions(obj: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(f["filter"] for f in obj.get("imageTagMutabilityExclusionFilters") or []))


def read_repositories(clients: Clients) -> dict[str, dict[str, Any]]:
    """Every repository in the registry, by name (DescribeRepositories pages, of the most it
    allows: maxResults 1 to 1000, 100 when not given; botocore ECR model)."""
    out: dict[str, dict[str, Any]] = {}
    with aws_errors("list repositories"):
        pages = clients.ecr.get_paginator("describe_repositories").paginate(
            PaginationConfig={"PageSize": REPOSITORIES_PAGE}
        )
        for page in pages:
            for r in page.get("repositories", []):
                out[r["repositoryName"]] = r
    return out


def _under(name: str, prefixes: frozenset[str]) -> bool:
    return "ROOT" in prefixes or any(name.startswith(p + "/") for p in prefixes)


def read_lifecycle(clients: Clients, name: str) -> str | None:
    try:
        text = clients.ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    except Exception as exc:
        if error_code(exc) == "LifecyclePolicyNotFoundException":
            return None
        with aws_errors(f"read the lifecycle policy of {name}"):
            raise
    return normalise_lifecycle(text)


def read_app_repositories(
    clients: Clients,
    repos: dict[str, dict[str, Any]],
    scope: LiveScope,
    *,
    also: frozenset[str] = frozenset(),
    listed: Mapping[str, Tags] | None = None,
    progress: Progress = no_progress,
) -> tuple[Repository, ...]:
    """The config's application repositories, and any other repository ecrcache tagged as its
    own (so prune can find them). Cache repositories are skipped (they are never app repos),
    except those in ``also``, whose tags are known all the same.

    ``listed`` is ecrcache's repositories from the tagging listing (``live_managed``): given, the
    tags of the config's repositories are read one by one (consistent, and they may not carry
    the tag yet) and the listing answers for the rest; under a prune (``confirm_discovered``)
    those are read again too, as prune would delete them. None: every candidate's tags are read
    one by one (import; the read-back after a write, which must not lag). The reads run on the
    bounded pool (``bounded``)."""
    candidates = [
        name
        for name in sorted(repos)
        if name in scope.app_repositories or name in also or not _under(name, scope.cache_prefixes)
    ]
    tags: dict[str, Tags] = {}
    if listed is None:
        direct = candidates
    else:
        wanted = set(candidates) - scope.app_repositories
        tags = {n: t for n, t in listed.items() if n in wanted}  # not deleted since (in repos)
        direct = [n for n in candidates if n in scope.app_repositories]
        if scope.confirm_discovered:
            direct += sorted(tags)
    ecr = clients.ecr  # built here, once: cached_property is not thread-safe
    read = read_bounded(
        lambda n: (n, _tags(ecr, n, repos[n]["repositoryArn"])),
        direct,
        what="reading repository tags",
        progress=progress,
    )
    tags.update(read)
    found = [_repository(name, repos[name], tags[name]) for name in sorted(tags)]
    mine = [r for r in found if r.name in scope.app_repositories or r.managed]
    if any(r.kms_key for r in mine):
        _ = clients.kms
    return tuple(
        read_bounded(
            lambda r: _details(clients, r, scope),
            mine,
            what="reading application repositories",
            progress=progress,
        )
    )


def _tags(ecr: Any, name: str, arn: str) -> Tags:
    with aws_errors(f"read the tags of {name}"):
        listed = ecr.list_tags_for_resource(resourceArn=arn).get("tags", [])
    return tuple(sorted((t["Key"], t["Value"]) for t in listed))


def _repository(name: str, r: dict[str, Any], tags: Tags) -> Repository:
    return Repository(
        name=name,
        tag_mutability=r.get("imageTagMutability", "MUTABLE"),
        tag_mutability_exclusions=_exclusions(r),
        scan_on_push=bool(r.get("imageScanningConfiguration", {}).get("scanOnPush")),
        encryption=(r.get("encryptionConfiguration") or {}).get("encryptionType", "AES256"),
        kms_key=(r.get("encryptionConfiguration") or {}).get("kmsKey") or None,
        tags=tags,
    )


def _details(clients: Clients, repo: Repository, scope: LiveScope) -> Repository:
    """The reads one repository needs beyond DescribeRepositories: its lifecycle policy, whose
    its KMS key is, and (one the config does not declare: prune may delete it) its images."""
    name = repo.name
    if repo.kms_key and _aws_managed_key(clients, repo.kms_key):
        # "KMS, no key named": ECR chose the AWS-managed key (and import writes no key)
        repo = replace(repo, kms_key=None)
    count = 0 if name in scope.app_repositories else _image_count(clients, name)
    return replace(repo, lifecycle_policy=read_lifecycle(clients, name), image_count=count)


# ListImages returns only ACTIVE images unless the filter asks (botocore ECR model,
# ListImagesFilter.imageStatus): archived and restoring images are in the repository too, and
# DeleteRepository without force refuses them.
EVERY_IMAGE = {"tagStatus": "ANY", "imageStatus": "ANY"}


def _aws_managed_key(clients: Clients, key_arn: str) -> bool:
    """Is ``key_arn`` an AWS-managed KMS key? A repository created with KMS and no key reads back
    with the ARN of the AWS-managed key for ECR (aws/ecr), not with no key (botocore ECR model,
    EncryptionConfiguration; the Terraform AWS provider's TestAccECRRepository_Encryption_kms).
    KMS DescribeKey tells: ``KeyMetadata.KeyManager`` is ``AWS`` for an AWS-managed key. Without
    the permission (or the key) the ARN stays, and the plan shows the difference as not planned."""
    try:
        meta = clients.kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    except Exception as exc:
        code = error_code(exc)
        if code is None:
            raise
        log.debug("kms:DescribeKey %s: %s (kept as a customer key)", key_arn, code)
        return False
    return meta.get("KeyManager") == "AWS"


def _image_count(clients: Clients, name: str) -> int:
    with aws_errors(f"list the images of {name}"):
        pages = clients.ecr.get_paginator("list_images").paginate(
            repositoryName=name, filter=EVERY_IMAGE
        )
        return sum(len(page.get("imageIds", [])) for page in pages)


def read_backfill_settings(
    clients: Clients,
    repos: dict[str, dict[str, Any]],
    reached: dict[str, str],
    *,
    progress: Progress = no_progress,
) -> tuple[RepositorySettings, ...]:
    """Lifecycle policy and tag mutability of the repositories backfill reaches (name ->
    template; see backfill.py), and of no other: one GetLifecyclePolicy each, on the bounded
    pool (the rest is in DescribeRepositories' answer)."""
    _ = clients.ecr  # built here, once: cached_property is not thread-safe

    def settings(item: tuple[str, str]) -> RepositorySettings:
        name, template = item
        r = repos[name]
        return RepositorySettings(
            name=name,
            lifecycle_policy=read_lifecycle(clients, name),
            tag_mutability=r.get("imageTagMutability", "MUTABLE"),
            tag_mutability_exclusions=_exclusions(r),
            template=template,
        )

    return tuple(
        read_bounded(
            settings,
            sorted(reached.items()),
            what="reading backfilled repositories",
            progress=progress,
        )
    )
