"""What a test pull measured and what ECR showed afterwards: frozen results, JSON-ready."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Method = Literal["registry-api", "docker", "simulated"]


@dataclass(frozen=True)
class Phase:
    seconds: float
    bytes: int

    @property
    def throughput(self) -> float:
        """Bytes per second (0 when nothing measurable was timed)."""
        return self.bytes / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Attempt:
    """One pull. ``manifest``/``blobs`` are None for docker, which reports only the total."""

    label: str  # "cold" or "warm"
    seconds: float
    digest: str | None  # what the reference resolved to (the index's for a multi-arch image)
    manifest_digest: str | None = None  # the chosen platform's manifest
    platform: str | None = None  # None when the reference named a single-platform manifest
    manifest: Phase | None = None
    blobs: Phase | None = None
    blob_count: int = 0


@dataclass(frozen=True)
class Verification:
    """What ECR shows after the pull. ``error`` says why a check could not be made."""

    repository: str
    exists: bool
    created: bool | None  # created by this pull; None when the state before is unknown
    lifecycle_policy: bool | None = None
    tag_mutability: str | None = None
    encryption: str | None = None
    image_listed: bool = False
    image_digest: str | None = None
    image_size: int | None = None
    digest_matches: bool | None = None  # against the pulled digest; None with nothing to compare
    error: str | None = None


@dataclass(frozen=True)
class PullTestResult:
    reference: str  # as the user gave it
    cache_reference: str
    registry_url: str
    repository: str
    platform: str
    method: Method
    attempts: tuple[Attempt, ...]
    verification: Verification | None
    warnings: tuple[str, ...]
    note: str | None = None

    @property
    def simulated(self) -> bool:
        return self.method == "simulated"

    @property
    def failures(self) -> tuple[str, ...]:
        """What ECR shows that a pull through the cache would fail on: no repository after the
        pull, or no such image in it. Empty when ECR agrees, or could not be asked (``error``)."""
        v = self.verification
        if v is None or v.error:
            return ()
        if not v.exists:
            return (f"ECR has no repository {v.repository!r} after the pull",)
        if not v.image_listed:
            return (f"ECR does not list the image in {v.repository!r}",)
        return ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; throughput in bytes per second, times in seconds (3 decimals)."""
        return {
            "reference": self.reference,
            "cache_reference": self.cache_reference,
            "registry_url": self.registry_url,
            "repository": self.repository,
            "platform": self.platform,
            "method": self.method,
            "simulated": self.simulated,
            "note": self.note,
            "attempts": [_attempt_dict(a) for a in self.attempts],
            "verification": asdict(self.verification) if self.verification else None,
        }


def _phase_dict(phase: Phase | None) -> dict[str, Any] | None:
    if phase is None:
        return None
    return {
        "seconds": round(phase.seconds, 3),
        "bytes": phase.bytes,
        "throughput": round(phase.throughput),
    }


def _attempt_dict(a: Attempt) -> dict[str, Any]:
    blobs = _phase_dict(a.blobs)
    return {
        "attempt": a.label,
        "seconds": round(a.seconds, 3),
        "digest": a.digest,
        "manifest_digest": a.manifest_digest,
        "platform": a.platform,
        "manifest": _phase_dict(a.manifest),
        "blobs": blobs | {"count": a.blob_count} if blobs else None,
    }
