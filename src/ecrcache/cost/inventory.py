"""Read what the cache stores: every repository and its images, concurrently. Reads only.

DescribeImages is called per repository from a bounded thread pool, all threads sharing one
client: boto3 clients are thread-safe, and the shared client's adaptive retry mode (``aws.
BOTO_CONFIG``) slows every thread down together when ECR throttles. No retry loop here.

Why ``DEFAULT_CONCURRENCY = 10``: ECR's service quotas page
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html) publishes rates only
for the push and pull APIs (BatchGetImage 2,000/s, BatchCheckLayerAvailability 1,000/s, ...) and
none for DescribeRepositories or DescribeImages; its troubleshooting page
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/common-errors.html) says every API has its
own throttle and gives, as its example, 20 requests/s sustained with bursts of 200. Ten requests
in flight stay within such a burst, make ~100 requests/s at a 100 ms round trip, and match
botocore's default connection pool (10), so no connection is opened and thrown away. If ECR
throttles anyway, adaptive mode lowers the rate for the whole pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ecrcache.aws import Clients, aws_errors, error_code
from ecrcache.cost.report import ImageRecord, Repository
from ecrcache.reconcile.live_secrets import read_rules
from ecrcache.reconcile.resources import Rule

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 10
MAX_CONCURRENCY = 10  # botocore's default max_pool_connections; see the module docstring
PAGE_SIZE = 1000  # the largest page DescribeRepositories and DescribeImages allow
INDEX_MEDIA_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)
BATCH_GET_MAX = 100  # BatchGetImage imageIds, botocore model

Progress = Callable[[int, int], None]  # (repositories done, total)


@dataclass(frozen=True)
class Inventory:
    """The repositories (sorted by name) with their images, and the live rules and templates."""

    region: str
    rules: tuple[Rule, ...]
    templates: dict[str, str | None]  # PULL_THROUGH_CACHE template prefix -> lifecycle policy
    repositories: tuple[Repository, ...]
    read_at: datetime
    concurrency: int


def read_inventory(
    clients: Clients,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress | None = None,
    repository_filter: Callable[[str], bool] | None = None,
) -> Inventory:
    """Rules, templates, repositories and their images (archived ones too). Repositories deleted
    while being read are left out. ``repository_filter`` limits which repositories' images are
    read. Raises AwsError.

    One pool does it all, nothing waits for what it does not need: the rules and templates are
    read while the repositories are listed, and each repository's images are read as soon as its
    listing page arrives, not after the last page."""
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be 1 to {MAX_CONCURRENCY}, not {concurrency}")
    ecr = clients.ecr  # built here, once: cached_property is not thread-safe
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="inventory") as pool:
        rules = pool.submit(read_rules, clients, {})
        templates = pool.submit(read_templates, clients)
        futures: list[Future[Repository | None]] = []
        try:
            for name in _repository_names(clients):
                if repository_filter is None or repository_filter(name):
                    futures.append(pool.submit(_read_repository, ecr, name))
            repos = _gather(futures, progress)
            return Inventory(
                region=clients.region,
                rules=rules.result(),
                templates=templates.result(),
                repositories=repos,
                read_at=datetime.now(UTC),
                concurrency=concurrency,
            )
        except BaseException:
            pending: list[Future[Any]] = [rules, templates, *futures]
            for f in pending:
                f.cancel()
            raise


def _repository_names(clients: Clients) -> Iterator[str]:
    """Every repository name, page by page (the largest page ECR serves)."""
    with aws_errors("list repositories"):
        pages = clients.ecr.get_paginator("describe_repositories").paginate(
            PaginationConfig={"PageSize": PAGE_SIZE}
        )
        for page in pages:
            for r in page.get("repositories", []):
                yield r["repositoryName"]


def list_repositories(clients: Clients) -> list[str]:
    return sorted(_repository_names(clients))


def read_templates(clients: Clients) -> dict[str, str | None]:
    """Creation templates that apply to pull-through cache repositories: prefix -> lifecycle."""
    out: dict[str, str | None] = {}
    with aws_errors("list repository creation templates"):
        pages = clients.ecr.get_paginator("describe_repository_creation_templates").paginate()
        for page in pages:
            for t in page.get("repositoryCreationTemplates", []):
                if "PULL_THROUGH_CACHE" in t.get("appliedFor", ()):
                    out[t["prefix"]] = t.get("lifecyclePolicy") or None
    return out


def read_images(
    clients: Clients,
    names: Sequence[str],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress | None = None,
) -> tuple[Repository, ...]:
    """Each named repository's images, read by ``concurrency`` threads."""
    ecr = clients.ecr  # built here, once: cached_property is not thread-safe
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="inventory") as pool:
        futures = [pool.submit(_read_repository, ecr, name) for name in names]
        try:
            return _gather(futures, progress)
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _gather(
    futures: Sequence[Future[Repository | None]], progress: Progress | None
) -> tuple[Repository, ...]:
    """The repositories read (sorted by name); the first failure is raised."""
    found: list[Repository] = []
    for done, future in enumerate(as_completed(futures), start=1):
        repo = future.result()
        if repo is not None:
            found.append(repo)
        if progress is not None:
            progress(done, len(futures))
    return tuple(sorted(found, key=lambda r: r.name))


