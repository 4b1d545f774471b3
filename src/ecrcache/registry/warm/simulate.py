"""warm in the sandbox: ECR's side of each pull is simulated on moto (nothing is transferred).

The cache is asked exactly as against AWS (DescribeImages, through the same inspector); a miss
is filled with ``sandbox.pulls.simulate_pull``, as test-pull's simulator does, which creates the
repository under its creation template and records a manifest list with one image per platform.
Digest-only references are not filled, as ECR would not fill them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ecrcache import interrupts
from ecrcache.errors import EcrcacheError
from ecrcache.registry import Platform
from ecrcache.registry.warm.inspect import CacheInspector
from ecrcache.registry.warm.model import ImageResult, PlatformResult, Status, WarmJob, WarmReport
from ecrcache.registry.warm.run import OnDone, failed_result, plan_for

SIMULATED_PLATFORMS = ("linux/amd64", "linux/arm64")
PIN_NOTE = (
    "simulated: warmed through its tag; whether the tag still points at the pinned digest "
    "cannot be checked without image data"
)


def simulate_images(
    jobs: Sequence[WarmJob],
    *,
    inspector: CacheInspector,
    account_id: str,
    region: str,
    platforms: Sequence[Platform] = (),
    on_done: OnDone | None = None,
) -> WarmReport:
    """Warm ``jobs`` in the sandbox, one after the other (moto's backends are shared state).
    Needs the sandbox's moto mock active."""
    results = []
    names = tuple(str(p) for p in platforms) or SIMULATED_PLATFORMS
    for job in jobs:
        result = _simulate_one(job, inspector, account_id, region, names)
        results.append(result)
        if result.status == "cached-now":  # the ledger a Ctrl-C reports
            interrupts.record_applied(f"cached {result.reference}")
        if on_done is not None:
            on_done(result)
    failures = getattr(inspector, "failures", ())
    warnings = tuple(f"could not ask the cache whether it held an image: {f}" for f in failures)
    return WarmReport(tuple(results), inspector.decided_by, warnings)


def _simulate_one(
    job: WarmJob,
    inspector: CacheInspector,
    account_id: str,
    region: str,
    platforms: tuple[str, ...],
) -> ImageResult:
    from ecrcache.sandbox.pulls import simulate_pull

    started = time.perf_counter()
    if job.target is None:
        return failed_result(
            job, started, job.problem or "cannot be warmed", job.hint, simulated=True
        )
    plan = plan_for(job, inspector)
    if isinstance(plan, tuple):
        return failed_result(job, started, *plan, simulated=True)
    t = job.target
    status: Status
    if plan.before.state == "present":
        status, digest = "already-cached", plan.before.digest
    else:
        try:
            pulled = simulate_pull(
                account_id=account_id,
                region=region,
                repository=t.repository,
                tag=plan.fetch,
                platforms=platforms,
            )
        except EcrcacheError as exc:
            return failed_result(job, started, exc.message, exc.hint, simulated=True)
        status, digest = "cached-now", pulled.image_digest
    return ImageResult(
        reference=job.reference,
        sources=job.sources,
        cache_reference=t.image,
        status=status,
        digest=digest,
        platforms=tuple(PlatformResult(p, None, status) for p in platforms),
        seconds=time.perf_counter() - started,
        simulated=True,
        note=PIN_NOTE if t.digest and plan.fetch != t.digest else None,
    )
