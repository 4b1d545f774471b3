"""Evaluating a lifecycle policy against images, locally: :class:`Image` in, :func:`evaluate`
out (:class:`Evaluation`, one :class:`RuleOutcome` per rule), following ECR's documented
algorithm.

Source: the evaluation rules ("How lifecycle policies work"),
https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html (a stored copy read
through the search tool).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ecrcache.policy.lifecycle.check import document_problems
from ecrcache.policy.lifecycle.compile import parse


@dataclass(frozen=True)
class Image:
    """One image as DescribeImages reports it. ``storage_class`` is 'standard' or 'archive'
    (any case). ``archived_at`` is ``lastArchivedAt``; ``activated_at`` is ``lastActivatedAt``
    (set when an archived image was restored). All datetimes must share one awareness."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    last_pulled_at: datetime | None = None
    size_bytes: int = 0
    storage_class: str = "standard"
    archived_at: datetime | None = None
    activated_at: datetime | None = None


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule does: the images it expires or transitions, oldest push first."""

    priority: int
    action: str
    target_storage_class: str | None
    digests: tuple[str, ...]
    size_bytes: int


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`: one outcome per rule, in priority order."""

    outcomes: tuple[RuleOutcome, ...]

    @property
    def expired(self) -> tuple[str, ...]:
        return tuple(d for o in self.outcomes if o.action == "expire" for d in o.digests)

    @property
    def transitioned(self) -> tuple[str, ...]:
        return tuple(d for o in self.outcomes if o.action == "transition" for d in o.digests)

    @property
    def expired_bytes(self) -> int:
        return sum(o.size_bytes for o in self.outcomes if o.action == "expire")

    @property
    def transitioned_bytes(self) -> int:
        return sum(o.size_bytes for o in self.outcomes if o.action == "transition")

    def action_for(self, digest: str) -> str | None:
        """'expire', 'transition', or None when no rule acts on the image."""
        return next((o.action for o in self.outcomes if digest in o.digests), None)


def evaluate(
    policy: str | Mapping[str, Any], images: Iterable[Image], *, now: datetime
) -> Evaluation:
    """Which images each rule expires or transitions, following ECR's documented algorithm.

    Rules are evaluated together and applied by priority (lowest number first). A rule
    *identifies* the images matching its tag status, tag list and storage class, and *marks* some
    of them by its count type. It may act only on marked images that no higher-priority rule
    identified, so an image is acted on by at most one rule, and an image a higher rule selects
    (even one it keeps) is protected from every later rule. Pure and deterministic; the
    manifest-list guard (an image referenced by an index is kept) is not modelled. Raises
    ``ValueError`` if the policy has problems (length aside).
    """
    doc = parse(policy)
    problems = document_problems(doc)
    if problems:
        raise ValueError("; ".join(problems))
    pool = tuple(images)
    protected: set[str] = set()
    outcomes = []
    for rule in sorted(doc["rules"], key=lambda r: r["rulePriority"]):
        identified = [img for img in pool if _selects(rule["selection"], img)]
        marked = _marked(rule["selection"], identified, now)
        acted = sorted((img for img in marked if img.digest not in protected), key=_push_order)
        protected.update(img.digest for img in identified)
        outcomes.append(
            RuleOutcome(
                priority=rule["rulePriority"],
                action=rule["action"]["type"],
                target_storage_class=rule["action"].get("targetStorageClass"),
                digests=tuple(img.digest for img in acted),
                size_bytes=sum(img.size_bytes for img in acted),
            )
        )
    return Evaluation(outcomes=tuple(outcomes))


def _push_order(img: Image) -> tuple[datetime, str]:
    return (img.pushed_at, img.digest)


def _selects(sel: Mapping[str, Any], img: Image) -> bool:
    if img.storage_class.lower() != sel.get("storageClass", "standard"):
        return False
    status = sel["tagStatus"]
    if status == "any":
        return True
    if status == "untagged":
        return not img.tags
    if not img.tags:
        return False
    if "tagPrefixList" in sel:
        return all(any(t.startswith(p) for t in img.tags) for p in sel["tagPrefixList"])
    # every pattern must match at least one of the image's tags (the doc's "all ... any")
    return all(any(_pattern(p).fullmatch(t) for t in img.tags) for p in sel["tagPatternList"])


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def _marked(sel: Mapping[str, Any], identified: Sequence[Image], now: datetime) -> list[Image]:
    count_type, number = sel["countType"], sel["countNumber"]
    if count_type == "imageCountMoreThan":
        archive = sel.get("storageClass") == "archive"
        newest_first = sorted(identified, key=lambda i: _count_order(i, archive), reverse=True)
        return newest_first[number:]
    cutoff = now - timedelta(days=number)
    reference = {
        "sinceImagePushed": lambda i: i.pushed_at,
        "sinceImagePulled": _last_pull,
        "sinceImageTransitioned": lambda i: i.archived_at,
    }[count_type]
    return [i for i in identified if (t := reference(i)) is not None and t < cutoff]


def _count_order(img: Image, archive: bool) -> tuple[datetime, str]:
    # "ordered by pushed_at_time or transitioned_at_time ... If an image was archived and then
    # restored ..., last_activated_at is used instead of pushed_at_time" (evaluation rules)
    if archive:
        return (img.archived_at or img.pushed_at, img.digest)
    return (img.activated_at or img.pushed_at, img.digest)


def _last_pull(img: Image) -> datetime:
    # the last pull; pushed_at if never pulled; last_activated_at if restored and not pulled since
    if img.activated_at is not None and (
        img.last_pulled_at is None or img.last_pulled_at < img.activated_at
    ):
        return img.activated_at
    return img.last_pulled_at or img.pushed_at
