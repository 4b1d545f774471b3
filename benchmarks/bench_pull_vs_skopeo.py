"""Pull throughput of ecrcache's registry client against skopeo's, on the same local registry.

Starts the distribution registry on loopback (basic auth), pushes one multi-arch image, then
alternates ``pull_image`` and ``skopeo copy docker://... dir:...`` on the linux/amd64 image,
each into a fresh directory, and prints the figures and the ratio of best runs (goal: >= 0.9).

    python benchmarks/bench_pull_vs_skopeo.py [--layers 4] [--layer-mb 48] [--runs 5]
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

from regsupport import make_multiarch, push_multiarch, registry_binary, run_registry  # noqa: E402

from ecrcache.registry import Platform, pull_image  # noqa: E402

REPO, TAG = "bench/app", "v1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--layer-mb", type=int, default=48)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    skopeo = shutil.which("skopeo")
    if registry_binary() is None or skopeo is None:
        print("needs docker-registry and skopeo (apt-get install docker-registry skopeo)")
        return 2

    with tempfile.TemporaryDirectory(prefix="ecrbench-") as tmp:
        work = Path(tmp)
        with run_registry(work / "registry") as server:
            client = server.client(max_connections=args.workers)
            image = make_multiarch(
                ["linux/amd64", "linux/arm64"], [args.layer_mb << 20] * args.layers, compresslevel=0
            )
            push_multiarch(client, REPO, TAG, image)
            size = sum(len(b) for b in image.for_platform("linux/amd64").blobs.values())
            host = server.url.removeprefix("http://")
            creds = server.credentials
            assert creds is not None
            authfile = work / "auth.json"
            pair = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
            authfile.write_text(json.dumps({"auths": {host: {"auth": pair}}}))
            skopeo_argv = [
                skopeo, "copy", "--quiet", "--src-tls-verify=false",
                f"--src-authfile={authfile}", "--override-os=linux", "--override-arch=amd64",
                f"docker://{host}/{REPO}:{TAG}",
            ]  # fmt: skip

            def ours(dest: Path) -> None:
                result = pull_image(
                    client, REPO, TAG, platform=Platform("linux", "amd64"), dest=dest,
                    workers=args.workers,
                )  # fmt: skip
                assert result.bytes == size

            def theirs(dest: Path) -> None:
                subprocess.run([*skopeo_argv, f"dir:{dest}"], check=True)

            timings: dict[str, list[float]] = {"ecrcache": [], "skopeo": []}
            runners = {"ecrcache": ours, "skopeo": theirs}
            for run in range(args.runs + 1):  # run 0 warms the page cache and connections
                for name, runner in runners.items():
                    dest = work / f"{name}-{run}"
                    start = time.perf_counter()
                    runner(dest)
                    elapsed = time.perf_counter() - start
                    shutil.rmtree(dest)
                    if run:
                        timings[name].append(elapsed)

    mb = size / 1e6
    print(f"image: linux/amd64, {args.layers} layers, {mb:.1f} MB; {args.runs} runs each")
    for name, times in timings.items():
        best, median = min(times), statistics.median(times)
        print(f"{name:9} best {mb / best:7.1f} MB/s  median {mb / median:7.1f} MB/s")
    ratio = min(timings["skopeo"]) / min(timings["ecrcache"])
    median_ratio = statistics.median(timings["skopeo"]) / statistics.median(timings["ecrcache"])
    print(f"ratio ecrcache/skopeo throughput: best {ratio:.2f}x, median {median_ratio:.2f}x")
    print("goal >= 0.90x:", "met" if ratio >= 0.9 else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
