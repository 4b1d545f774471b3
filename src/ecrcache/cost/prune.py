"""Delete stale cached images (or whole repositories): a plan first, then the deletions.

``plan_prune`` is pure; ``run_prune`` sends BatchDeleteImage in chunks of 100 (the API's limit)
and DeleteRepository (with ``force`` only for a repository that still holds images, and only
when whole repositories were asked for). An image group is deleted whole: an index goes with its
platform images and referrers, or nothing of it goes (deleting a platform image alone would
break the index). Indexes and referrers are deleted before the images they refer to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ecrcache import interrupts
from ecrcache.aws import Clients, aws_errors
from ecrcache.cost.report import APPLICATION, UNMANAGED, Repository, classify, groups_of, is_stale

BATCH_DELETE_MAX = 100  # BatchDeleteImage imageIds, botocore model
MIN_IN_SCOPE = 10  # below this many images the share threshold does not apply (as octoDNS)


@dataclass(frozen=True)
class RepoDeletion:
    repository: str
    first: tuple[str, ...]  # indexes, single manifests and referrers
    then: tuple[str, ...]  # platform images of the indexes in ``first``
    images: int  # image groups
    bytes: int
    whole_repository: bool = False


@dataclass(frozen=True)
class PrunePlan:
    older_than_days: int
    images_in_scope: int
    deletions: tuple[RepoDeletion, ...]

    @property
    def images(self) -> int:
        return sum(d.images for d in self.deletions)

    @property
    def bytes(self) -> int:
        return sum(d.bytes for d in self.deletions)

    @property
    def repositories_deleted(self) -> int:
        return sum(1 for d in self.deletions if d.whole_repository)

    @property
    def share(self) -> float:
        return self.images / self.images_in_scope if self.images_in_scope else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "older_than_days": self.older_than_days,
            "images_in_scope": self.images_in_scope,
            "images": self.images,
            "bytes": self.bytes,
            "share": round(self.share, 4),
            "deletions": [
                {
                    "repository": d.repository,
                    "whole_repository": d.whole_repository,
                    "images": d.images,
                    "bytes": d.bytes,
                    "digests": [*d.first, *d.then],
                }
                for d in self.deletions
            ],
        }

    def unsafe_reason(self, max_share: float) -> str | None:
        """Why this plan needs --force, or None."""
        if self.images_in_scope >= MIN_IN_SCOPE and self.share > max_share:
            return (
                f"it deletes {self.images} of {self.images_in_scope} images in scope "
                f"({self.share:.0%}, more than {max_share:.0%})"
            )
        return None


def plan_prune(
    repositories: Sequence[Repository],
    *,
    prefixes: Sequence[str],
    applications: Sequence[str] = (),
    named: Sequence[str] = (),
    only_prefixes: Sequence[str] = (),
    older_than_days: int,
    now: datetime,
    whole_repositories: bool = False,
) -> PrunePlan:
    """The stale image groups in scope: repositories under the cache prefixes (``only_prefixes``
    narrows them), and the repositories in ``named`` (the only way an application or unmanaged
    repository is ever in scope). With ``whole_repositories``, a repository whose every image is
    stale (or that is empty) is deleted instead of its images. Deterministic."""
    in_scope = 0
    out: list[RepoDeletion] = []
    for repo in sorted(repositories, key=lambda r: r.name):
        where = classify(repo.name, prefixes, applications)
        wanted = repo.name in named or (
            where not in (APPLICATION, UNMANAGED) and (not only_prefixes or where in only_prefixes)
        )
        if not wanted:
            continue
        groups = groups_of(repo.images)
        in_scope += len(groups)
        stale = [g for g in groups if is_stale(g, now=now, days=older_than_days)]
        whole = whole_repositories and len(stale) == len(groups)
        if not stale and not whole:
            continue
        out.append(
            RepoDeletion(
                repository=repo.name,
                first=tuple(
                    d for g in stale for d in (g.head.digest, *(r.digest for r in g.referrers))
                ),
                then=tuple(c.digest for g in stale for c in g.children),
                images=len(stale),
                bytes=sum(g.counted_bytes for g in stale),
                whole_repository=whole,
            )
        )
    return PrunePlan(older_than_days, in_scope, tuple(out))


@dataclass(frozen=True)
class PruneResult:
    deleted_images: int  # manifests deleted (platform images and referrers included)
    deleted_repositories: tuple[str, ...]
    failures: tuple[str, ...]  # one line per image ECR refused to delete


def run_prune(
    plan: PrunePlan, clients: Clients, *, on_repository: Callable[[str], None] | None = None
) -> PruneResult:
    """Carry out ``plan``. Idempotent: an image or repository already gone counts as done.
    Stops at the first failed call (AwsError); per-image refusals are collected instead."""
    deleted = 0
    repos: list[str] = []
    failures: list[str] = []
    for d in plan.deletions:
        if d.whole_repository:
            gone = clients.ecr.exceptions.RepositoryNotFoundException
            with aws_errors(f"delete repository {d.repository}"), contextlib.suppress(gone):
                clients.ecr.delete_repository(
                    repositoryName=d.repository, force=bool(d.first or d.then)
                )
            repos.append(d.repository)
            interrupts.record_applied(f"deleted repository {d.repository}")
        else:
            for digests in (d.first, d.then):
                n, failed = _delete_images(clients, d.repository, digests)
                deleted += n
                failures += failed
                if n:  # the ledger a Ctrl-C reports
                    images = "1 image" if n == 1 else f"{n} images"
                    interrupts.record_applied(f"deleted {images} in {d.repository}")
        if on_repository is not None:
            on_repository(d.repository)
    return PruneResult(deleted, tuple(repos), tuple(failures))


def _delete_images(
    clients: Clients, repository: str, digests: Sequence[str]
) -> tuple[int, list[str]]:
    deleted = 0
    failures: list[str] = []
    for i in range(0, len(digests), BATCH_DELETE_MAX):
        chunk = digests[i : i + BATCH_DELETE_MAX]
        with aws_errors(f"delete images in {repository}"):
            resp = clients.ecr.batch_delete_image(
                repositoryName=repository, imageIds=[{"imageDigest": x} for x in chunk]
            )
        # Each requested digest is either deleted or reported as a failure. (imageIds lists one
        # entry per tag removed, and none for an untagged image in moto.)
        refused = resp.get("failures", [])
        deleted += len(chunk) - len(refused)
        for f in refused:
            if f.get("failureCode") == "ImageNotFound":
                continue  # already gone: what we wanted
            digest = f.get("imageId", {}).get("imageDigest", "?")
            failures.append(
                f"{repository}@{digest}: {f.get('failureCode')}: {f.get('failureReason', '')}"
            )
    return deleted, failures
