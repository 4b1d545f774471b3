"""Warm the cache: for each image, ask the cache whether it holds it, then pull what it lacks.

Pulls go through test-pull's registry client (``RegistryClient`` and ``pull_image``): the
reference's manifest by tag (ECR fills the cache on that pull), then every platform manifest of
an index (or those asked for) with its blobs, verified. Images run on a bounded thread pool
sharing one client per registry; a failure is that image's result, never the end of the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from ecrcache import interrupts
from ecrcache.errors import EcrcacheError
from ecrcache.registry import Descriptor, Manifest, Platform, RegistryClient, RegistryError
from ecrcache.registry.pull import pull_image
from ecrcache.registry.warm.inspect import CacheInspector, Lookup
from ecrcache.registry.warm.model import ImageResult, PlatformResult, Status, WarmJob, WarmReport

# ECR-FACTS: "Digest-pinned references don't populate the cache on first pull"
# (https://github.com/aws/containers-roadmap/issues/2837).
DIGEST_ONLY_PROBLEM = (
    "digest-only reference not in the cache: ECR does not populate the cache on a first pull "
    "by digest (containers-roadmap#2837), so warm does not try"
)
DIGEST_ONLY_HINT = (
    "give its tag too (name:tag@digest) and warm that: the tag's pull fills the cache, and the "
    "digest is then served from it"
)
UNKNOWN_PLATFORM = Platform("unknown", "unknown")  # BuildKit's attestation manifests

ClientFactory = Callable[[str], RegistryClient]
OnDone = Callable[[ImageResult], None]


def warm_images(
    jobs: Sequence[WarmJob],
    *,
    client_factory: ClientFactory,
    inspector: CacheInspector,
    platforms: Sequence[Platform] = (),
    concurrency: int = 4,
    blob_workers: int = 4,
    on_done: OnDone | None = None,
) -> WarmReport:
    """Warm every job, ``concurrency`` images at a time; results in the jobs' order.

    ``platforms`` empty means every platform of an index (attestations aside). The cache is asked
    (``inspector``) before anything is pulled; an image the cache holds is not downloaded again.
    """
    clients: dict[str, RegistryClient] = {}

    def client_for(url: str) -> RegistryClient:
        if url not in clients:  # created before the pool starts: no race
            clients[url] = client_factory(url)
        return clients[url]

    for job in jobs:
        if job.target is not None:
            client_for(job.target.registry_url)
    results: list[ImageResult | None] = [None] * len(jobs)
    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            futures = {
                pool.submit(
                    _warm_one,
                    job,
                    client_for(job.target.registry_url) if job.target else None,
                    inspector,
                    tuple(platforms),
                    blob_workers,
                ): i
                for i, job in enumerate(jobs)
            }
            try:
                for future in as_completed(futures):
                    result = future.result()
                    results[futures[future]] = result
                    if result.status == "cached-now":  # the ledger a Ctrl-C reports
                        interrupts.record_applied(f"cached {result.reference}")
                    if on_done is not None:
                        on_done(result)
            except BaseException:
                # Ctrl-C: start no more images; those in flight finish (threads cannot be
                # stopped), then the interrupt goes on.
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    finally:
        for client in clients.values():
            client.close()
    failures = getattr(inspector, "failures", ())
    warnings = tuple(f"could not ask the cache whether it held an image: {f}" for f in failures)
    return WarmReport(tuple(r for r in results if r), inspector.decided_by, warnings)


@dataclass(frozen=True)
class _Plan:
    """What to fetch for a job, and what the cache held for it before."""

    fetch: str  # the tag, or the digest when the cache holds it
    before: Lookup


def failed_result(
    job: WarmJob, started: float, error: str, hint: str | None, **kw: object
) -> ImageResult:
    return ImageResult(
        reference=job.reference,
        sources=job.sources,
        cache_reference=job.target.image if job.target else None,
        status="failed",
        seconds=time.perf_counter() - started,
        error=error,
        hint=hint,
        **kw,  # type: ignore[arg-type]
    )


def plan_for(job: WarmJob, inspector: CacheInspector) -> _Plan | tuple[str, str]:
    """What to fetch, or (problem, hint) when the image cannot be warmed."""
    t = job.target
    assert t is not None
    if t.digest:
        pinned = inspector.lookup(t.repository, t.digest)
        if pinned.state == "present":
            return _Plan(t.digest, pinned)
        if not t.tag:
            return DIGEST_ONLY_PROBLEM, DIGEST_ONLY_HINT
    tag = t.tag or "latest"
    before = inspector.lookup(t.repository, tag)
    if t.no_fill_reason and not t.digest and before.state != "present":
        return (
            f"ECR would not fetch {t.no_fill_reason} from the upstream",
            "write the name with library/ (docker.io/library/NAME), as rewrite does",
        )
    return _Plan(tag, before)


def _warm_one(
    job: WarmJob,
    client: RegistryClient | None,
    inspector: CacheInspector,
    wanted: tuple[Platform, ...],
    workers: int,
) -> ImageResult:
    started = time.perf_counter()
    if job.target is None or client is None:
        return failed_result(job, started, job.problem or "cannot be warmed", job.hint)
    plan = plan_for(job, inspector)
    if isinstance(plan, tuple):
        return failed_result(job, started, *plan)
    t = job.target
    try:
        top = client.get_manifest(t.repository, plan.fetch)
    except RegistryError as exc:
        return failed_result(job, started, exc.message, exc.hint)
    digest = str(top.digest)
    entries = _entries(top, wanted)
    if t.digest and digest != t.digest:
        # A pin may name one platform's manifest of the tag's index: warm that one.
        child = next((d for d in top.manifests if str(d.digest) == t.digest), None)
        if child is None:
            return failed_result(
                job,
                started,
                f"the tag {t.tag} now resolves to {digest}, not the pinned {t.digest}: the "
                "cache holds what the tag points at, so the pinned image cannot be warmed "
                "through it",
                "update the pin to the tag's digest, or warm the tag the pin was taken from",
                digest=digest,
            )
        entries = [_Entry(child.platform, child)]
    done = tuple(
        _platform(client, inspector, t.repository, top, entry, plan.before, workers)
        for entry in entries
    )
    bad = next((p for p in done if p.status == "failed"), None)
    if bad is not None:
        return failed_result(
            job,
            started,
            f"{bad.platform or 'image'}: {bad.error}",
            None,
            digest=digest,
            platforms=done,
        )
    return ImageResult(
        reference=job.reference,
        sources=job.sources,
        cache_reference=t.image,
        status=_combined(done),
        digest=digest,
        platforms=done,
        seconds=time.perf_counter() - started,
    )


def _combined(platforms: tuple[PlatformResult, ...]) -> Status:
    states = {p.status for p in platforms}
    if states <= {"already-cached"}:
        return "already-cached"
    return "pulled" if "pulled" in states else "cached-now"


@dataclass(frozen=True)
class _Entry:
    platform: Platform | None  # None: a single-platform image (no index)
    descriptor: Descriptor | None  # None with an index: a platform asked for that it lacks
    error: str | None = None


def _entries(top: Manifest, wanted: tuple[Platform, ...]) -> list[_Entry]:
    """The manifests to warm: the image itself, or the index's platforms (all, or those asked)."""
    if not top.is_index:
        return [_Entry(None, None)]
    listed = [d for d in top.manifests if d.platform and d.platform != UNKNOWN_PLATFORM]
    if not wanted:
        return [_Entry(d.platform, d) for d in listed]
    out = []
    for want in wanted:
        exact = [d for d in listed if d.platform and d.platform == want]
        near = [d for d in listed if d.platform and want.matches(d.platform)]
        if exact or near:
            out.append(_Entry(want, (exact or near)[0]))
        else:
            available = ", ".join(sorted({str(d.platform) for d in listed})) or "none"
            out.append(_Entry(want, None, f"not in the index (it has {available})"))
    return out


def _platform(
    client: RegistryClient,
    inspector: CacheInspector,
    repository: str,
    top: Manifest,
    entry: _Entry,
    before: Lookup,
    workers: int,
) -> PlatformResult:
    name = str(entry.platform) if entry.platform else None
    if entry.error is not None:
        return PlatformResult(name, None, "failed", error=entry.error)
    digest = str(entry.descriptor.digest) if entry.descriptor else str(top.digest)
    held = before
    if entry.descriptor is not None and before.state == "present":
        held = inspector.lookup(repository, digest)  # an index's platform: listed on its own
    if held.state == "present":
        return PlatformResult(name, digest, "already-cached")
    try:
        pulled = pull_image(client, repository, digest, workers=workers)
    except EcrcacheError as exc:
        return PlatformResult(name, digest, "failed", error=exc.message)
    status: Status = "pulled" if held.state == "unknown" else "cached-now"
    return PlatformResult(name, digest, status, pulled.bytes, len(pulled.blobs))
