"""Start-up of ``ecrcache rewrite nginx:latest`` against ``aws --version``, in the same run.

    python3 benchmarks/bench_startup.py [--runs 15] [--checkout PATH]

``aws --version`` is the least a user waits for from the AWS CLI (it loads botocore's session
but calls nothing), the tool ecrcache sits beside. Both run as fresh processes of this
interpreter, interleaved so load on the machine falls on both alike, with the config giving
account and region (no AWS call). Prints the medians and their ratio (target: 0.35x or less),
in wall-clock time and in the processes' own CPU time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """\
version = 1
region = "af-south-1"
account_id = "123456789012"

[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/docker-hub"
username = "acme-ci"
token = { env = "DOCKERHUB_TOKEN" }

[rules.quay]
upstream = "quay"
"""
EXPECTED = "123456789012.dkr.ecr.af-south-1.amazonaws.com/docker-hub/library/nginx:latest\n"


def aws_script() -> list[str]:
    """The AWS CLI's entry script run by this interpreter (not a pyenv or shell shim)."""
    script = Path(sysconfig.get_path("scripts")) / "aws"
    if not script.is_file():
        found = shutil.which("aws")
        if found is None:
            sys.exit("aws (awscli) is not installed: pip install awscli")
        script = Path(found)
    return [sys.executable, str(script), "--version"]


def timed(argv: list[str], env: dict[str, str], expect: str | None = None) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of the child): CPU time is what the process itself
    costs, and holds steady when other work shares the machine; wall time is what a user waits."""
    cpu = _children_cpu()
    start = time.perf_counter()
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    if expect is not None and out.stdout != expect:
        sys.exit(f"unexpected output from {argv}: {out.stdout!r} {out.stderr!r}")
    return elapsed, _children_cpu() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--checkout", type=Path, default=ROOT, help="the ecrcache checkout to time (its src/)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "ecrcache.toml"
        config.write_text(CONFIG)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECRCACHE_"))}
        env["PYTHONPATH"] = str(args.checkout.resolve() / "src")
        ours = [sys.executable, "-m", "ecrcache", "-c", str(config), "rewrite", "nginx:latest"]
        aws = aws_script()
        timed(ours, env, EXPECTED), timed(aws, env)  # warm the file cache and .pyc files
        mine, theirs = [], []
        for _ in range(args.runs):
            mine.append(timed(ours, env, EXPECTED))
            theirs.append(timed(aws, env))
    for i, what in enumerate(("wall", "CPU ")):
        a = statistics.median(run[i] for run in mine)
        b = statistics.median(run[i] for run in theirs)
        print(
            f"{what}: ecrcache rewrite nginx:latest {a * 1000:6.1f} ms, aws --version "
            f"{b * 1000:6.1f} ms, ratio {a / b:.2f}x (target 0.35x; medians of {args.runs})"
        )


if __name__ == "__main__":
    main()
