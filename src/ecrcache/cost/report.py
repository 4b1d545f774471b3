"""The arithmetic of cost-report: what is stored, grouped by upstream, what it costs, what could go.

Pure: takes repositories and images already read (``inventory``), prices (``pricing``) and a
clock; returns frozen results. No boto3, rich or typer.

How storage is counted (``METHOD`` says it in the report): ``imageSizeInBytes`` is ECR's
compressed size, and for an image index it is already the largest platform image's size. So an
image *group* (an index with the platform manifests and referrers it holds, or one manifest) is
counted once: the index at its reported size plus its referrers, never its children again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ecrcache.cost import pricing
from ecrcache.policy import lifecycle

APPLICATION = "(application)"
UNMANAGED = "(no cache rule)"
ROOT = "ROOT"

METHOD = (
    "Storage is the sum of imageSizeInBytes (compressed layers, as ECR reports them) over distinct "
    "images; an image index counts once, at its reported size (ECR: its largest platform image), "
    "and its platform images are not counted again. Layers shared between images are counted in "
    "each. An estimate of the billed GB-months, not the bill (--actual shows that). "
    "1 GB = 2^30 bytes."
)
PULL_TIME_NOTE = (
    "Pull times are ECR's lastRecordedPullTime, refreshed about once a day; an image never pulled "
    "counts from its push."
)


@dataclass(frozen=True)
class ImageRecord:
    """One manifest as DescribeImages reports it, plus an index's children (from its manifest)."""

    digest: str
    tags: tuple[str, ...]
    size_bytes: int
    pushed_at: datetime
    last_pulled_at: datetime | None = None
    media_type: str | None = None
    archived: bool = False
    children: tuple[str, ...] = ()
    subject: str | None = None  # subjectManifestDigest: a signature or SBOM attached to an image


@dataclass(frozen=True)
class Repository:
    name: str
    images: tuple[ImageRecord, ...]


@dataclass(frozen=True)
class Group:
    """What is stored, pulled and deleted together: an index with its children and referrers,
    or one manifest with its referrers. ``counted_bytes`` follows ``METHOD``."""

    head: ImageRecord
    children: tuple[ImageRecord, ...] = ()
    referrers: tuple[ImageRecord, ...] = ()

    @property
    def members(self) -> tuple[ImageRecord, ...]:
        return (self.head, *self.children, *self.referrers)

    @property
    def digests(self) -> tuple[str, ...]:
        return tuple(m.digest for m in self.members)

    @property
    def counted_bytes(self) -> int:
        return self.head.size_bytes + sum(r.size_bytes for r in self.referrers)

    @property
    def tagged(self) -> bool:
        return bool(self.head.tags)

    @property
    def archived(self) -> bool:
        return self.head.archived

    @property
    def last_pulled_at(self) -> datetime | None:
        """The latest recorded pull of any member; None if none was ever pulled."""
        pulls = [m.last_pulled_at for m in self.members if m.last_pulled_at is not None]
        return max(pulls) if pulls else None

    @property
    def last_used_at(self) -> datetime:
        """The last pull, or the push for an image never pulled (as ``sinceImagePulled``)."""
        return self.last_pulled_at or self.head.pushed_at


def groups_of(images: Iterable[ImageRecord]) -> tuple[Group, ...]:
    """Gather an index's children and every image's referrers under their head, oldest first."""
    pool = {img.digest: img for img in images}
    child_of = {c: img.digest for img in pool.values() for c in img.children if c in pool}
    referrers: dict[str, list[ImageRecord]] = {}
    for img in pool.values():
        if img.subject in pool and img.digest not in child_of:
            referrers.setdefault(img.subject, []).append(img)
    attached = set(child_of) | {r.digest for rs in referrers.values() for r in rs}
    heads = [img for img in pool.values() if img.digest not in attached]
    out = [
        Group(
            head=h,
            children=tuple(pool[c] for c in h.children if child_of.get(c) == h.digest),
            referrers=tuple(sorted(referrers.get(h.digest, ()), key=lambda r: r.digest)),
        )
        for h in heads
    ]
    return tuple(sorted(out, key=lambda g: (g.head.pushed_at, g.head.digest)))


def classify(name: str, prefixes: Iterable[str], applications: Iterable[str]) -> str:
    """The cache prefix a repository belongs to (the longest matching one; ROOT catches the rest
    when there is a ROOT rule), ``APPLICATION`` for a named application repository, else
    ``UNMANAGED``."""
    if name in set(applications):
        return APPLICATION
    candidates = [p for p in prefixes if p != ROOT and name.startswith(p.rstrip("/") + "/")]
    if candidates:
        return max(candidates, key=len)
    return ROOT if ROOT in set(prefixes) else UNMANAGED


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Usage:
    repositories: int = 0
    images: int = 0
    stored_bytes: int = 0  # standard class
    archived_bytes: int = 0
    monthly_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.repositories + other.repositories,
            self.images + other.images,
            self.stored_bytes + other.stored_bytes,
            self.archived_bytes + other.archived_bytes,
            self.monthly_usd + other.monthly_usd,
        )

    @property
    def total_bytes(self) -> int:
        return self.stored_bytes + self.archived_bytes


