"""Pull one image for one platform: manifest (through an index if there is one), then blobs.

Blobs download concurrently on a bounded thread pool sharing the client's kept-alive connections.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ecrcache.registry.client import BlobResult, RegistryClient
from ecrcache.registry.digest import Digest
from ecrcache.registry.manifest import DEFAULT_PLATFORM, Manifest, Platform, select_platform


@dataclass(frozen=True)
class PullResult:
    repository: str
    reference: str
    platform: Platform | None  # None when the reference named a single-platform manifest
    index_digest: Digest | None  # the list/index the platform was chosen from, if any
    manifest: Manifest
    blobs: tuple[BlobResult, ...]
    seconds: float

    @property
    def bytes(self) -> int:
        return sum(b.size for b in self.blobs)

    @property
    def digest(self) -> Digest:
        """The digest the reference resolves to (the index's for a multi-platform image)."""
        return self.index_digest or self.manifest.digest


def pull_image(
    client: RegistryClient,
    repository: str,
    reference: str,
    *,
    platform: Platform = DEFAULT_PLATFORM,
    dest: Path | None = None,
    workers: int = 4,
) -> PullResult:
    """Resolve ``reference`` (tag or digest) for ``platform`` and download every blob, verified.

    With ``dest``, writes ``manifest.json`` and one file per blob named by its hex digest (the
    layout of skopeo's ``dir:``); without it, blobs are hashed and discarded.
    """
    started = time.perf_counter()
    top = client.get_manifest(repository, reference)
    index_digest: Digest | None = None
    chosen: Platform | None = None
    manifest = top
    if top.is_index:
        entry = select_platform(top, platform)
        index_digest, chosen = top.digest, entry.platform
        manifest = client.get_manifest(repository, str(entry.digest))
    if dest is not None:
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "manifest.json").write_bytes(manifest.raw)
    blobs = manifest.blobs
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(blobs) or 1))) as pool:
        # map keeps manifest order; the first failure is raised when its result is read.
        results = tuple(pool.map(lambda d: client.download_blob(repository, d, dest=dest), blobs))
    return PullResult(
        repository=repository,
        reference=reference,
        platform=chosen,
        index_digest=index_digest,
        manifest=manifest,
        blobs=results,
        seconds=time.perf_counter() - started,
    )


def summary(result: PullResult) -> dict[str, object]:
    """A JSON-ready description of a pull (for --output json)."""
    return {
        "repository": result.repository,
        "reference": result.reference,
        "digest": str(result.digest),
        "manifest_digest": str(result.manifest.digest),
        "media_type": result.manifest.media_type,
        "platform": str(result.platform) if result.platform else None,
        "blobs": len(result.blobs),
        "bytes": result.bytes,
        "seconds": round(result.seconds, 3),
    }


__all__ = ["PullResult", "pull_image", "summary"]
