"""Image storage status (ACTIVE, ARCHIVED, ACTIVATING) for moto 5.2's ECR, as ECR serves it.

ECR's archive storage class keeps images that ListImages and DescribeImages do not show unless
asked. botocore ECR model: ``ListImagesFilter.imageStatus`` / ``DescribeImagesFilter.imageStatus``
("Valid values are ACTIVE, ARCHIVED, and ACTIVATING. If not specified, only images with ACTIVE
status are returned"; the filter enum adds ANY); ``ImageDetail.imageStatus``, ``lastArchivedAt``,
``lastActivatedAt``; ``UpdateImageStorageClass`` ("Transitions an image between storage classes
... from Amazon ECR standard storage class to Amazon ECR archival storage class ... or restore
archived images back to Amazon ECR standard", target ``STANDARD`` | ``ARCHIVE``; its response's
``imageStatus`` is the status after the call). A restore is not instant ("up to 20 minutes",
ECR user guide, archive_restore_image.html): the image is ACTIVATING until ``restore_seconds``
(0 by default, so it is ACTIVE at the next read) have passed.

moto 5.2 has none of this: every image is listed and DescribeImages has no status. ``install()``
gives every image a status (ACTIVE unless archived), filters the two listings as ECR does when no
``imageIds`` are named, and adds UpdateImageStorageClass. A repository still holds its archived
images: DeleteRepository without ``force`` refuses them (moto counts ``repository.images``).
State lives on moto's picklable ``Image`` objects; class-level patches cover ``mock_aws`` and
``ThreadedMotoServer`` alike.
"""

from __future__ import annotations

import copy
import threading
from datetime import datetime, timedelta
from typing import Any

from moto.core.exceptions import ServiceException

from ecrcache.sandbox.exceptions import InvalidParameterException

ACTIVE, ARCHIVED, ACTIVATING = "ACTIVE", "ARCHIVED", "ACTIVATING"
IMAGE_STATUS_FILTERS = (ACTIVE, ARCHIVED, ACTIVATING, "ANY")
TARGET_STORAGE_CLASSES = ("STANDARD", "ARCHIVE")

_lock = threading.Lock()
_restore = {"seconds": 0.0}


class ImageStorageClassUpdateNotSupportedException(ServiceException):
    code = "ImageStorageClassUpdateNotSupportedException"


def set_restore_seconds(seconds: float) -> None:
    """How long a restored image stays ACTIVATING (process-wide; 0 restores at the next read)."""
    _restore["seconds"] = seconds


def status_of(image: Any) -> str:
    """An image's status now (a restore that has had its time becomes ACTIVE)."""
    status: str = getattr(image, "_ecrcache_status", ACTIVE)
    if status == ACTIVATING:
        until: datetime | None = getattr(image, "_ecrcache_activating_until", None)
        if until is None or _now() >= until:
            image._ecrcache_status = ACTIVE
            return ACTIVE
    return status


def _now() -> datetime:
    from moto.core.utils import utcnow

    return utcnow()


def _check_status_filter(value: str | None) -> str:
    if value is None:
        return ACTIVE  # "If not specified, only images with ACTIVE status are returned"
    if value not in IMAGE_STATUS_FILTERS:
        raise InvalidParameterException(
            "Invalid parameter at 'imageStatus' failed to satisfy constraint: "
            f"'Member must satisfy enum value set: [{', '.join(IMAGE_STATUS_FILTERS)}]'"
        )
    return value


def _selected(images: Any, wanted: str) -> list[Any]:
    return [i for i in images if wanted == "ANY" or status_of(i) == wanted]


def _with_status(image: Any) -> Any:
    # A copy carrying the model's ImageDetail members, so a read never writes the backend's image.
    out = copy.copy(image)
    out.image_status = status_of(image)
    out.last_archived_at = getattr(image, "_ecrcache_last_archived_at", None)
    out.last_activated_at = getattr(image, "_ecrcache_last_activated_at", None)
    return out


def list_images(self: Any) -> Any:
    from moto.core.responses import ActionResult

    image_filter = self._get_param("filter", {}) or {}
    wanted = _check_status_filter(image_filter.get("imageStatus"))
    images = self.ecr_backend.list_images(
        self._get_param("repositoryName"),
        self._get_param("registryId"),
        tag_status=image_filter.get("tagStatus", "ANY"),
    )
    resp = [
        {"imageDigest": image.image_digest, "imageTag": tag}
        for image in _selected(images, wanted)
        for tag in image.image_tags or [None]
    ]
    return ActionResult({"imageIds": resp})


def describe_images(self: Any) -> Any:
    from moto.core.responses import ActionResult

    image_ids = self._get_param("imageIds")
    image_filter = self._get_param("filter", {}) or {}
    wanted = _check_status_filter(image_filter.get("imageStatus"))
    images = list(
        self.ecr_backend.describe_images(
            self._get_param("repositoryName"), self._get_param("registryId"), image_ids
        )
    )
    if not image_ids:  # images named by ID are described whatever their status
        images = _selected(images, wanted)
    tag_status = image_filter.get("tagStatus", "ANY")
    if tag_status == "TAGGED":
        images = [i for i in images if i.image_tags]
    elif tag_status == "UNTAGGED":
        images = [i for i in images if not i.image_tags]
    details = []
    for image in images:
        detail = _with_status(image)
        if not detail.image_tags:
            del detail.image_tags  # ECR omits an empty imageTags (moto's own rule)
        details.append(detail)
    return ActionResult({"imageDetails": details})


def update_image_storage_class(self: Any) -> Any:
    from moto.core.responses import ActionResult

    target = self._get_param("targetStorageClass")
    if target not in TARGET_STORAGE_CLASSES:
        raise InvalidParameterException(
            "Invalid parameter at 'targetStorageClass' failed to satisfy constraint: "
            f"'Member must satisfy enum value set: [{', '.join(TARGET_STORAGE_CLASSES)}]'"
        )
    image_id = self._get_param("imageId") or {}
    repository = self.ecr_backend._get_repository(
        self._get_param("repositoryName"), self._get_param("registryId")
    )
    image = repository._get_image(image_id.get("imageTag"), image_id.get("imageDigest"))
    status = status_of(image)
    now = _now()
    if target == "ARCHIVE" and status == ACTIVE:
        image._ecrcache_status = ARCHIVED
        image._ecrcache_last_archived_at = now
    elif target == "STANDARD" and status == ARCHIVED:
        image._ecrcache_status = ACTIVATING
        image._ecrcache_activating_until = now + timedelta(seconds=_restore["seconds"])
        image._ecrcache_last_activated_at = now
    else:
        raise ImageStorageClassUpdateNotSupportedException(
            f"The image is {status}: it cannot move to the {target} storage class"
        )
    return ActionResult(
        {
            "registryId": repository.registry_id,
            "repositoryName": repository.name,
            "imageId": {"imageDigest": image.get_image_digest(), **_tag_of(image_id)},
            "imageStatus": image._ecrcache_status,
        }
    )


def _tag_of(image_id: dict[str, str]) -> dict[str, str]:
    return {"imageTag": image_id["imageTag"]} if image_id.get("imageTag") else {}


def install() -> None:
    """Patch moto's ECRResponse listings and add UpdateImageStorageClass. Idempotent."""
    from moto.ecr.responses import ECRResponse

    with _lock:
        ECRResponse.list_images = list_images  # type: ignore[method-assign]
        ECRResponse.describe_images = describe_images  # type: ignore[method-assign]
        ECRResponse.update_image_storage_class = update_image_storage_class  # type: ignore[attr-defined]
