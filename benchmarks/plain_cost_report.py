"""The baseline of bench_cost_report: the script a user would write instead of ecrcache cost-report.

    python3 benchmarks/plain_cost_report.py --endpoint-url URL [--region R] [--stale-days 90]

boto3 and its paginators at their default page sizes, one client shared by ten threads (boto3
clients are thread-safe; ten is botocore's connection pool), one DescribeImages per repository
and, where a repository holds image indexes, one BatchGetImage to learn their platform images,
which DescribeImages does not link. It prints, as JSON, the figures bench_cost_report compares:
images, standard and archived bytes per rule prefix (an index counted once, at its reported
size, its platform images not again), stale and untagged bytes of the cache, and what each
creation template's lifecycle policy would expire. No script can compute that last figure with
boto3 alone, so this one borrows ecrcache's lifecycle evaluator (pure, no AWS calls).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ecrcache.policy import lifecycle

INDEXES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)


def read_repository(ecr: Any, name: str) -> tuple[str, list[dict[str, Any]], dict[str, list[str]]]:
    """The repository's images, and each index's platform images (their digests)."""
    pages = ecr.get_paginator("describe_images").paginate(
        repositoryName=name, filter={"tagStatus": "ANY", "imageStatus": "ANY"}
    )
    images = [d for page in pages for d in page["imageDetails"]]
    indexes = [d["imageDigest"] for d in images if d.get("imageManifestMediaType") in INDEXES]
    children: dict[str, list[str]] = {}
    for i in range(0, len(indexes), 100):
        resp = ecr.batch_get_image(
            repositoryName=name,
            imageIds=[{"imageDigest": d} for d in indexes[i : i + 100]],
            acceptedMediaTypes=list(INDEXES),
        )
        for image in resp["images"]:
            manifests = json.loads(image["imageManifest"])["manifests"]
            children[image["imageId"]["imageDigest"]] = [m["digest"] for m in manifests]
    return name, images, children


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--endpoint-url")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--stale-days", type=int, default=90)
    ap.add_argument("--threads", type=int, default=10)
    args = ap.parse_args()
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=args.stale_days)
    ecr = boto3.client("ecr", region_name=args.region, endpoint_url=args.endpoint_url)

    prefixes = [
        r["ecrRepositoryPrefix"]
        for p in ecr.get_paginator("describe_pull_through_cache_rules").paginate()
        for r in p["pullThroughCacheRules"]
    ]
    templates = {
        t["prefix"]: t.get("lifecyclePolicy")
        for p in ecr.get_paginator("describe_repository_creation_templates").paginate()
        for t in p["repositoryCreationTemplates"]
        if "PULL_THROUGH_CACHE" in t["appliedFor"]
    }
    names = [
        r["repositoryName"]
        for p in ecr.get_paginator("describe_repositories").paginate()
        for r in p["repositories"]
    ]
    with ThreadPoolExecutor(args.threads) as pool:
        repositories = list(pool.map(lambda n: read_repository(ecr, n), names))

    per_prefix: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    stale = untagged = 0
    expire: dict[str, int] = defaultdict(int)
    for name, images, children in repositories:
        prefix = max((p for p in prefixes if name.startswith(p + "/")), key=len, default=None)
        if prefix is None:
            continue  # not a cache repository
        by_digest = {d["imageDigest"]: d for d in images}
        platform_images = {c for cs in children.values() for c in cs}
        lc_images = []
        for d in images:
            if d["imageDigest"] in platform_images:
                continue  # counted with its index
            kids = children.get(d["imageDigest"], [])
            members = [d] + [by_digest[c] for c in kids if c in by_digest]
            pulls = [m["lastRecordedPullTime"] for m in members if "lastRecordedPullTime" in m]
            size = d["imageSizeInBytes"]
            archived = d.get("imageStatus") == "ARCHIVED"
            per_prefix[prefix][0] += 1
            per_prefix[prefix][2 if archived else 1] += size
            stale += size if (max(pulls) if pulls else d["imagePushedAt"]) < cutoff else 0
            untagged += 0 if d.get("imageTags") else size
            lc_images.append(
                lifecycle.Image(
                    digest=d["imageDigest"],
                    tags=tuple(d.get("imageTags", ())),
                    pushed_at=d["imagePushedAt"],
                    last_pulled_at=max(pulls) if pulls else None,
                    size_bytes=size,
                    storage_class="archive" if archived else "standard",
                )
            )
        template = prefix if prefix in templates else "ROOT" if "ROOT" in templates else None
        if template and templates[template]:
            result = lifecycle.evaluate(templates[template], lc_images, now=now)
            expire[template] += result.expired_bytes
    json.dump(
        {
            "per_prefix": {p: v for p, v in sorted(per_prefix.items())},
            "stale_bytes": stale,
            "untagged_bytes": untagged,
            "lifecycle_expire_bytes": dict(sorted(expire.items())),
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
