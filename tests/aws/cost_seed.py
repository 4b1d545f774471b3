"""A seeded account for cost-report, status and prune tests (moto with the ecrcache extension).

Sizes are in GiB fractions so the expected figures can be worked out by hand in the tests:

- rules ``ecr-public`` (ecr-public), ``quay`` (quay), ``k8s`` (k8s, no repositories);
- creation templates: ``ecr-public`` expires untagged images pushed more than a day ago; ROOT
  expires images pushed more than 50 days ago;
- ``ecr-public/library/nginx``: ``1.27`` 1.5 GiB pushed 200 days ago, pulled 10 days ago;
  ``1.26`` 1 GiB pulled 120 days ago; ``old`` first 0.5 GiB pulled 5 days ago, then re-pointed
  to a 0.25 GiB image pulled 4 days ago (the 0.5 GiB one is left untagged);
- ``quay/prometheus/prometheus``: an index (amd64, arm64, 1 GiB each) pulled 100 days ago;
- ``quay/coreos/etcd``: an index pushed now, children 0.75 GiB and 0.25 GiB, never pulled;
- application repository ``team/api``: 1 GiB pushed now; unmanaged ``legacy/tool``: 0.25 GiB.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ecrcache.sandbox.pulls import simulate_pull

ACCOUNT = "123456789012"
REGION = "af-south-1"
GIB = 1024**3
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def policy(selection: dict[str, Any]) -> str:
    return json.dumps(
        {"rules": [{"rulePriority": 1, "selection": selection, "action": {"type": "expire"}}]}
    )


UNTAGGED_1 = policy(
    {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 1,
    }
)
PUSHED_50 = policy(
    {"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 50}
)


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def manifest(seed: str, sizes: Sequence[int]) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "size": 7023,
                "digest": digest(seed + "/config"),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "size": s,
                    "digest": digest(f"{seed}/{i}"),
                }
                for i, s in enumerate(sizes)
            ],
        }
    )


def push(ecr: Any, repo: str, text: str, tag: str | None = None) -> str:
    d = digest(text)
    kwargs = {"imageTag": tag} if tag else {}
    ecr.put_image(repositoryName=repo, imageManifest=text, imageDigest=d, **kwargs)
    return d


def push_index(ecr: Any, repo: str, tag: str, child_sizes: Sequence[int]) -> tuple[str, list[str]]:
    children = [manifest(f"{repo}/{i}", [s]) for i, s in enumerate(child_sizes)]
    digests = [push(ecr, repo, c) for c in children]
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "size": len(c), "digest": d}
                for c, d in zip(children, digests, strict=True)
            ],
        }
    )
    return push(ecr, repo, index, tag), digests


def pull(repository: str, tag: str, sizes: tuple[int, ...], at: datetime, **kw: Any) -> str:
    return simulate_pull(
        account_id=ACCOUNT,
        region=REGION,
        repository=repository,
        tag=tag,
        layer_sizes=sizes,
        pulled_at=at,
        **kw,
    ).image_digest


def seed(session: Any) -> datetime:
    """Seed the account; return "now" (the moment the ages above are counted from)."""
    now = datetime.now(UTC)
    ecr = session.client("ecr", region_name=REGION)
    for prefix, upstream, url in (
        ("ecr-public", "ecr-public", "public.ecr.aws"),
        ("quay", "quay", "quay.io"),
        ("k8s", "k8s", "registry.k8s.io"),
    ):
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix=prefix, upstreamRegistryUrl=url, upstreamRegistry=upstream
        )
    ecr.create_repository_creation_template(
        prefix="ecr-public", appliedFor=["PULL_THROUGH_CACHE"], lifecyclePolicy=UNTAGGED_1
    )
    ecr.create_repository_creation_template(
        prefix="ROOT", appliedFor=["PULL_THROUGH_CACHE"], lifecyclePolicy=PUSHED_50
    )
    nginx = "ecr-public/library/nginx"
    day = timedelta(days=1)
    pull(nginx, "1.27", (GIB, GIB // 2), now - 200 * day)
    pull(nginx, "1.27", (GIB, GIB // 2), now - 10 * day)
    pull(nginx, "1.26", (GIB,), now - 120 * day)
    pull(nginx, "old", (GIB // 2,), now - 5 * day)
    pull(nginx, "old", (GIB // 4,), now - 4 * day)
    pull(
        "quay/prometheus/prometheus",
        "v3",
        (GIB,),
        now - 100 * day,
        platforms=("linux/amd64", "linux/arm64"),
    )
    ecr.create_repository(repositoryName="quay/coreos/etcd")
    push_index(ecr, "quay/coreos/etcd", "v3.5", [3 * GIB // 4, GIB // 4])
    ecr.create_repository(repositoryName="team/api")
    push(ecr, "team/api", manifest("api", [GIB]), "v1")
    ecr.create_repository(repositoryName="legacy/tool")
    push(ecr, "legacy/tool", manifest("tool", [GIB // 4]), "v1")
    return now
