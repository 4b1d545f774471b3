"""``rewrite`` on the largest YAML files people keep in git, against PyYAML's pure-Python
loader parsing the same text in the same run (what a script would do to find images).

    python3 benchmarks/bench_rewrite.py [--documents 5000] [--argo PATH]

1. A generated 5 MB manifest of 5,000 Deployments: ecrcache's rewrite (parse, find, edit)
   against ``yaml.load_all(text, Loader=yaml.SafeLoader)`` (pure Python) and, for reference,
   ``yaml.compose_all`` with the same loader. Target: at least 10x faster.
2. Peak memory of that rewrite, measured in a fresh subprocess twice: tracemalloc's peak of
   Python allocations, and the growth of the peak resident size (Linux VmHWM, reset first: the
   whole process, libyaml's C buffers included).
   Target: under 4x the file's size.
3. argo-cd's 1.9 MB install.yaml (../shared/corpus-real2, or a generated file of the same
   shape: 58 documents, large CRD schemas, 10 images): rewrite in-process and the whole
   ``ecrcache rewrite --file --check`` command in a subprocess. Target: under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import yaml  # noqa: E402

ARGO = REPO.parent / "shared" / "corpus-real2" / "argo-cd-install.yaml"
CONFIG = REPO / "tests" / "data" / "rewrite" / "ecrcache.toml"
IMAGES = (
    "nginx:1.27",
    "quay.io/prometheus/node-exporter:v1.8.2",
    "ghcr.io/dexidp/dex:v2.45.0",
    "registry.k8s.io/pause:3.10",
    "public.ecr.aws/docker/library/redis:8.2.3-alpine",
    "gcr.io/distroless/static:nonroot",
)

DOC = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{ns}
  labels:
    app.kubernetes.io/name: app-{i}
    app.kubernetes.io/part-of: benchmark
  annotations:
    description: "Generated deployment {i} for the rewrite benchmark"
spec:
  replicas: 2
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      initContainers:
        - name: init
          image: {init}
          command: ["sh", "-c", "echo ready"]
      containers:
        - name: main
          image: {image}
          args: ["--port=8080", "--log-level=info", "--metrics"]
          ports:
            - containerPort: 8080
              name: http
          env:
            - name: MODE
              value: production
            - name: REPLICA_GROUP
              value: "group-{ns}"
          resources:
            limits: {{cpu: 500m, memory: 256Mi}}
            requests: {{cpu: 100m, memory: 128Mi}}
          readinessProbe:
            httpGet: {{path: /healthz, port: http}}
            periodSeconds: 10
"""


def manifest(documents: int) -> str:
    return "".join(
        DOC.format(
            i=i, ns=i % 50, image=IMAGES[i % len(IMAGES)], init=IMAGES[(i + 1) % len(IMAGES)]
        )
        for i in range(documents)
    )


def argo_like() -> str:
    """A stand-in for argo-cd's install.yaml: CRDs with deep openAPI schemas, then workloads."""
    prop = "".join(
        f"                  field{j}:\n                    description: {'x' * 60}\n"
        f"                    type: string\n"
        for j in range(60)
    )
    crd = (
        "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata:\n  name: crd{k}.argoproj.io\nspec:\n  versions:\n  - name: v1alpha1\n"
        "    schema:\n      openAPIV3Schema:\n        properties:\n          spec:\n"
        "            properties:\n              nested:\n                properties:\n" + prop
    )
    text = "".join(crd.format(k=k) for k in range(48)) * 6
    return text + manifest(10)


def best_of(n: int, fn: object) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def ecrcache_rewrite(path: Path, text: str) -> int:
    from ecrcache.config.loading import load_config
    from ecrcache.config.upstreams import registry_host
    from ecrcache.rewrite.files import rewrite_file_text
    from ecrcache.rewrite.mapping import Mapping, routes_from_rules

    mapping = Mapping(
        routes_from_rules(load_config(CONFIG).rule_list),
        registry_host("123456789012", "af-south-1"),
    )
    return len(rewrite_file_text(path, text, mapping).edits)


