"""What ECR does on a pull through a cache rule, done on moto's backends directly.

ECR's import step (``ecr:BatchImportUpstreamImage``) is a permission, not an API, so there is no
request to send: ``simulate_pull`` finds the rule, creates the repository under the matching
creation template, and records the image (a Docker v2 schema 2 manifest whose layers have the
given sizes), so DescribeRepositories, ListImages and DescribeImages show what a real first pull
leaves behind. DescribeImages reports ``lastRecordedPullTime`` (moto records none) and
``imageSizeInBytes`` as the sum of the layer sizes, as ECR does for compressed layers. Each pull
is counted in CloudWatch's ``AWS/ECR`` ``RepositoryPullCount``, as ECR counts it (``pull_metrics``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from moto.ecr.models import ECRBackend, Image, Repository, ecr_backends

from ecrcache.errors import SandboxError
from ecrcache.sandbox import constraints as c
from ecrcache.sandbox.models import PullThroughCacheRule, _secret_failure, rules_of
from ecrcache.sandbox.pull_metrics import publish_pull
from ecrcache.sandbox.template_match import template_for_repository
from ecrcache.sandbox.templates import RepositoryCreationTemplate, templates_of

# A realistic small image (nginx:1.27 on amd64, compressed layer sizes in bytes).
DEFAULT_LAYER_SIZES: tuple[int, ...] = (29_126_484, 41_373_329, 628, 956, 405, 1_209, 1_398)
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST_V2 = "application/vnd.docker.distribution.manifest.list.v2+json"
_CONFIG_MEDIA_TYPE = "application/vnd.docker.container.image.v1+json"
_LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"
_CONFIG_SIZE = 7_023


class PullError(SandboxError):
    """The simulated pull failed as the real one would (no rule, unusable secret)."""

    code = "sandbox-pull"


@dataclass(frozen=True)
class SimulatedPull:
    """What one simulated pull did."""

    repository: str
    created: bool  # the repository did not exist before this pull
    rule_prefix: str
    template_prefix: str | None  # the creation template applied, when the repository was created
    image_digest: str
    image_size_in_bytes: int
    tag: str


class PulledImage(Image):
    """A moto Image that knows its size and last pull time (attributes the serialiser picks)."""

    def __init__(
        self,
        *,
        account_id: str,
        repository: str,
        tag: str | None,
        manifest: str,
        media_type: str,
        digest: str,
        size: int,
        pulled_at: datetime,
    ) -> None:
        super().__init__(account_id, tag, manifest, repository, media_type, digest)  # type: ignore[arg-type]
        self.size = size
        # The cache stores the image when it is first pulled: that is its push time in ECR.
        self.image_pushed_at = int(pulled_at.timestamp())
        self.last_recorded_pull_time = pulled_at

    def get_image_size_in_bytes(self) -> int | None:
        return self.size


def match_rule(
    rules: Sequence[PullThroughCacheRule], repository: str
) -> PullThroughCacheRule | None:
    """The rule whose prefix is the longest leading path of ``repository``; else the ROOT rule."""
    root = next((r for r in rules if r.ecr_repository_prefix == c.ROOT), None)
    matching = [
        r
        for r in rules
        if r.ecr_repository_prefix != c.ROOT
        and repository.startswith(r.ecr_repository_prefix.rstrip("/") + "/")
    ]
    if not matching:
        return root
    return max(matching, key=lambda r: len(r.ecr_repository_prefix.rstrip("/")))


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _manifest(seed: str, layer_sizes: Sequence[int]) -> str:
    layers = [
        {
            "mediaType": _LAYER_MEDIA_TYPE,
            "size": size,
            "digest": _digest(f"{seed}/layer/{i}/{size}".encode()),
        }
        for i, size in enumerate(layer_sizes)
    ]
    doc = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_V2,
        "config": {
            "mediaType": _CONFIG_MEDIA_TYPE,
            "size": _CONFIG_SIZE,
            "digest": _digest(f"{seed}/config".encode()),
        },
        "layers": layers,
    }
    return json.dumps(doc, indent=3)


def _create_repository(
    backend: ECRBackend, name: str, template: RepositoryCreationTemplate | None
) -> Repository:
    if template is None:
        return backend.create_repository(name, None, {}, None, "MUTABLE", [])
    repo = backend.create_repository(
        repository_name=name,
        registry_id=None,
        # a template's empty kmsKey (its model allows "") means no key: ECR's AWS-managed one
        encryption_config={k: v for k, v in template.encryption_configuration.items() if v},
        image_scan_config=None,
        image_tag_mutability=template.image_tag_mutability,
        tags=[dict(t) for t in template.resource_tags],
        image_tag_mutability_exclusion_filters=template.image_tag_mutability_exclusion_filters,  # type: ignore[arg-type]
    )
    # Set directly: the template's policy was checked when the template was written (and a
    # template's policy may be shorter than PutLifecyclePolicy's 100-character minimum).
    repo.lifecycle_policy = template.lifecycle_policy or None
    repo.policy = template.repository_policy or None
    return repo


def _record(
    backend: ECRBackend,
    repo: Repository,
    *,
    tag: str | None,
    manifest: str,
    media_type: str,
    size: int,
    pulled_at: datetime,
) -> PulledImage:
    digest = _digest(manifest.encode())
    for image in repo.images:
        if image.get_image_digest() == digest:
            if tag is not None:
                _untag_others(repo, tag, keep=image)
                image.update_tag(tag)
            image.last_recorded_pull_time = pulled_at  # type: ignore[attr-defined]
            return image  # type: ignore[return-value]
    image = PulledImage(
        account_id=backend.account_id,
        repository=repo.name,
        tag=tag,
        manifest=manifest,
        media_type=media_type,
        digest=digest,
        size=size,
        pulled_at=pulled_at,
    )
    if tag is not None:
        _untag_others(repo, tag, keep=image)
    repo.images.append(image)
    for layer in json.loads(manifest).get("layers", ()):
        repo.layers[layer["digest"]] = layer["size"]
    return image


def _untag_others(repo: Repository, tag: str, *, keep: Image) -> None:
    # The upstream tag moved to new content: ECR re-points it (the old image becomes untagged).
    for other in repo.images:
        if other is not keep and tag in other.image_tags:
            other.remove_tag(tag)
            if not other.image_tags:
                other.image_tag = None  # type: ignore[assignment]


def simulate_pull(
    *,
    account_id: str,
    region: str,
    repository: str,
    tag: str = "latest",
    layer_sizes: tuple[int, ...] = DEFAULT_LAYER_SIZES,
    pulled_at: datetime | None = None,
    platforms: tuple[str, ...] = (),
) -> SimulatedPull:
    """Pull ``repository:tag`` through the account's cache rules, as ECR does on a pull.

    Creates the repository on first pull with the settings of the matching creation template
    (lifecycle policy, tag mutability and exclusions, encryption, resource tags, repository
    policy), then records the image. With ``platforms`` (e.g. ``("linux/amd64",
    "linux/arm64")``) it records one manifest per platform (untagged) and a tagged manifest
    list, whose size is the largest of its manifests (ECR's rule for manifest lists).
    Deterministic: the same arguments give the same digest. Needs moto's mock (or server) active.
    Raises PullError when no rule matches or the rule's secret is unusable.
    """
    backend: ECRBackend = ecr_backends[account_id][region]
    rule = match_rule(list(rules_of(backend).values()), repository)
    if rule is None:
        raise PullError(
            f"no pull-through cache rule in {account_id}/{region} matches '{repository}'",
            hint="create a rule whose prefix is the first path component of the repository",
        )
    if rule.credential_arn:
        failure = _secret_failure(backend, rule.credential_arn)
        if failure:
            raise PullError(
                f"pull of '{repository}:{tag}' failed: the upstream credential is unusable "
                f"({failure})",
                hint="fix the secret, then check it with ValidatePullThroughCacheRule",
            )
    when = pulled_at or datetime.now(UTC)
    repo = backend.repositories.get(repository)
    created = repo is None
    template = template_for_repository(templates_of(backend), repository) if created else None
    if repo is None:
        repo = _create_repository(backend, repository, template)
    seed = f"{repository}:{tag}"
    if not platforms:
        manifest = _manifest(seed, layer_sizes)
        size = sum(layer_sizes)
        image = _record(
            backend,
            repo,
            tag=tag,
            manifest=manifest,
            media_type=MANIFEST_V2,
            size=size,
            pulled_at=when,
        )
    else:
        entries = []
        for platform in platforms:
            child = _manifest(f"{seed}/{platform}", layer_sizes)
            _record(
                backend,
                repo,
                tag=None,
                manifest=child,
                media_type=MANIFEST_V2,
                size=sum(layer_sizes),
                pulled_at=when,
            )
            os_name, _, arch = platform.partition("/")
            entries.append(
                {
                    "mediaType": MANIFEST_V2,
                    "size": len(child.encode()),
                    "digest": _digest(child.encode()),
                    "platform": {"architecture": arch, "os": os_name},
                }
            )
        index = json.dumps(
            {"schemaVersion": 2, "mediaType": MANIFEST_LIST_V2, "manifests": entries}, indent=3
        )
        size = sum(layer_sizes)  # every platform has the same layer sizes here: max == each
        image = _record(
            backend,
            repo,
            tag=tag,
            manifest=index,
            media_type=MANIFEST_LIST_V2,
            size=size,
            pulled_at=when,
        )
    # ECR counts the pull in CloudWatch (AWS/ECR RepositoryPullCount): pull_metrics
    publish_pull(account_id=account_id, region=region, repository=repository, at=when)
    return SimulatedPull(
        repository=repository,
        created=created,
        rule_prefix=rule.ecr_repository_prefix,
        template_prefix=template.prefix if template is not None else None,
        image_digest=image.get_image_digest(),
        image_size_in_bytes=size,
        tag=tag,
    )
