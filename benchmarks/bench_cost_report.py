"""`ecrcache cost-report` against the plain script a user would write, whole process for whole
process, in the same run.

    python3 benchmarks/bench_cost_report.py [--quick] [--repositories 500] [--images 6]
                                            [--delay 0.2] [--runs 3] [--before DIR]

moto runs in server mode (ThreadedMotoServer, ecrcache's extension installed) in a process of its
own, seeded in-process through simulate_pull: a third of the repositories hold multi-platform
images (an image index and its two platform images, so cost-report's BatchGetImage path runs),
one in fifty holds 150 tags or more (over DescribeImages' default page of 100), some
tags were re-pulled (untagged images), some images are archived, pull times spread over 200
days (stale ones). ``latency_proxy`` adds ``--delay`` seconds to every call: the round trip to a
distant region. moto costs up to 10 ms of CPU a call in one Python process: at 100 ms and ten
calls in flight it is saturated (both contenders then measure moto, and the ratio tends to 1),
hence 200 ms.

The contenders, run alternately, each a fresh process through the same proxy:
- ``ecrcache --endpoint-url PROXY --region us-east-1 -o json cost-report`` (no config file);
- ``benchmarks/plain_cost_report.py``: boto3, paginators at their default page sizes, ten threads
  sharing one client (the baseline; its docstring says what it does).
Both must print the same figures (per prefix images, standard and archived bytes; stale and
untagged bytes; lifecycle expiry per template). Printed: wall time (best and median), API calls
(counted by the proxy) and the ratio plain/ecrcache. Exit 1 if the figures differ.
``--before DIR`` also times another checkout's ecrcache (e.g. ``/work/main/src``) in the same
run, against the same moto (this checkout's sandbox).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from latency_proxy import LatencyProxy, free_port  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"
PREFIXES = (
    ("docker-hub", "ecr-public", "public.ecr.aws"),
    ("quay", "quay", "quay.io"),
    ("k8s", "k8s", "registry.k8s.io"),
)
LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 4,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)
STALE_DAYS = 90
OURS, BASELINE = "ecrcache cost-report", "plain boto3 script, 10 threads"
PLATFORMS = ("linux/amd64", "linux/arm64")


def serve_moto(port: int, repositories: int, images: int, ready: Any) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    from ecrcache.sandbox.ecr_extension import install
    from ecrcache.sandbox.pulls import simulate_pull

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    ecr = boto3.client(
        "ecr",
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    for prefix, upstream, url in PREFIXES:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix=prefix, upstreamRegistryUrl=url, upstreamRegistry=upstream
        )
    ecr.create_repository_creation_template(
        prefix="ROOT", appliedFor=["PULL_THROUGH_CACHE"], lifecyclePolicy=LIFECYCLE
    )
    # half a day short of whole days, so no image sits on the stale boundary while the
    # contenders run
    now = datetime.now(UTC) - timedelta(hours=12)
    to_archive: list[tuple[str, str]] = []
    for i in range(repositories):
        prefix = PREFIXES[i % len(PREFIXES)][0]
        name = f"{prefix}/team{i % 7}/app{i}"
        tags = max(150, images * 25) if i % 50 == 7 else images  # busy ones: over a page
        for j in range(tags):
            pull = simulate_pull(
                account_id=ACCOUNT,
                region=REGION,
                repository=name,
                tag=f"v{j}",
                layer_sizes=(1_000_000 * (1 + (i + j) % 50), 12_345 * (j + 1)),
                pulled_at=now - timedelta(days=(i * 7 + j * 13) % 200),
                platforms=PLATFORMS if i % 3 == 0 else (),
            )
            if i % 5 == 1 and j == 0:  # v0 re-pulled with new content: the old one is untagged
                simulate_pull(
                    account_id=ACCOUNT,
                    region=REGION,
                    repository=name,
                    tag="v0",
                    layer_sizes=(2_000_000 + i, 777),
                    pulled_at=now - timedelta(days=i % 30),
                    platforms=PLATFORMS if i % 3 == 0 else (),
                )
            if i % 11 == 2 and j == tags - 1:
                to_archive.append((name, pull.image_digest))
    for name, digest in to_archive:
        ecr.update_image_storage_class(
            repositoryName=name, imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
        )
    ready.set()
    threading.Event().wait()  # until terminated


def figures_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The figures both contenders print, from cost-report's JSON envelope."""
    data = doc["data"]
    return {
        "per_prefix": {
            ln["name"]: [ln["images"], ln["stored_bytes"], ln["archived_bytes"]]
            for ln in sorted(data["per_upstream"], key=lambda ln: ln["name"])
        },
        "stale_bytes": data["stale"]["bytes"],
        "untagged_bytes": data["untagged"]["bytes"],
        "lifecycle_expire_bytes": {w["template"]: w["expire"]["bytes"] for w in data["lifecycle"]},
    }