MEMORY_PROBE = """
import json, sys, tracemalloc
sys.path.insert(0, {src!r})
sys.path.insert(0, {bench!r})
from pathlib import Path
import bench_rewrite as b
path = Path({path!r})
text = path.read_text()
b.ecrcache_rewrite(Path("warm.yaml"), "image: nginx\\n")  # imports, outside the measurement
mode = sys.argv[1]
if mode == "rss":
    # Linux: reset the peak resident size (VmHWM) to the current one, run, read the peak: the
    # growth is what the rewrite needed, whatever the process held or had swapped out before.
    def status(key):
        with open("/proc/self/status") as f:
            return int(next(l.split()[1] for l in f if l.startswith(key + ":"))) * 1024
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS")
    b.ecrcache_rewrite(path, text)
    peak = status("VmHWM") - before
else:
    tracemalloc.start()
    b.ecrcache_rewrite(path, text)
    peak = tracemalloc.get_traced_memory()[1]
print(json.dumps(peak))
"""


def peak_memory(path: Path, mode: str) -> int:
    code = MEMORY_PROBE.format(
        src=str(REPO / "src"), bench=str(REPO / "benchmarks"), path=str(path)
    )
    out = subprocess.run(
        [sys.executable, "-c", code, mode], capture_output=True, text=True, check=True
    )
    return int(json.loads(out.stdout))


def cli_seconds(path: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one ``ecrcache rewrite`` process."""
    argv = [sys.executable, "-m", "ecrcache", "-c", str(CONFIG), "rewrite"]
    argv += ["--account-id", "123456789012", "--file", "--check", str(path)]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    t0, c0 = time.perf_counter(), os.times()
    out = subprocess.run(argv, capture_output=True, env=env, check=False)
    elapsed, c1 = time.perf_counter() - t0, os.times()
    assert out.returncode == 1, out.stderr  # --check: the file would change
    return elapsed, (c1.children_user - c0.children_user) + (
        c1.children_system - c0.children_system
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--argo", type=Path, default=ARGO)
    parser.add_argument("--out", type=Path, default=Path("/tmp/ecrcache-bench-rewrite"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    big = args.out / "manifest.yaml"
    big.write_text(manifest(args.documents))
    text = big.read_text()
    size = len(text.encode())
    print(f"generated manifest: {size / 1e6:.1f} MB, {args.documents} documents")

    edits = ecrcache_rewrite(big, text)
    unmapped = IMAGES.index("gcr.io/distroless/static:nonroot")  # no rule for gcr.io
    expected = sum(
        (i % len(IMAGES) != unmapped) + ((i + 1) % len(IMAGES) != unmapped)
        for i in range(args.documents)
    )
    assert edits == expected, (edits, expected)  # every reference, in every document
    ours = best_of(3, lambda: ecrcache_rewrite(big, text))
    load = best_of(1, lambda: list(yaml.load_all(text, Loader=yaml.SafeLoader)))
    compose = best_of(1, lambda: list(yaml.compose_all(text, Loader=yaml.SafeLoader)))
    print(f"  ecrcache rewrite ({edits} edits):        {ours:7.2f} s")
    print(f"  PyYAML pure-Python load_all (baseline): {load:7.2f} s   {load / ours:5.1f}x")
    print(f"  PyYAML pure-Python compose_all:         {compose:7.2f} s   {compose / ours:5.1f}x")
    for mode in ("tracemalloc", "rss"):
        peak = peak_memory(big, mode)
        print(f"  peak memory ({mode:11}): {peak / 2**20:6.1f} MiB = {peak / size:.2f}x the file")

    if args.argo.is_file():
        argo, source = args.argo, "argo-cd install.yaml"
    else:
        argo, source = args.out / "argo-like.yaml", "generated argo-cd-like file"
        argo.write_text(argo_like())
    argo_text = argo.read_text()
    argo_size = len(argo_text.encode()) / 1e6
    inproc = best_of(3, lambda: ecrcache_rewrite(argo, argo_text))
    cli, cli_cpu = min(cli_seconds(argo) for _ in range(3))
    base = best_of(1, lambda: list(yaml.load_all(argo_text, Loader=yaml.SafeLoader)))
    print(f"{source}: {argo_size:.1f} MB")
    print(f"  ecrcache rewrite, in-process:            {inproc:7.2f} s")
    print(f"  ecrcache rewrite --file --check (CLI):   {cli:7.2f} s   ({cli_cpu:.2f} s CPU)")
    print(f"  PyYAML pure-Python load_all (baseline): {base:7.2f} s   {base / inproc:5.1f}x")


if __name__ == "__main__":
    main()
