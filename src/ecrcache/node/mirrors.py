"""Which upstream registry host each rule mirrors, and to which cache path.

containerd picks a ``hosts.toml`` by the host of the image reference (``docker.io`` for
``nginx``) and, with ``override_path = true``, sends ``<mirror path>/<image path>/manifests/..``
to the mirror (containerd docs/hosts.md, "override_path field"). So a rule is mirrored as
``https://<registry>/v2/<prefix>``: the image path is appended unchanged, which is exactly the
cache layout when the rule has no upstream prefix (amazon-ecr-credential-helper#947 shows a
working file of this shape). Docker Hub's ``library/`` comes for free: containerd has already
normalised ``nginx`` to ``library/nginx``.

What a mirror cannot do, and so what is skipped here with the reason (README "Use the cache
without changing image names"): strip an upstream prefix (an ECR upstream with
``upstream_prefix`` maps ``U/rest`` to ``<prefix>/rest``; a mirror only prepends), serve one
host from two rules (containerd reads one hosts.toml per host: the first rule wins), or get
credentials the cache accepts where kubelet's credential provider hands out others (ECR Public,
an ECR upstream in another region: see ``_credentials_gap``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecrcache.config.upstreams import registry_host

if TYPE_CHECKING:
    from ecrcache.config.rules import RuleConfig
    from ecrcache.config.schema import Config

ROOT = "ROOT"

# The reference host containerd resolves for each upstream (the hosts.toml directory name) and
# the server it falls back to. Docker Hub images are named docker.io/...; its registry API is at
# registry-1.docker.io (containerd docs/hosts.md's docker.io example uses that server).
_NAMESPACE = {"docker-hub": "docker.io"}
_SERVER = {"docker-hub": "https://registry-1.docker.io"}


@dataclass(frozen=True)
class Mirror:
    """One upstream host served through one cache prefix."""

    prefix: str  # the rule's key (ROOT included)
    kind: str
    namespace: str  # certs.d/<namespace>/hosts.toml: the image reference's host
    server: str  # the upstream's own endpoint, used as the fallback
    mirror_url: str  # https://<registry>/v2[/<prefix>]

    @property
    def mirror_path(self) -> str:
        return "/v2" if self.prefix == ROOT else f"/v2/{self.prefix}"


@dataclass(frozen=True)
class Skipped:
    prefix: str
    reason: str


@dataclass(frozen=True)
class MirrorPlan:
    registry: str  # <account>.dkr.ecr.<region>.<suffix>
    region: str
    mirrors: tuple[Mirror, ...]
    skipped: tuple[Skipped, ...]

    def for_namespace(self, namespace: str) -> Mirror | None:
        return next((m for m in self.mirrors if m.namespace == namespace), None)


def namespace_of(rule: RuleConfig) -> str:
    """The image-reference host of the rule's upstream (docker.io, quay.io, <acct>.dkr.ecr...)."""
    return _NAMESPACE.get(rule.upstream, rule.resolved_url).lower()


def _credentials_gap(kind: str, namespace: str, region: str) -> str | None:
    """Why kubelet's ecr-credential-provider cannot give this host's images a token for the
    cache registry, or None. It answers ``public.ecr.aws`` with ECR *Public* credentials and
    an ECR host with a token from that host's region (cloud-provider-aws
    cmd/ecr-credential-provider/main.go); ECR tokens are regional, so neither opens the cache."""
    if kind == "ecr-public":
        return (
            "ecr-credential-provider answers public.ecr.aws with ECR Public credentials, which "
            "the private registry refuses: reference these images through the cache"
        )
    if kind == "ecr":
        m = re.match(r"^[0-9]{12}\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.", namespace)
        if m and m.group(2) != region:
            return (
                f"ecr-credential-provider fetches a {m.group(2)} token for {namespace}, and ECR "
                f"tokens are regional: the cache in {region} refuses it"
            )
    return None


def plan_mirrors(config: Config, *, account_id: str, region: str | None = None) -> MirrorPlan:
    """Every rule as a mirror, or skipped with the reason. Rules in prefix order, ROOT last, so
    a named rule wins a host over a ROOT rule for the same upstream."""
    region = region or config.region
    host = registry_host(account_id, region)
    rules = sorted(config.rule_list, key=lambda r: (r.prefix == ROOT, r.prefix))
    taken: dict[str, str] = {}
    mirrors: list[Mirror] = []
    skipped: list[Skipped] = []
    for rule in rules:
        ns = namespace_of(rule)
        if rule.upstream_prefix:
            skipped.append(
                Skipped(
                    rule.prefix,
                    f"upstream_prefix {rule.upstream_prefix!r}: a mirror only adds a path, it "
                    "cannot replace the upstream's prefix; reference these images through the "
                    "cache (`ecrcache rewrite`)",
                )
            )
            continue
        why = _credentials_gap(rule.upstream, ns, region)
        if why is not None:
            skipped.append(Skipped(rule.prefix, why))
            continue
        if ns in taken:
            skipped.append(
                Skipped(
                    rule.prefix,
                    f"{ns} is already mirrored through {taken[ns]!r}: containerd reads one "
                    "hosts.toml per registry host",
                )
            )
            continue
        taken[ns] = rule.prefix
        path = "" if rule.prefix == ROOT else f"/{rule.prefix}"
        mirrors.append(
            Mirror(
                prefix=rule.prefix,
                kind=rule.upstream,
                namespace=ns,
                server=_SERVER.get(rule.upstream, f"https://{rule.resolved_url}"),
                mirror_url=f"https://{host}/v2{path}",
            )
        )
    return MirrorPlan(host, region, tuple(mirrors), tuple(skipped))
