"""`ecrcache test-pull` against skopeo, whole process for whole process, on one local registry.

    python3 benchmarks/bench_pull_vs_skopeo.py [--quick] [--layers 4] [--layer-mb 48] [--runs 5]
                                              [--before DIR]

Starts the distribution registry on loopback (basic auth, as ECR's registry API is reached with
``docker login``), pushes two multi-arch images (linux/amd64 and linux/arm64): a small one (one
1 KiB layer) and a large one (``--layers`` x ``--layer-mb``, stored uncompressed so the figure
is transfer, not gzip). For each image, alternately, each a fresh process:

- ``ecrcache test-pull --registry-url URL HOST/bench/IMAGE:v1``: its real work, a cold and a warm
  pull of the linux/amd64 image (index, manifest, every blob hashed and verified; blobs are not
  kept), credentials from ``ECRCACHE_REGISTRY_USERNAME``/``_PASSWORD``; text output, and
  again with ``-o json`` (what a CI job would run);
- the baseline, the same work done by skopeo: ``skopeo copy docker://... dir:DEST`` twice (one
  process each; skopeo verifies every digest too, and writes the blobs to DEST);
- for reference, one ``skopeo inspect`` (a manifest only): what a skopeo process costs at all.

Printed per image: best and median wall time, the least CPU time (user + system) of a run, the
ratio skopeo/ecrcache (>1: ecrcache faster), and the two pulls' time inside ecrcache's process
(from its ``-o json``), which tells start-up from transfer. Run 0 of each is a warm-up (page
cache, bytecode) and not counted. Python runs as from an installed package: bytecode is cached
(in a temporary PYTHONPYCACHEPREFIX), whatever PYTHONDONTWRITEBYTECODE says. ``--before DIR``
also times another checkout's ecrcache (e.g. ``/work/main/src``) in the same run.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
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


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall time, and the CPU time (user + system) of the processes ``fn`` ran: CPU time is what
    a loaded machine disturbs least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 x 8 MiB layers, 2 runs")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--layer-mb", type=int, default=48)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--before", type=Path, help="also time the ecrcache sources in DIR (e.g. /work/main/src)"
    )
    args = parser.parse_args()
    if args.quick:
        args.layers, args.layer_mb, args.runs = 2, 8, 2
    skopeo = shutil.which("skopeo")
    if registry_binary() is None or skopeo is None:
        print("needs docker-registry and skopeo (apt-get install docker-registry skopeo)")
        return 2

    big = f"{args.layers} x {args.layer_mb} MiB"
    images = {"1 KiB": [1024], big: [args.layer_mb << 20] * args.layers}
    sources = {"": ROOT / "src", **({" (before)": args.before} if args.before else {})}
    results: list[tuple[str, dict[str, list[float]], dict[str, list[float]], float]] = []
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
            base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            base_env |= {
                "ECRCACHE_REGISTRY_USERNAME": creds.username,
                "ECRCACHE_REGISTRY_PASSWORD": creds.password,
                "NO_COLOR": "1",
            }
            envs = {
                suffix: base_env
                | {
                    "PYTHONPATH": str(src.resolve()),
                    "PYTHONPYCACHEPREFIX": str(work / f"pycache{n}"),
                }
                for n, (suffix, src) in enumerate(sources.items())
            }
            for n, (label, sizes) in enumerate(images.items()):
                repo = REPO.format(f"image{n}")
                image = make_multiarch(["linux/amd64", "linux/arm64"], sizes, compresslevel=0)
                push_multiarch(client, repo, TAG, image)
                ref = f"{host}/{repo}:{TAG}"
                test_pull = ["test-pull", "--registry-url", server.url, ref]
                copy_argv = [
                    skopeo, "copy", "--quiet", "--src-tls-verify=false",
                    f"--src-authfile={authfile}", "--override-os=linux", "--override-arch=amd64",
                    f"docker://{ref}",
                ]  # fmt: skip
                inspect_argv = [
                    skopeo, "inspect", "--tls-verify=false", f"--authfile={authfile}",
                    "--override-os=linux", "--override-arch=amd64", f"docker://{ref}",
                ]  # fmt: skip

                def ecrcache(*argv: str, env: dict[str, str]) -> Callable[[], object]:
                    cmd = [sys.executable, "-m", "ecrcache", *argv]
                    return lambda: subprocess.run(
                        cmd, env=env, check=True, capture_output=True, timeout=600
                    )

                def copy_twice(argv: list[str] = copy_argv) -> None:
                    for attempt in ("cold", "warm"):
                        dest = work / f"skopeo-{attempt}"
                        subprocess.run([*argv, f"dir:{dest}"], check=True, timeout=600)
                        shutil.rmtree(dest)

                def inspect(argv: list[str] = inspect_argv) -> None:
                    subprocess.run(argv, check=True, capture_output=True, timeout=600)

                runners: dict[str, Callable[[], object]] = {}
                for suffix, env in envs.items():
                    runners[f"ecrcache test-pull{suffix}"] = ecrcache(*test_pull, env=env)
                    runners[f"  ... -o json{suffix}"] = ecrcache("-o", "json", *test_pull, env=env)
                runners["skopeo copy x2"] = copy_twice
                runners["skopeo inspect"] = inspect
                times: dict[str, list[float]] = {name: [] for name in runners}
                cpu: dict[str, list[float]] = {name: [] for name in runners}
                for run in range(args.runs + 1):  # run 0 warms the page cache and bytecode
                    for name, runner in runners.items():
                        elapsed, used = timed(runner)
                        if run:
                            times[name].append(elapsed)
                            cpu[name].append(used)
                doc = subprocess.run(
                    [sys.executable, "-m", "ecrcache", "-o", "json", *test_pull],
                    env=envs[""], check=True, capture_output=True, text=True, timeout=600,
                ).stdout  # fmt: skip
                inside = sum(a["seconds"] for a in json.loads(doc)["data"]["attempts"])
                results.append((label, times, cpu, inside))

    print(f"distribution registry on loopback; whole processes, best and median of {args.runs}")
    for label, times, cpu, inside in results:
        print(f"image linux/amd64, {label}:")
        for name, ts in times.items():
            best, median = min(ts) * 1000, statistics.median(ts) * 1000
            used = min(cpu[name]) * 1000
            print(f"  {name:30} best {best:7.0f} ms  median {median:7.0f} ms  CPU {used:6.0f} ms")
        for name in [n for n in times if n.startswith("ecrcache")]:
            ratio = min(times["skopeo copy x2"]) / min(times[name])
            median = statistics.median(times["skopeo copy x2"]) / statistics.median(times[name])
            print(f"  ratio skopeo copy x2 / {name}: best {ratio:.2f}x, median {median:.2f}x")
        print(f"  (>1: ecrcache faster; its two pulls took {inside * 1000:.0f} ms of its process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
