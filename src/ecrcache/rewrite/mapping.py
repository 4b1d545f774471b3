"""Where an upstream image lives in the pull-through cache, and back again.

Pure. A cached image is pulled as ``<registry>/<ecr prefix>/<upstream path>``; a ROOT rule has
no prefix; an ECR upstream with upstream prefix U serves ``<prefix>/<rest>`` from ``U/<rest>``.
Docker Hub official images keep ``library/`` in the path (ECR requires it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ecrcache.config.upstreams import UPSTREAMS
from ecrcache.errors import EXIT_FAILURE, EcrcacheError, InvalidReferenceError
from ecrcache.rewrite import refs

ROOT = "ROOT"
REPOSITORY_NAME_MAX = 256  # ECR's RepositoryName limit


class UnmappedReferenceError(EcrcacheError):
    """``--strict``: a reference no pull-through cache rule covers."""

    exit_code = EXIT_FAILURE
    code = "unmapped-reference"


class RuleLike(Protocol):
    """What a route needs from a rule (``ecrcache.config.rules.RuleConfig`` has it)."""

    @property
    def prefix(self) -> str: ...
    @property
    def upstream(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def upstream_prefix(self) -> str | None: ...


@dataclass(frozen=True)
class Route:
    """One rule, seen from an image reference. ``hosts`` are lower-case; ``--reverse`` writes
    the first. ``ecr_prefix`` is "" for a ROOT rule."""

    ecr_prefix: str
    kind: str
    hosts: tuple[str, ...]
    upstream_prefix: str | None = None


def routes_from_rules(rules: Iterable[RuleLike]) -> tuple[Route, ...]:
    """One route per rule, in the rules' order."""
    routes = []
    for rule in rules:
        catalogue = UPSTREAMS[rule.upstream]
        hosts = [h.lower() for h in catalogue.hosts]
        url = (rule.url or catalogue.url or "").lower()
        if url and url not in hosts:
            hosts.append(url)
        routes.append(
            Route(
                ecr_prefix="" if rule.prefix == ROOT else rule.prefix,
                kind=rule.upstream,
                hosts=tuple(hosts),
                upstream_prefix=rule.upstream_prefix or None,
            )
        )
    return tuple(routes)


@dataclass(frozen=True)
class Mapping:
    """The routes of one cache, whose private registry host is ``registry``."""

    routes: tuple[Route, ...]
    registry: str

    def is_cache(self, ref: refs.Reference) -> bool:
        return ref.domain.lower() == self.registry.lower()

    def forward(self, ref: refs.Reference) -> refs.Reference | None:
        """The cache reference for upstream ``ref`` (tag and digest kept), or None when no rule
        covers it. A reference already in the cache is returned unchanged."""
        if self.is_cache(ref):
            return ref
        host = ref.domain.lower()
        best: tuple[int, Route, str] | None = None
        for route in self.routes:
            if host not in route.hosts:
                continue
            path = ref.path
            if route.kind == "docker-hub" and "/" not in path:
                # registry-1.docker.io/nginx: the library normalises only docker.io.
                path = refs.OFFICIAL_REPO_PREFIX + path
            rest = _strip(path, route.upstream_prefix)
            score = len(route.upstream_prefix or "")
            if rest is not None and (best is None or score > best[0]):
                best = (score, route, rest)
        if best is None:
            return None
        _, route, rest = best
        repo = f"{route.ecr_prefix}/{rest}" if route.ecr_prefix else rest
        if len(repo) > REPOSITORY_NAME_MAX:
            raise InvalidReferenceError(
                f"{ref}: the cache repository name {repo!r} would be {len(repo)} characters; "
                f"ECR allows {REPOSITORY_NAME_MAX}",
                hint="use a shorter ecrRepositoryPrefix for this upstream",
            )
        return ref.with_name(self.registry, repo)

    def reverse(self, ref: refs.Reference) -> refs.Reference | None:
        """The upstream reference a cache reference is pulled from, or None if ``ref`` is not
        in this cache or no rule's prefix matches its path."""
        if not self.is_cache(ref):
            return None
        best: tuple[int, Route, str] | None = None
        for route in self.routes:
            rest = _strip(ref.path, route.ecr_prefix or None)
            if rest is not None and (best is None or len(route.ecr_prefix) > best[0]):
                best = (len(route.ecr_prefix), route, rest)
        if best is None:
            return None
        _, route, rest = best
        path = f"{route.upstream_prefix}/{rest}" if route.upstream_prefix else rest
        return ref.with_name(route.hosts[0], path)


def _strip(path: str, prefix: str | None) -> str | None:
    """``path`` without ``prefix/``; None if it does not start with it."""
    if not prefix:
        return path
    if path.startswith(prefix + "/"):
        return path[len(prefix) + 1 :]
    return None
