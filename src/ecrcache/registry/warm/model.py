"""What warm was asked to do and what it did, per image and per platform: frozen, JSON-ready."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ecrcache.registry.pulltarget import Target

# cached-now: not in the cache before, pulled through it now; already-cached: the cache held it
# (nothing downloaded); pulled: pulled, but the cache could not be asked beforehand; failed.
Status = Literal["cached-now", "already-cached", "pulled", "failed"]
STATUSES: tuple[Status, ...] = ("cached-now", "already-cached", "pulled", "failed")


@dataclass(frozen=True)
class WarmJob:
    """One image to warm. ``target`` is None when it cannot be warmed; ``problem`` says why."""

    reference: str  # as written (argument or file)
    sources: tuple[str, ...]  # "argument", or "path:line" for each place a file names it
    target: Target | None
    problem: str | None = None
    hint: str | None = None

    @property
    def key(self) -> str:
        return self.target.image if self.target else self.reference


@dataclass(frozen=True)
class PlatformResult:
    platform: str | None  # None for a single-platform image (no index)
    digest: str | None
    status: Status
    bytes: int = 0  # downloaded now (0 when already cached)
    blobs: int = 0
    error: str | None = None


@dataclass(frozen=True)
class ImageResult:
    reference: str
    sources: tuple[str, ...]
    cache_reference: str | None
    status: Status
    digest: str | None = None  # what the reference resolves to (the index's, if any)
    platforms: tuple[PlatformResult, ...] = ()
    seconds: float = 0.0
    error: str | None = None
    hint: str | None = None
    simulated: bool = False
    note: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.platforms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "sources": list(self.sources),
            "cache_reference": self.cache_reference,
            "status": self.status,
            "digest": self.digest,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "simulated": self.simulated,
            "note": self.note,
            "error": self.error,
            "hint": self.hint,
            "platforms": [
                {
                    "platform": p.platform,
                    "digest": p.digest,
                    "status": p.status,
                    "bytes": p.bytes,
                    "blobs": p.blobs,
                    "error": p.error,
                }
                for p in self.platforms
            ],
        }


@dataclass(frozen=True)
class WarmReport:
    images: tuple[ImageResult, ...]
    decided_by: str  # how "already cached" was decided (for the report's footer and JSON)
    warnings: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return any(i.failed for i in self.images)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for i in self.images if i.status == s) for s in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "images": [i.to_dict() for i in self.images],
            "counts": self.counts(),
            "decided_by": self.decided_by,
        }