@dataclass(frozen=True)
class Savings:
    """What deleting (or archiving) a set of image groups would take off the monthly bill."""

    images: int = 0
    bytes: int = 0
    monthly_usd: float = 0.0


@dataclass(frozen=True)
class Line:
    name: str  # a prefix, or a repository name
    group: str  # for a repository, its prefix; for a prefix, its upstream registry
    usage: Usage


@dataclass(frozen=True)
class LifecycleWhatIf:
    template: str
    repositories: int
    expire: Savings
    transition_bytes: int
    problem: str | None = None


@dataclass(frozen=True)
class CostReport:
    region: str
    generated_at: datetime
    prices: pricing.Prices
    stale_after_days: int
    per_prefix: tuple[Line, ...]
    top_repositories: tuple[Line, ...]
    total: Usage
    free_tier_credit_usd: float
    stale: Savings
    untagged: Savings
    stale_or_untagged: Savings
    lifecycle: tuple[LifecycleWhatIf, ...]
    notes: tuple[str, ...] = field(default=())
    # which pull times decided "stale": "cloudwatch" (ECR's RepositoryPullCount, for a repository
    # of one image, where it is newer) or "lastRecordedPullTime"; how many stale-by-recorded-time
    # groups the metric kept out; the reason when there was no metric
    stale_source: str = "lastRecordedPullTime"
    stale_kept_by_metric: int = 0
    stale_source_note: str = ""

    @property
    def net_monthly_usd(self) -> float:
        return max(0.0, self.total.monthly_usd - self.free_tier_credit_usd)


# --------------------------------------------------------------------------- arithmetic


def _usage_of(groups: Sequence[Group], prices: pricing.Prices, *, repositories: int) -> Usage:
    standard = sum(g.counted_bytes for g in groups if not g.archived)
    archived = sum(g.counted_bytes for g in groups if g.archived)
    return Usage(
        repositories=repositories,
        images=len(groups),
        stored_bytes=standard,
        archived_bytes=archived,
        monthly_usd=pricing.storage_cost(standard, prices) + pricing.archive_cost(archived, prices),
    )


def _savings(groups: Sequence[Group], prices: pricing.Prices) -> Savings:
    usage = _usage_of(groups, prices, repositories=0)
    return Savings(len(groups), usage.total_bytes, usage.monthly_usd)


def is_stale(
    group: Group, *, now: datetime, days: int, repository_pulled_at: datetime | None = None
) -> bool:
    """Not pulled (nor pushed, if never pulled) for more than ``days`` days. With
    ``repository_pulled_at`` (the latest pull CloudWatch's RepositoryPullCount counted in the
    group's repository, given only where the repository holds this one image, so a pull of it
    is a pull of the image) the newer of the two decides."""
    last = group.last_used_at
    if repository_pulled_at is not None and repository_pulled_at > last:
        last = repository_pulled_at
    return last < now - timedelta(days=days)


