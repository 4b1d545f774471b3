"""`ecrcache test-pull` against skopeo, whole process for whole process, on one local registry.

    python3 benchmarks/bench_pull_vs_skopeo.py [--quick] [--layers 4] [--layer-mb 48] [--runs 5]
                                              [--src DIR]

Starts the distribution registry on loopback (basic auth, as ECR's registry API is reached with
``docker login``), pushes two multi-arch images (linux/amd64 and linux/arm64): a small one (one
1 KiB layer) and a large one (``--layers`` x ``--layer-mb``, stored uncompressed so the figure
is transfer, not gzip). For each image, alternately, each a fresh process:

- ``ecrcache test-pull --registry-url URL HOST/bench/IMAGE:v1``: its real work, a cold and a warm
  pull of the linux/amd64 image (index, manifest, every blob hashed and verified; blobs are not
  kept), credentials from ``ECRCACHE_REGISTRY_USERNAME``/``_PASSWORD``, text output;
- the baseline, the same work done by skopeo: ``skopeo copy docker://... dir:DEST`` twice (one
  process each; skopeo verifies every digest too, and writes the blobs to DEST);
- for reference, one ``skopeo inspect`` (a manifest only): what a skopeo process costs at all.

Printed per image: best and median wall time, and the ratio skopeo/ecrcache (>1: ecrcache
faster), plus the two pulls' time inside ecrcache's process (from its ``-o json``), which shows
start-up apart from transfer. Run 0 of each is a warm-up (page cache, bytecode) and not counted.
Python runs as from an installed package: bytecode is cached (in a temporary
PYTHONPYCACHEPREFIX), whatever PYTHONDONTWRITEBYTECODE says. ``--src`` times another checkout's
ecrcache (e.g. ``/work/main/src``), for before/after figures.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "registry"))
sys.path.insert(0, str(ROOT / "src"))

from regsupport import make_multiarch, push_multiarch, registry_binary, run_registry  # noqa: E402

REPO, TAG = "bench/{}", "v1"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 x 8 MiB layers, 2 runs")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--layer-mb", type=int, default=48)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="ecrcache sources to time")
    args = parser.parse_args()
    if args.quick:
        args.layers, args.layer_mb, args.runs = 2, 8, 2
    skopeo = shutil.which("skopeo")
    if registry_binary() is None or skopeo is None:
        print("needs docker-registry and skopeo (apt-get install docker-registry skopeo)")
        return 2

    images = {
        "1 KiB": [1024],
        f"{args.layers} x {args.layer_mb} MiB": [args.layer_mb << 20] * args.layers,
    }
    results: list[tuple[str, dict[str, list[float]], float]] = []
    with tempfile.TemporaryDirectory(prefix="ecrbench-") as tmp:
        work = Path(tmp)
        with run_registry(work / "registry") as server:
            client = server.client()
            host = server.url.removeprefix("http://")
            creds = server.credentials
            assert creds is not None
            authfile = work / "auth.json"
            pair = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
            authfile.write_text(json.dumps({"auths": {host: {"auth": pair}}}))
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env |= {
                "PYTHONPATH": str(args.src.resolve()),
                "PYTHONPYCACHEPREFIX": str(work / "pycache"),
                "ECRCACHE_REGISTRY_USERNAME": creds.username,
                "ECRCACHE_REGISTRY_PASSWORD": creds.password,
                "NO_COLOR": "1",
            }
            for n, (label, sizes) in enumerate(images.items()):
                repo = REPO.format(f"image{n}")
                image = make_multiarch(["linux/amd64", "linux/arm64"], sizes, compresslevel=0)
                push_multiarch(client, repo, TAG, image)
                ref = f"{host}/{repo}:{TAG}"
                ours_argv = [sys.executable, "-m", "ecrcache", "test-pull", "--registry-url", server.url, ref]  # fmt: skip
                copy_argv = [
                    skopeo, "copy", "--quiet", "--src-tls-verify=false",
                    f"--src-authfile={authfile}", "--override-os=linux", "--override-arch=amd64",
                    f"docker://{ref}",
                ]  # fmt: skip
                inspect_argv = [
                    skopeo, "inspect", "--tls-verify=false", f"--authfile={authfile}",
                    "--override-os=linux", "--override-arch=amd64", f"docker://{ref}",
                ]  # fmt: skip

                def ours(argv: list[str] = ours_argv) -> None:
                    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=600)

                def copy_twice(argv: list[str] = copy_argv) -> None:
                    for attempt in ("cold", "warm"):
                        dest = work / f"skopeo-{attempt}"
                        subprocess.run([*argv, f"dir:{dest}"], check=True, timeout=600)
                        shutil.rmtree(dest)

                def inspect(argv: list[str] = inspect_argv) -> None:
                    subprocess.run(argv, check=True, capture_output=True, timeout=600)

                runners = {
                    "ecrcache test-pull": ours,
                    "skopeo copy x2": copy_twice,
                    "skopeo inspect": inspect,
                }
                times: dict[str, list[float]] = {name: [] for name in runners}
                for run in range(args.runs + 1):  # run 0 warms the page cache and bytecode
                    for name, runner in runners.items():
                        elapsed = timed(runner)
                        if run:
                            times[name].append(elapsed)
                doc = subprocess.run(
                    [*ours_argv[:3], "-o", "json", *ours_argv[3:]],
                    env=env, check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
                inside = sum(a["seconds"] for a in json.loads(doc)["data"]["attempts"])
                results.append((label, times, inside))

    print(f"distribution registry on loopback; {args.runs} runs each, whole processes")
    for label, times, inside in results:
        print(f"image linux/amd64, {label}:")
        for name, ts in times.items():
            print(
                f"  {name:20} best {min(ts) * 1000:8.0f} ms  median {statistics.median(ts) * 1000:8.0f} ms"
            )
        ours_best, base_best = min(times["ecrcache test-pull"]), min(times["skopeo copy x2"])
        ratio = base_best / ours_best
        median = statistics.median(times["skopeo copy x2"]) / statistics.median(
            times["ecrcache test-pull"]
        )
        print(
            f"  ratio skopeo/ecrcache (same work: two verified pulls): best {ratio:.2f}x, "
            f"median {median:.2f}x (>1: ecrcache faster); ecrcache's two pulls took "
            f"{inside * 1000:.0f} ms of its process"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
