"""Whether the cache already holds an image, asked before the pull so the answer is truthful.

For ECR: DescribeImages on the cache repository, by tag or by digest. ECR lists a manifest
list's platform manifests as images of their own (untagged), so each platform can be asked
for by its digest too. RepositoryNotFoundException or ImageNotFoundException means "not
cached"; any other failure (AccessDenied without ecr:DescribeImages) means "cannot tell", and
warm then reports the image as pulled rather than guess.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ecrcache.errors import EcrcacheError

State = Literal["present", "absent", "unknown"]


@dataclass(frozen=True)
class Lookup:
    state: State
    digest: str | None = None  # what the cache holds for the reference, when present
    reason: str | None = None  # why the state is unknown


class CacheInspector(Protocol):
    """Answers "does the cache hold repository@reference?" (reference: a tag or a digest)."""

    decided_by: str

    def lookup(self, repository: str, reference: str) -> Lookup: ...


class NoInspector:
    """For a registry with no inventory API (a plain distribution proxy): always unknown."""

    decided_by = (
        "not decided: this registry has no inventory API, so each image is reported as pulled"
    )

    def lookup(self, repository: str, reference: str) -> Lookup:
        return Lookup("unknown", reason="the registry cannot be asked")


class EcrInspector:
    """DescribeImages on the cache repository (thread-safe: boto3 clients are)."""

    decided_by = (
        "ECR DescribeImages on the cache repository before each pull: listed means already "
        "cached; RepositoryNotFound or ImageNotFound means not yet"
    )

    def __init__(self, ecr: Any) -> None:
        self._ecr = ecr
        self._lock = threading.Lock()
        self.failures: list[str] = []  # why lookups could not be made (reported once)

    def lookup(self, repository: str, reference: str) -> Lookup:
        from ecrcache.aws import aws_errors

        image_id = {"imageDigest": reference} if ":" in reference else {"imageTag": reference}
        ecr = self._ecr
        try:
            with aws_errors(f"describe {repository}@{reference} in the cache"):
                try:
                    found = ecr.describe_images(repositoryName=repository, imageIds=[image_id])
                except (
                    ecr.exceptions.RepositoryNotFoundException,
                    ecr.exceptions.ImageNotFoundException,
                ):
                    return Lookup("absent")
        except EcrcacheError as exc:
            with self._lock:
                if exc.message not in self.failures:
                    self.failures.append(exc.message)
            return Lookup("unknown", reason=exc.message)
        details = found.get("imageDetails") or []
        if not details:
            return Lookup("absent")
        return Lookup("present", digest=str(details[0].get("imageDigest") or "") or None)
