"""DescribeImages' ``imageSizeInBytes`` as ECR defines it, for every image in moto's ECR.

moto 5.2 reports the config blob's size for an image manifest and nothing for an index. ECR
reports (botocore model, ``ImageDetail.imageSizeInBytes``; ECR-FACTS §4) the compressed size of
the image, i.e. the sum of its layers, and for a manifest list "the max size of all manifests in
the list". ``install()`` makes moto do the same for images pushed with PutImage; images recorded
by ``pulls.simulate_pull`` already carry their size. Idempotent; class-level, so it covers
``mock_aws`` and ``ThreadedMotoServer`` alike.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

_lock = threading.Lock()
_ORIGINAL_ATTR = "_ecrcache_original_describe_images"
_INDEX_SIZE_ATTR = "_ecrcache_index_size"


def manifest_size(manifest: str) -> int | None:
    """The sum of an image manifest's layer sizes; None for an index or unreadable JSON."""
    try:
        doc = json.loads(manifest)
    except ValueError:
        return None
    if not isinstance(doc, dict) or "layers" not in doc:
        return None
    return sum(int(layer.get("size", 0)) for layer in doc["layers"])


def index_children(manifest: str) -> tuple[str, ...]:
    """The digests an index (manifest list) refers to; () for anything else."""
    try:
        doc = json.loads(manifest)
    except ValueError:
        return ()
    if not isinstance(doc, dict):
        return ()
    return tuple(m["digest"] for m in doc.get("manifests", ()) if "digest" in m)


def _size(image: Any) -> int | None:
    if hasattr(image, _INDEX_SIZE_ATTR):
        return getattr(image, _INDEX_SIZE_ATTR)
    return manifest_size(image.image_manifest)


def _with_index_sizes(images: Iterable[Any], repository_images: list[Any]) -> list[Any]:
    # Copies, so a describe never writes to the backend's images.
    by_digest = {img.get_image_digest(): img for img in repository_images}
    out = []
    for image in images:
        children = index_children(image.image_manifest)
        if children and type(image).get_image_size_in_bytes is _image_size:
            sizes = [
                s
                for d in children
                if d in by_digest and (s := by_digest[d].get_image_size_in_bytes()) is not None
            ]
            image = copy.copy(image)
            setattr(image, _INDEX_SIZE_ATTR, max(sizes) if sizes else None)
        out.append(image)
    return out


def _image_size(self: Any) -> int | None:
    return _size(self)


def install() -> None:
    """Patch moto's ``Image`` size and ``ECRBackend.describe_images``. Idempotent."""
    from moto.ecr.models import ECRBackend, Image

    with _lock:
        if not hasattr(ECRBackend, _ORIGINAL_ATTR):
            setattr(ECRBackend, _ORIGINAL_ATTR, ECRBackend.describe_images)
        original: Callable[..., Iterable[Any]] = getattr(ECRBackend, _ORIGINAL_ATTR)

        def describe_images(
            self: Any,
            repository_name: str,
            registry_id: str | None = None,
            image_ids: list[dict[str, str]] | None = None,
        ) -> list[Any]:
            images = original(self, repository_name, registry_id, image_ids)
            repo = self._get_repository(repository_name, registry_id)
            return _with_index_sizes(images, repo.images)

        Image.get_image_size_in_bytes = _image_size  # type: ignore[method-assign]
        ECRBackend.describe_images = describe_images  # type: ignore[method-assign]
