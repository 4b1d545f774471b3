"""The arithmetic of ``ecrcache status``: per cache prefix, what is stored and whether the
repositories still carry their creation template's lifecycle policy and the scanning the config
asks for. Pure.

A template applies only when ECR creates a repository, so a repository created before the
template changed keeps the old policy: that drift is what the lifecycle column shows. Scanning
is registry-wide (a repository's frequency is decided by the registry scanning rules' wildcard
filters), so the scan column compares the live registry rules with the config's ``[scanning]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from ecrcache.cost.report import (
    APPLICATION,
    UNMANAGED,
    Repository,
    classify,
    groups_of,
    normalised_policy,
    template_for,
)


@dataclass(frozen=True)
class PrefixStatus:
    prefix: str
    upstream: str
    repositories: int
    images: int
    stored_bytes: int
    newest_pull: datetime | None
    oldest_pull: datetime | None  # the oldest last pull among images ever pulled
    never_pulled: int
    template: str | None
    lifecycle_differs: tuple[str, ...]  # repositories whose policy is not the template's
    scan_frequency: str  # the live frequency, or "mixed"
    scan_differs: tuple[str, ...]  # repositories scanned otherwise than the config asks

    @property
    def lifecycle_matches(self) -> bool:
        return not self.lifecycle_differs

    @property
    def scan_matches(self) -> bool:
        return not self.scan_differs


def prefix_status(
    repositories: Sequence[Repository],
    *,
    prefixes: Mapping[str, str],
    applications: Sequence[str] = (),
    templates: Mapping[str, str | None],
    repository_policies: Mapping[str, str | None],
    scanning: Mapping[str, Any] | None,
    wanted_scanning: Mapping[str, Any] | None = None,
) -> tuple[PrefixStatus, ...]:
    """One line per live rule prefix (empty ones too), sorted by prefix. ``scanning`` and
    ``wanted_scanning`` have GetRegistryScanningConfiguration's shape; without
    ``wanted_scanning`` (no ``[scanning]`` in the config) nothing counts as different."""
    members: dict[str, list[Repository]] = {p: [] for p in prefixes}
    for repo in repositories:
        where = classify(repo.name, prefixes, applications)
        if where not in (APPLICATION, UNMANAGED):
            members.setdefault(where, []).append(repo)
    out = []
    for prefix in sorted(members):
        repos = members[prefix]
        tpl = template_for(prefix, templates)
        wanted_policy = normalised_policy(templates.get(tpl)) if tpl else None
        groups = [g for r in repos for g in groups_of(r.images)]
        pulls = [g.last_pulled_at for g in groups if g.last_pulled_at is not None]
        live_freq = {r.name: scan_frequency(r.name, scanning) for r in repos}
        out.append(
            PrefixStatus(
                prefix=prefix,
                upstream=prefixes.get(prefix, ""),
                repositories=len(repos),
                images=len(groups),
                stored_bytes=sum(g.counted_bytes for g in groups),
                newest_pull=max(pulls) if pulls else None,
                oldest_pull=min(pulls) if pulls else None,
                never_pulled=len(groups) - len(pulls),
                template=tpl,
                lifecycle_differs=tuple(
                    r.name
                    for r in repos
                    if tpl is not None
                    and normalised_policy(repository_policies.get(r.name)) != wanted_policy
                ),
                scan_frequency=_one(
                    set(live_freq.values()), default=scan_frequency(prefix + "/x", scanning)
                ),
                scan_differs=tuple(
                    name
                    for name, freq in live_freq.items()
                    if wanted_scanning is not None and freq != scan_frequency(name, wanted_scanning)
                ),
            )
        )
    return tuple(out)


def _one(values: set[str], *, default: str) -> str:
    if not values:
        return default
    return values.pop() if len(values) == 1 else "mixed"


def scan_frequency(repository: str, scanning: Mapping[str, Any] | None) -> str:
    """The scan frequency the registry scanning rules give a repository: CONTINUOUS_SCAN over
    SCAN_ON_PUSH when both rules match, MANUAL when none does."""
    if not scanning:
        return "MANUAL"
    matched = {
        rule.get("scanFrequency", "MANUAL")
        for rule in scanning.get("rules", ())
        if any(
            _wildcard(f.get("filter", "")).fullmatch(repository)
            for f in rule.get("repositoryFilters", ())
        )
    }
    for freq in ("CONTINUOUS_SCAN", "SCAN_ON_PUSH"):
        if freq in matched:
            return freq
    return "MANUAL"


@lru_cache(maxsize=256)
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