def _read_repository(ecr: Any, name: str) -> Repository | None:
    try:
        details = [
            d
            for page in ecr.get_paginator("describe_images").paginate(
                repositoryName=name,
                filter={"tagStatus": "ANY", "imageStatus": "ANY"},  # archived ones are billed too
                PaginationConfig={"PageSize": PAGE_SIZE},
            )
            for d in page.get("imageDetails", [])
        ]
        children = _index_children(ecr, name, details)
    except Exception as exc:
        if error_code(exc) == "RepositoryNotFoundException":
            log.debug("repository %s went away while being read", name)
            return None
        with aws_errors(f"describe the images of {name}"):
            raise
    return Repository(name, tuple(_record(d, children.get(d["imageDigest"], ())) for d in details))


def _index_children(
    ecr: Any, name: str, details: Iterable[dict[str, Any]]
) -> dict[str, tuple[str, ...]]:
    """An index's platform manifests, read from the index itself (one BatchGetImage per 100
    indexes; none for a repository without any): DescribeImages does not link them."""
    import json

    digests = [
        d["imageDigest"] for d in details if d.get("imageManifestMediaType") in INDEX_MEDIA_TYPES
    ]
    out: dict[str, tuple[str, ...]] = {}
    for i in range(0, len(digests), BATCH_GET_MAX):
        resp = ecr.batch_get_image(
            repositoryName=name,
            imageIds=[{"imageDigest": d} for d in digests[i : i + BATCH_GET_MAX]],
            acceptedMediaTypes=list(INDEX_MEDIA_TYPES),
        )
        for image in resp.get("images", []):
            doc = json.loads(image.get("imageManifest") or "{}")
            out[image["imageId"]["imageDigest"]] = tuple(
                m["digest"] for m in doc.get("manifests", ()) if "digest" in m
            )
    return out


def _record(d: dict[str, Any], children: tuple[str, ...]) -> ImageRecord:
    return ImageRecord(
        digest=d["imageDigest"],
        tags=tuple(sorted(d.get("imageTags") or ())),
        size_bytes=int(d.get("imageSizeInBytes") or 0),
        pushed_at=_aware(d["imagePushedAt"]),
        last_pulled_at=_aware(d["lastRecordedPullTime"]) if d.get("lastRecordedPullTime") else None,
        media_type=d.get("imageManifestMediaType"),
        archived=d.get("imageStatus") == "ARCHIVED",
        children=children,
        subject=d.get("subjectManifestDigest"),
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def read_lifecycle_policies(
    clients: Clients, names: Sequence[str], *, concurrency: int = DEFAULT_CONCURRENCY
) -> dict[str, str | None]:
    """Each repository's lifecycle policy text (None for none), read concurrently."""
    ecr = clients.ecr

    def one(name: str) -> tuple[str, str | None]:
        try:
            return name, ecr.get_lifecycle_policy(repositoryName=name).get("lifecyclePolicyText")
        except Exception as exc:
            if error_code(exc) in (
                "LifecyclePolicyNotFoundException",
                "RepositoryNotFoundException",
            ):
                return name, None
            with aws_errors(f"read the lifecycle policy of {name}"):
                raise

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="lifecycle") as pool:
        return dict(pool.map(one, names))


def read_scanning(clients: Clients) -> dict[str, Any]:
    """The registry scanning configuration: ``{scanType, rules}``."""
    with aws_errors("read the registry scanning configuration"):
        resp = clients.ecr.get_registry_scanning_configuration()
    return dict(resp.get("scanningConfiguration") or {})
