"""How long ``ecrcache plan`` takes to fail against an endpoint that does not answer, against
``aws sts get-caller-identity`` (the AWS CLI, the first thing a user tries) on the same endpoint.

    python3 benchmarks/bench_dead_endpoint.py [--quick] [--before DIR] [--cap 400]

Three endpoints on loopback: a closed port (refused), a listener whose accept queue is full
(a connect that never completes: a firewall dropping packets), and a listener that takes the
connection and never answers (a hung proxy or server). Each command runs as a fresh process
with a time cap; a run past the cap counts as the cap. ``--before DIR`` also times another
checkout's sources (e.g. ``/work/main/src``). ``--quick`` runs the refused port only. Prints
seconds and the ratio against the AWS CLI (>1: ecrcache fails sooner).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = 'version = 1\nregion = "af-south-1"\n[rules.quay]\nupstream = "quay"\n'


@contextlib.contextmanager
def endpoint(kind: str) -> Iterator[str]:
    """A loopback URL that refuses, never connects, or never answers."""
    if kind == "refused":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        yield f"http://127.0.0.1:{port}"
        return
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    if kind == "no-connect":  # fill the accept queue: further SYNs are dropped
        for _ in range(4):
            f = socket.socket()
            f.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                f.connect(("127.0.0.1", port))
            fillers.append(f)
        time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for f in fillers:
            f.close()
        listener.close()


def run(argv: list[str], env: dict[str, str], cap: float) -> float:
    start = time.perf_counter()
    try:
        subprocess.run(argv, env=env, capture_output=True, timeout=cap, check=False)
    except subprocess.TimeoutExpired:
        return cap
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--before", type=Path)
    ap.add_argument("--cap", type=float, default=400.0)
    ap.add_argument("--only", choices=["refused", "no-connect", "no-answer"])
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    (tmp / "ecrcache.toml").write_text(CONFIG)
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "af-south-1",
        "AWS_CONFIG_FILE": str(tmp / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "none"),
        "HOME": str(tmp),
    }
    sources = {"ecrcache": ROOT / "src"}
    if args.before:
        sources["ecrcache (before)"] = args.before
    kinds = ["refused"] if args.quick else ["refused", "no-connect", "no-answer"]
    if args.only:
        kinds = [args.only]
    print(f"{'endpoint':<12} {'command':<22} {'seconds':>8} {'vs aws':>7}")
    for kind in kinds:
        # A fresh endpoint for each command: a listener that never accepts keeps the
        # connections of the one before in its queue.
        with endpoint(kind) as url:
            aws = [sys.executable, "-m", "awscli", "sts", "get-caller-identity"]
            base = run([*aws, "--endpoint-url", url], env, args.cap)
        print(f"{kind:<12} {'aws sts (AWS CLI)':<22} {base:>8.1f}")
        for name, src in sources.items():
            argv = [sys.executable, "-m", "ecrcache", "-c", str(tmp / "ecrcache.toml"), "plan"]
            with endpoint(kind) as url:
                took = run(
                    [*argv, "--endpoint-url", url], {**env, "PYTHONPATH": str(src)}, args.cap
                )
            capped = "≥" if took >= args.cap else " "
            print(f"{kind:<12} {name:<22} {capped}{took:>7.1f} {base / took:>6.2f}x")


if __name__ == "__main__":
    main()
