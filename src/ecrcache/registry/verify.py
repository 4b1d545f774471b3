"""What a pull left behind in ECR: repository, lifecycle policy, settings, the image. Reads only."""

from __future__ import annotations

from typing import Any

from ecrcache.errors import EcrcacheError
from ecrcache.registry.pullresult import Verification
from ecrcache.registry.pulltarget import Target


def _repository(ecr: Any, name: str) -> dict[str, Any] | None:
    try:
        repos = ecr.describe_repositories(repositoryNames=[name])["repositories"]
    except ecr.exceptions.RepositoryNotFoundException:
        return None
    return dict(repos[0]) if repos else None


def _has_lifecycle_policy(ecr: Any, name: str) -> bool:
    try:
        ecr.get_lifecycle_policy(repositoryName=name)
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        return False
    return True


def _image(ecr: Any, target: Target) -> dict[str, Any] | None:
    image_id = {"imageDigest": target.digest} if target.digest else {"imageTag": target.reference}
    try:
        images = ecr.describe_images(repositoryName=target.repository, imageIds=[image_id])
    except ecr.exceptions.ImageNotFoundException:
        return None
    details = images.get("imageDetails") or []
    return dict(details[0]) if details else None


def verify(
    ecr: Any, target: Target, *, existed_before: bool | None, pulled_digest: str | None
) -> Verification:
    """What ECR shows for the target: repository (and whether this pull created it), its
    lifecycle policy, tag mutability, encryption, and the image with its digest. Reads only
    (DescribeRepositories, GetLifecyclePolicy, DescribeImages). An AWS error becomes
    ``error``, not an exception: the pull itself has already succeeded."""
    from ecrcache.aws import aws_errors

    name = target.repository
    try:
        with aws_errors(f"verify the repository {name}"):
            repo = _repository(ecr, name)
            if repo is None:
                created = False if existed_before is not None else None
                return Verification(repository=name, exists=False, created=created)
            lifecycle = _has_lifecycle_policy(ecr, name)
            image = _image(ecr, target)
    except EcrcacheError as exc:
        return Verification(repository=name, exists=False, created=None, error=exc.message)
    digest = image.get("imageDigest") if image else None
    return Verification(
        repository=name,
        exists=True,
        created=None if existed_before is None else not existed_before,
        lifecycle_policy=lifecycle,
        tag_mutability=repo.get("imageTagMutability"),
        encryption=(repo.get("encryptionConfiguration") or {}).get("encryptionType"),
        image_listed=image is not None,
        image_digest=digest,
        image_size=image.get("imageSizeInBytes") if image else None,
        digest_matches=(digest == pulled_digest) if digest and pulled_digest else None,
    )


def repository_exists(ecr: Any, name: str) -> bool | None:
    """Whether the repository exists now; None when that cannot be read (no permission)."""
    from ecrcache.aws import aws_errors

    try:
        with aws_errors(f"describe the repository {name}"):
            return _repository(ecr, name) is not None
    except EcrcacheError:
        return None
