"""`ecrcache import` finding ecrcache's repositories through the tagging listing
(tag:GetResources) against the path it replaced (one ListTagsForResource per repository outside
the rules' prefixes), in the same invocation, behind a latency proxy.

    python3 benchmarks/bench_import.py            # 10 application, 100 cache, 1,000 other repos
    python3 benchmarks/bench_import.py --quick    # 10 / 20 / 200
    python3 benchmarks/bench_import.py --sizes 10:100:5000 --delay 0.05

The account is seeded in a child process straight into moto's backends (apply of a config
with A application repositories, C pulled cache repositories, U other teams' repositories,
half of them tagged) and saved as a sandbox state; `ecrcache sandbox serve` serves it, and
every call crosses `latency_proxy.py` (``--delay``, 50 ms: a distant region), which counts it.
Both paths run in this one process, alternating, through the same clients and bounded pool
(``importer.read_account(tag_listing=...)``, then the document and its TOML, which must be
identical). Prints calls and wall time of each and the ratio (>1: the listing faster).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(SRC))
from bench_serve import start  # noqa: E402
from latency_proxy import LatencyProxy  # noqa: E402

REGION = "us-east-1"


def config_doc(apps: int) -> dict[str, Any]:
    repositories: dict[str, Any] = {
        f"app/svc-{i:03d}": {"tags": {"team": "platform"}, "lifecycle": {"keep_last": 10}}
        for i in range(apps)
    }
    return {"region": REGION, "rules": {"quay": {"upstream": "quay"}}, "repositories": repositories}


def seed(state: Path, apps: int, cache: int, plain: int) -> None:
    """The account, written straight into moto's backends, then saved as a sandbox state."""
    import boto3
    from moto import mock_aws

    from ecrcache.aws import Clients
    from ecrcache.config.loading import parse_config
    from ecrcache.reconcile.apply import ApplyContext, run
    from ecrcache.reconcile.credentials import SourceReader
    from ecrcache.reconcile.planning import make_plan
    from ecrcache.sandbox import statefile
    from ecrcache.sandbox.ecr_extension import install
    from ecrcache.sandbox.pulls import simulate_pull
    from ecrcache.sandbox.runtime import SANDBOX_ACCOUNT_ID
    from ecrcache.sandbox.seed import seed_backend

    install()
    with mock_aws():
        from moto.ecr.models import ecr_backends

        seed_backend(SANDBOX_ACCOUNT_ID)
        clients = Clients(boto3.session.Session(region_name=REGION), REGION)
        result = make_plan(parse_config(config_doc(apps)), clients, reader=SourceReader())
        run(result.plan, ApplyContext(clients, result.account_id, REGION))
        for i in range(cache):
            simulate_pull(
                account_id=SANDBOX_ACCOUNT_ID,
                region=REGION,
                repository=f"quay/org{i % 10}/img-{i:05d}",
                tag="1",
            )
        backend = ecr_backends[SANDBOX_ACCOUNT_ID][REGION]
        for i in range(plain):
            tags = [{"Key": "team", "Value": f"t{i % 7}"}] if i % 2 else []
            backend.create_repository(
                f"team{i % 20}/svc-{i:05d}", None, None, None, "MUTABLE", tags
            )
        statefile.write(state, statefile.snapshot())


def import_once(url: str, *, tag_listing: bool) -> tuple[float, str]:
    import boto3

    from ecrcache.aws import Clients
    from ecrcache.reconcile.import_toml import to_toml
    from ecrcache.reconcile.importer import build_document, read_account

    session = boto3.session.Session(
        aws_access_key_id="AKIDBENCHMARK", aws_secret_access_key="benchmark", region_name=REGION
    )
    clients = Clients(session, REGION, endpoint_url=url)
    t0 = time.perf_counter()
    account = read_account(clients, ci_policy_name="ecrcache-ci", tag_listing=tag_listing)
    text = to_toml(build_document(account, account_id=clients.account_id, region=REGION))
    return time.perf_counter() - t0, text


def measure(sizes: Any, delay: float, rounds: int, work: Path) -> None:
    for apps, cache, plain in sizes:
        state = work / f"state-{apps}-{cache}-{plain}"
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--seed", str(state), str(apps), str(cache), str(plain)],
            env={**os.environ, "PYTHONPATH": str(SRC)},
            check=True,
        )
        print(f"  seeded {apps}/{cache}/{plain} in {time.perf_counter() - t0:.1f} s", flush=True)
        proc, url = start("threaded", state, work / f"serve-{apps}-{cache}-{plain}.log")
        port = int(url.rsplit(":", 1)[1])
        walls: dict[bool, list[float]] = {True: [], False: []}
        calls: dict[bool, int] = {}
        texts: dict[bool, str] = {}
        try:
            with LatencyProxy(port, delay=delay) as proxy:
                for n in range(rounds):
                    for listing in (True, False) if n % 2 == 0 else (False, True):
                        proxy.reset()
                        wall, texts[listing] = import_once(proxy.url, tag_listing=listing)
                        calls[listing] = proxy.reset().total()
                        walls[listing].append(wall)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        if texts[True] != texts[False]:
            raise SystemExit("the two paths wrote different TOML")
        new, old = walls[True], walls[False]
        print(
            f"A={apps} C={cache} U={plain}, {delay * 1000:.0f} ms a call: tagging listing "
            f"{calls[True]} calls, best {min(new):.2f} s / median {statistics.median(new):.2f} s; "
            f"one ListTagsForResource per repository {calls[False]} calls, best {min(old):.2f} s"
            f" / median {statistics.median(old):.2f} s: {min(old) / min(new):.2f}x best, "
            f"{statistics.median(old) / statistics.median(new):.2f}x median; same TOML",
            flush=True,
        )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--seed":
        seed(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10/20/200, 2 rounds")
    ap.add_argument("--sizes", help="APPS:CACHE:UNMANAGED[,...] instead of the defaults")
    ap.add_argument("--delay", type=float, default=0.05, help="seconds added to every call")
    ap.add_argument("--rounds", type=int, help="rounds per size (default 3)")
    args = ap.parse_args()
    sizes: Any = [(10, 20, 200)] if args.quick else [(10, 100, 1000)]
    if args.sizes:
        sizes = [tuple(int(x) for x in s.split(":")) for s in args.sizes.split(",")]
    rounds = args.rounds or (2 if args.quick else 3)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        measure(sizes, args.delay, rounds, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
