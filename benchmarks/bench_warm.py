"""Warming a cold cache: ``warm_images`` against a shell loop of ``skopeo copy --all``.

Each round starts a fresh upstream and pull-through proxy (the distribution registry, basic auth,
standing in for ECR), pushes the same N multi-arch images to the upstream, and fills the proxy
from cold: once with ecrcache's warm (every platform, ``--concurrency``), once with what a user
would otherwise script, one ``skopeo copy --all docker://proxy/... dir:`` per image in turn.
Both pull every platform's blobs through the proxy. Prints the figures and the ratio of medians.

    python benchmarks/bench_warm.py [--images 8] [--layer-kb 4096] [--runs 3] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "registry"))

from regsupport import make_multiarch, push_multiarch, registry_binary, registry_pair  # noqa: E402

from ecrcache.registry import RegistryClient  # noqa: E402
from ecrcache.registry.warm import NoInspector, jobs_from_references, warm_images  # noqa: E402
from ecrcache.rewrite.mapping import Mapping, Route  # noqa: E402

PLATFORMS = ["linux/amd64", "linux/arm64"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--layer-kb", type=int, default=4096)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    skopeo = shutil.which("skopeo")
    if registry_binary() is None or skopeo is None:
        print("needs docker-registry and skopeo (apt-get install docker-registry skopeo)")
        return 2
    images = [
        make_multiarch(PLATFORMS, [args.layer_kb << 10] * args.layers, compresslevel=0)
        for _ in range(args.images)
    ]
    names = [f"docker-hub/library/app{i}" for i in range(args.images)]
    size = sum(len(b) for image in images for img in image.images for b in img.blobs.values())

    def ours(proxy_url: str, creds: object, work: Path) -> None:
        host = proxy_url.removeprefix("http://")
        mapping = Mapping((Route("docker-hub", "docker-hub", ("docker.io",)),), host)
        refs = [f"app{i}:1" for i in range(args.images)]
        jobs, _ = jobs_from_references(refs, mapping, registry_url=proxy_url)
        report = warm_images(
            jobs,
            client_factory=lambda url: RegistryClient(
                url,
                credentials=creds,
                max_connections=args.concurrency * 4,  # type: ignore[arg-type]
            ),
            inspector=NoInspector(),
            concurrency=args.concurrency,
        )
        assert not report.failed and sum(i.bytes for i in report.images) == size, report

    def theirs(proxy_url: str, creds: object, work: Path) -> None:
        host = proxy_url.removeprefix("http://")
        authfile = work / "auth.json"
        user, password = creds.username, creds.password  # type: ignore[attr-defined]
        pair = base64.b64encode(f"{user}:{password}".encode()).decode()
        authfile.write_text(json.dumps({"auths": {host: {"auth": pair}}}))
        for i, name in enumerate(names):
            subprocess.run(
                [skopeo, "copy", "--quiet", "--all", "--src-tls-verify=false",
                 f"--src-authfile={authfile}", f"docker://{host}/{name}:1",
                 f"dir:{work / f'img{i}'}"],
                check=True,
            )  # fmt: skip

    timings: dict[str, list[float]] = {"ecrcache warm": [], "skopeo loop": []}
    runners = {"ecrcache warm": ours, "skopeo loop": theirs}
    for _ in range(args.runs):
        for label, runner in runners.items():
            with tempfile.TemporaryDirectory(prefix="ecrbench-") as tmp:
                work = Path(tmp)
                with registry_pair(work / "registries") as (upstream, proxy):
                    client = upstream.client()
                    for name, image in zip(names, images, strict=True):
                        push_multiarch(client, name, "1", image)
                    start = time.perf_counter()
                    runner(proxy.url, proxy.credentials, work)
                    timings[label].append(time.perf_counter() - start)

    mb = size / 1e6
    print(
        f"{args.images} images x {len(PLATFORMS)} platforms x {args.layers} layers of "
        f"{args.layer_kb} KiB: {mb:.1f} MB through a cold proxy; {args.runs} runs each"
    )
    for label, times in timings.items():
        print(f"{label:14} median {statistics.median(times):6.2f} s  best {min(times):6.2f} s")
    ratio = statistics.median(timings["skopeo loop"]) / statistics.median(timings["ecrcache warm"])
    print(f"ratio (skopeo loop time / ecrcache warm time, medians): {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