def cost_report(
    repositories: Sequence[Repository],
    *,
    prefixes: Mapping[str, str],
    applications: Sequence[str] = (),
    templates: Mapping[str, str | None] = {},
    prices: pricing.Prices,
    now: datetime,
    stale_after_days: int = 90,
    top: int = 10,
    free_tier: bool = False,
    repository_pulls: Mapping[str, datetime] | None = None,
    pull_source_note: str = "",
) -> CostReport:
    """The report. ``prefixes`` maps each live rule's prefix to its upstream registry;
    ``templates`` maps each PULL_THROUGH_CACHE creation template's prefix to its lifecycle policy
    (None for none). ``repository_pulls``, when CloudWatch has ECR's pull counts, maps a
    repository to its latest counted pull (see ``is_stale``); ``pull_source_note`` says where
    pull times came from. Deterministic for the same inputs."""
    by_prefix: dict[str, list[Line]] = {}
    groups_by_repo: dict[str, tuple[Group, ...]] = {}
    for repo in repositories:
        groups = groups_of(repo.images)
        groups_by_repo[repo.name] = groups
        where = classify(repo.name, prefixes, applications)
        line = Line(repo.name, where, _usage_of(groups, prices, repositories=1))
        by_prefix.setdefault(where, []).append(line)
    per_prefix = tuple(
        Line(p, prefixes.get(p, ""), sum((ln.usage for ln in lines), Usage()))
        for p, lines in sorted(by_prefix.items(), key=lambda kv: _prefix_order(kv[0]))
    )
    all_lines = [ln for lines in by_prefix.values() for ln in lines]
    ranked = sorted(all_lines, key=lambda ln: (-ln.usage.total_bytes, ln.name))
    total = sum((ln.usage for ln in per_prefix), Usage())
    # the metric counts pulls per repository: it dates an image's last pull only where the
    # repository holds that one image; elsewhere lastRecordedPullTime decides
    metric = repository_pulls or {}
    cached = [
        (g, metric.get(name) if len(gs) == 1 else None)
        for name, gs in groups_by_repo.items()
        if classify(name, prefixes, applications) not in (APPLICATION, UNMANAGED)
        for g in gs
    ]
    stale_flags = [
        (g, is_stale(g, now=now, days=stale_after_days, repository_pulled_at=at))
        for g, at in cached
    ]
    stale = [g for g, flag in stale_flags if flag]
    # stale by lastRecordedPullTime, not by a newer pull the metric counted
    kept = sum(
        1
        for (g, at), (_, flag) in zip(cached, stale_flags, strict=True)
        if at is not None and not flag and is_stale(g, now=now, days=stale_after_days)
    )
    untagged = [g for g, _ in cached if not g.tagged]
    either = [g for g, flag in stale_flags if not g.tagged or flag]
    notes = [*prices.notes()]
    return CostReport(
        region=prices.region,
        generated_at=now,
        prices=prices,
        stale_after_days=stale_after_days,
        per_prefix=per_prefix,
        top_repositories=tuple(ranked[:top]),
        total=total,
        free_tier_credit_usd=pricing.free_tier_credit(
            total.stored_bytes, prices, has_free_tier=free_tier
        ),
        stale=_savings(stale, prices),
        untagged=_savings(untagged, prices),
        stale_or_untagged=_savings(either, prices),
        lifecycle=lifecycle_what_if(
            groups_by_repo,
            prefixes=prefixes,
            applications=applications,
            templates=templates,
            prices=prices,
            now=now,
        ),
        notes=tuple(notes),
        stale_source="cloudwatch" if repository_pulls is not None else "lastRecordedPullTime",
        stale_kept_by_metric=kept,
        stale_source_note=pull_source_note,
    )


def _prefix_order(prefix: str) -> tuple[int, str]:
    return ({APPLICATION: 2, UNMANAGED: 3}.get(prefix, 1 if prefix == ROOT else 0), prefix)


def template_for(prefix: str, templates: Mapping[str, object]) -> str | None:
    """The creation template ECR applies to a rule's repositories: its own prefix, else ROOT."""
    if prefix in templates:
        return prefix
    return ROOT if ROOT in templates else None


def lifecycle_what_if(
    groups_by_repo: Mapping[str, Sequence[Group]],
    *,
    prefixes: Mapping[str, str],
    applications: Sequence[str],
    templates: Mapping[str, str | None],
    prices: pricing.Prices,
    now: datetime,
) -> tuple[LifecycleWhatIf, ...]:
    """What each template's lifecycle policy would do if applied to the repositories it governs
    (policies act per repository). Group heads are evaluated; an index's children go with it,
    as ECR keeps images an index refers to."""
    governed: dict[str, list[str]] = {}
    for name in groups_by_repo:
        where = classify(name, prefixes, applications)
        if where in (APPLICATION, UNMANAGED):
            continue
        tpl = template_for(where, templates)
        if tpl is not None:
            governed.setdefault(tpl, []).append(name)
    out = []
    for tpl, policy in sorted(templates.items()):
        if not policy:
            continue
        names = sorted(governed.get(tpl, ()))
        expired: list[Group] = []
        moved: list[Group] = []
        try:
            for name in names:
                groups = {g.head.digest: g for g in groups_by_repo[name]}
                result = lifecycle.evaluate(
                    policy, [_lc_image(g) for g in groups.values()], now=now
                )
                expired += [groups[d] for d in result.expired]
                moved += [groups[d] for d in result.transitioned]
        except ValueError as exc:
            out.append(LifecycleWhatIf(tpl, len(names), Savings(), 0, problem=str(exc)))
            continue
        moved_bytes = sum(g.counted_bytes for g in moved)
        out.append(LifecycleWhatIf(tpl, len(names), _savings(expired, prices), moved_bytes))
    return tuple(out)


def _lc_image(group: Group) -> lifecycle.Image:
    return lifecycle.Image(
        digest=group.head.digest,
        tags=group.head.tags,
        pushed_at=group.head.pushed_at,
        last_pulled_at=group.last_pulled_at,
        size_bytes=group.counted_bytes,
        storage_class="archive" if group.archived else "standard",
    )


def normalised_policy(text: str | None) -> str | None:
    """A lifecycle policy in canonical form for comparison; None stays None, bad JSON as is."""
    if not text:
        return None
    try:
        return lifecycle.normalise(text)
    except ValueError:
        return json.dumps(text)