def run(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv[1]} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed, json.loads(proc.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200 repositories x 4 images, one run")
    ap.add_argument("--repositories", type=int, default=500)
    ap.add_argument("--images", type=int, default=6)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--before", type=Path, help="also time the ecrcache sources in DIR (e.g. /work/main/src)"
    )
    args = ap.parse_args()
    if args.quick:
        args.repositories, args.images, args.runs = 200, 4, 1

    moto_port = free_port()
    ctx = mp.get_context("spawn")
    moto_ready = ctx.Event()
    t0 = time.perf_counter()
    moto = ctx.Process(
        target=serve_moto, args=(moto_port, args.repositories, args.images, moto_ready), daemon=True
    )
    moto.start()
    try:
        if not moto_ready.wait(1800):
            print("moto did not start", file=sys.stderr)
            return 1
        print(
            f"seeded {args.repositories} repositories x {args.images} tags (a third multi-platform)"
            f" in {time.perf_counter() - t0:.1f} s; {args.delay * 1000:.0f} ms added per call"
        )
        with (
            LatencyProxy(moto_port, delay=args.delay) as proxy,
            tempfile.TemporaryDirectory() as cwd,
        ):
            env = {
                **os.environ,
                "AWS_ACCESS_KEY_ID": "x",
                "AWS_SECRET_ACCESS_KEY": "x",
                "PYTHONPATH": str(ROOT / "src"),
                "NO_COLOR": "1",
            }
            for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "ECRCACHE_CONFIG"):
                env.pop(var, None)
            ecrcache = [
                sys.executable, "-m", "ecrcache", "--endpoint-url", proxy.url,
                "--region", REGION, "-o", "json", "cost-report", "--stale-days", str(STALE_DAYS),
            ]  # fmt: skip
            contenders = {
                OURS: (ecrcache, env),
                BASELINE: (
                    [
                        sys.executable, str(ROOT / "benchmarks" / "plain_cost_report.py"),
                        "--endpoint-url", proxy.url, "--region", REGION,
                        "--stale-days", str(STALE_DAYS),
                    ],
                    env,
                ),
            }  # fmt: skip
            if args.before:
                contenders[f"{OURS} (before)"] = (
                    ecrcache,
                    env | {"PYTHONPATH": str(args.before.resolve())},
                )
            times: dict[str, list[float]] = {name: [] for name in contenders}
            calls: dict[str, int] = {}
            figures: dict[str, Any] = {}
            for _ in range(args.runs):
                for name, (argv, run_env) in contenders.items():
                    before = proxy.requests
                    elapsed, out = run(argv, run_env, cwd)
                    times[name].append(elapsed)
                    calls[name] = proxy.requests - before
                    figures[name] = out if name == BASELINE else figures_of(out)
    finally:
        moto.terminate()

    same = all(f == figures[BASELINE] for f in figures.values())
    for name in contenders:
        best, median = min(times[name]), statistics.median(times[name])
        print(f"{name:32} best {best:6.2f} s  median {median:6.2f} s  {calls[name]:5} API calls")
    for name in [n for n in contenders if n != BASELINE]:
        ratio = min(times[BASELINE]) / min(times[name])
        median_ratio = statistics.median(times[BASELINE]) / statistics.median(times[name])
        print(
            f"ratio plain/{name} wall time: best {ratio:.2f}x, median {median_ratio:.2f}x "
            "(>1: ecrcache faster)"
        )
    print(f"{args.runs} run(s) each; same figures: {same}")
    if not same:
        print(json.dumps(figures, indent=1))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
