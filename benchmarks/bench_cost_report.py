"""cost-report's inventory against a plain sequential boto3 loop, in the same run.

    python3 benchmarks/bench_cost_report.py [--repositories 2000] [--images 10] [--delay 0.1]

moto runs in server mode (ThreadedMotoServer, ecrcache's extension installed) in a process of its
own, seeded in-process through simulate_pull (fast, no HTTP). A small threaded HTTP proxy, in a
second process, adds ``--delay`` seconds to every call: the round trip to a distant region. moto
itself costs about 10 ms of CPU per call, so a smaller delay would measure moto, not ecrcache.
Both contenders go through the proxy and must compute the same totals: storage, images, stale and
untagged bytes per prefix, and what the templates' lifecycle policies would expire.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import multiprocessing as mp
import socket
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

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
                    "countNumber": 5,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)
STALE_DAYS = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_moto(port: int, repositories: int, images: int, now: datetime, ready: Any) -> None:
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
    for i in range(repositories):
        prefix = PREFIXES[i % len(PREFIXES)][0]
        for j in range(images):
            simulate_pull(
                account_id=ACCOUNT,
                region=REGION,
                repository=f"{prefix}/team{i % 7}/app{i}",
                tag=f"v{j}",
                layer_sizes=(1_000_000 * (1 + (i + j) % 50), 12_345 * (j + 1)),
                pulled_at=now - timedelta(days=(i * 7 + j * 13) % 200, hours=j),
            )
    ready.set()
    threading.Event().wait()  # until terminated


def serve_proxy(port: int, upstream: int, delay: float, ready: Any) -> None:
    local = threading.local()

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(delay)  # the round trip to a distant region
            if not hasattr(local, "conn"):
                local.conn = http.client.HTTPConnection("127.0.0.1", upstream)
            local.conn.request("POST", self.path, body, dict(self.headers.items()))
            resp = local.conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", port), Proxy)
    server.daemon_threads = True
    ready.set()
    server.serve_forever()


def totals_from_report(report: Any) -> dict[str, Any]:
    return {
        "per_prefix": {
            ln.name: (ln.usage.images, ln.usage.stored_bytes) for ln in report.per_prefix
        },
        "stale_bytes": report.stale.bytes,
        "untagged_bytes": report.untagged.bytes,
        "lifecycle_expire_bytes": {w.template: w.expire.bytes for w in report.lifecycle},
    }


def run_ecrcache(session: Any, endpoint: str, now: datetime) -> tuple[dict[str, Any], int, int]:
    from ecrcache.aws import Clients
    from ecrcache.cost.inventory import DEFAULT_CONCURRENCY, read_inventory
    from ecrcache.cost.pricing import prices_for
    from ecrcache.cost.report import cost_report

    clients = Clients(session, REGION, endpoint_url=endpoint)
    inv = read_inventory(clients, concurrency=DEFAULT_CONCURRENCY)
    report = cost_report(
        inv.repositories,
        prefixes={r.prefix: r.upstream for r in inv.rules},
        templates=inv.templates,
        prices=prices_for(REGION),
        now=now,
        stale_after_days=STALE_DAYS,
    )
    return totals_from_report(report), len(clients.calls), inv.concurrency


def run_baseline(session: Any, endpoint: str, now: datetime) -> tuple[dict[str, Any], int]:
    """What someone would write: one client, one loop, the same figures."""
    from ecrcache.policy import lifecycle

    calls = 0

    def count(**_: Any) -> None:
        nonlocal calls
        calls += 1

    ecr = session.client("ecr", region_name=REGION, endpoint_url=endpoint)
    ecr.meta.events.register("before-call.*.*", count)
    prefixes = [
        r["ecrRepositoryPrefix"]
        for p in ecr.get_paginator("describe_pull_through_cache_rules").paginate()
        for r in p["pullThroughCacheRules"]
    ]
    templates = {
        t["prefix"]: t.get("lifecyclePolicy")
        for p in ecr.get_paginator("describe_repository_creation_templates").paginate()
        for t in p["repositoryCreationTemplates"]
    }
    per_prefix: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    stale = untagged = 0
    expire: dict[str, int] = defaultdict(int)
    cutoff = now - timedelta(days=STALE_DAYS)
    for page in ecr.get_paginator("describe_repositories").paginate():
        for repo in page["repositories"]:
            name = repo["repositoryName"]
            prefix = next(p for p in prefixes if name.startswith(p + "/"))
            images = [
                d
                for p in ecr.get_paginator("describe_images").paginate(
                    repositoryName=name, filter={"tagStatus": "ANY", "imageStatus": "ANY"}
                )
                for d in p["imageDetails"]
            ]
            lc_images = []
            for d in images:
                size = d["imageSizeInBytes"]
                per_prefix[prefix][0] += 1
                per_prefix[prefix][1] += size
                used = d.get("lastRecordedPullTime") or d["imagePushedAt"]
                stale += size if used < cutoff else 0
                untagged += 0 if d.get("imageTags") else size
                lc_images.append(
                    lifecycle.Image(
                        digest=d["imageDigest"],
                        tags=tuple(d.get("imageTags", ())),
                        pushed_at=d["imagePushedAt"],
                        last_pulled_at=d.get("lastRecordedPullTime"),
                        size_bytes=size,
                    )
                )
            policy = templates.get(prefix) or templates.get("ROOT")
            if policy:
                tpl = prefix if prefix in templates else "ROOT"
                expire[tpl] += lifecycle.evaluate(policy, lc_images, now=now).expired_bytes
    totals = {
        "per_prefix": {p: tuple(v) for p, v in per_prefix.items()},
        "stale_bytes": stale,
        "untagged_bytes": untagged,
        "lifecycle_expire_bytes": dict(expire),
    }
    return totals, calls


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repositories", type=int, default=2000)
    ap.add_argument("--images", type=int, default=10)
    ap.add_argument("--delay", type=float, default=0.1)
    args = ap.parse_args()

    import boto3

    now = datetime.now(UTC)
    moto_port, proxy_port = free_port(), free_port()
    ctx = mp.get_context("spawn")
    moto_ready, proxy_ready = ctx.Event(), ctx.Event()
    t0 = time.perf_counter()
    moto = ctx.Process(
        target=serve_moto,
        args=(moto_port, args.repositories, args.images, now, moto_ready),
        daemon=True,
    )
    proxy = ctx.Process(
        target=serve_proxy, args=(proxy_port, moto_port, args.delay, proxy_ready), daemon=True
    )
    moto.start()
    proxy.start()
    if not (moto_ready.wait(1800) and proxy_ready.wait(60)):
        print("servers did not start", file=sys.stderr)
        return 1
    print(
        f"seeded {args.repositories} repositories x {args.images} images in "
        f"{time.perf_counter() - t0:.1f} s; proxy delay {args.delay * 1000:.0f} ms per call"
    )
    session = boto3.session.Session(
        aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION
    )
    endpoint = f"http://127.0.0.1:{proxy_port}"
    try:
        t = time.perf_counter()
        ours, our_calls, concurrency = run_ecrcache(session, endpoint, now)
        ours_s = time.perf_counter() - t
        t = time.perf_counter()
        theirs, their_calls = run_baseline(session, endpoint, now)
        theirs_s = time.perf_counter() - t
    finally:
        moto.terminate()
        proxy.terminate()
    same = ours == theirs
    print(f"ecrcache (concurrency {concurrency}): {ours_s:.1f} s, {our_calls} API calls")
    print(f"sequential boto3 loop:             {theirs_s:.1f} s, {their_calls} API calls")
    print(
        f"speed-up: {theirs_s / ours_s:.1f}x; same totals: {same}; "
        f"calls: {our_calls} vs {their_calls}"
    )
    if not same:
        print(json.dumps({"ecrcache": ours, "loop": theirs}, default=str, indent=1))
    return 0 if same and our_calls <= their_calls else 1


if __name__ == "__main__":
    sys.exit(main())
