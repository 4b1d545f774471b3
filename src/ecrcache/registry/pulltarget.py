"""What a test pull goes to: the reference a user typed, resolved to the cache target (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ecrcache.config.upstreams import UPSTREAMS
from ecrcache.errors import UsageError
from ecrcache.rewrite import refs
from ecrcache.rewrite.mapping import Mapping

DIGEST_HINT = (
    "ECR does not populate the cache on a first pull by digest: pull the tag once, then the digest"
)


@dataclass(frozen=True)
class Target:
    """Where a pull goes: ``registry_url`` (with scheme), a repository there, tag and/or digest."""

    registry_url: str
    repository: str
    tag: str | None
    digest: str | None
    # Why ECR could not fill a cache miss for this reference from the upstream (None: it can).
    no_fill_reason: str | None = None

    @property
    def reference(self) -> str:
        """What a client asks the registry for: the digest when there is one (as docker does)."""
        return self.digest or self.tag or "latest"

    @property
    def image(self) -> str:
        """The reference as ``docker pull`` takes it: ``host/repository[:tag][@digest]``."""
        host = urlsplit(self.registry_url).netloc
        suffix = f"@{self.digest}" if self.digest else f":{self.tag or 'latest'}"
        return f"{host}/{self.repository}{suffix}"


def resolve(text: str, mapping: Mapping) -> tuple[Target, tuple[str, ...]]:
    """The cache target for ``text`` (an upstream or a cache reference) and warnings about it.

    Raises InvalidReferenceError (exit 2) for a malformed reference, UsageError (exit 2) when no
    rule covers an upstream reference: there is then no cache reference to pull.
    """
    ref = refs.parse_image(text)
    warnings = list(_digest_warnings(ref))
    no_fill = "a pull by digest" if ref.digest else None
    if mapping.is_cache(ref):
        cache = ref
        upstream = mapping.reverse(ref)
        if upstream is None:
            warnings.append(
                f"no rule in the config has the prefix of {ref.path!r}: ECR will not fetch it "
                "from an upstream unless a rule outside the config does"
            )
        elif upstream.domain in UPSTREAMS["docker-hub"].hosts and "/" not in upstream.path:
            official = ref.path[: -len(upstream.path)] + refs.OFFICIAL_REPO_PREFIX + upstream.path
            warnings.append(
                f"{ref.path!r} is a Docker Hub official image without library/: ECR needs "
                f"{official!r}"
            )
            no_fill = "a Docker Hub official image without library/"
    else:
        mapped = mapping.forward(ref)
        if mapped is None:
            raise UsageError(
                f"no pull-through cache rule in the config covers {ref.domain} ({text})",
                hint="add a rule for that upstream, or pass the cache reference itself",
            )
        cache = mapped
    target = Target(f"https://{cache.domain}", cache.path, cache.tag, cache.digest, no_fill)
    return target, tuple(warnings)


def resolve_on(text: str, registry_url: str) -> tuple[Target, tuple[str, ...]]:
    """The target for ``text`` on a registry given by URL (a non-ECR cache, such as a
    distribution proxy): no rules, the path is the repository on that registry."""
    ref = refs.parse(text)
    url = (registry_url if "://" in registry_url else f"https://{registry_url}").rstrip("/")
    # The first component is a registry only if it looks like a host (as docker reads names).
    first, _, rest = ref.name.partition("/")
    is_host = bool(rest) and ("." in first or ":" in first or first == refs.LOCALHOST)
    if is_host and first != urlsplit(url).netloc:
        raise UsageError(
            f"{text!r} names the registry {first}, but --registry-url is {registry_url}",
            hint="drop the registry from the reference",
        )
    path = rest if is_host else ref.name
    return Target(url, path, ref.tag, ref.digest), _digest_warnings(ref)


def _digest_warnings(ref: refs.Reference) -> tuple[str, ...]:
    if not ref.digest:
        return ()
    if ref.tag:
        return (
            "the reference has a tag and a digest: clients pull by the digest alone, and "
            + DIGEST_HINT[0].lower()
            + DIGEST_HINT[1:],
        )
    return (f"the reference is digest-only: {DIGEST_HINT}",)
