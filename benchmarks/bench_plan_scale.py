"""A no-op plan and apply at scale, against `ecrcache sandbox serve` behind a latency proxy.

    python3 benchmarks/bench_plan_scale.py            # 10/1,000/5,000 cache repositories
    python3 benchmarks/bench_plan_scale.py --quick    # 10/100/300, for a quick look
    python3 benchmarks/bench_plan_scale.py --main /work/main/src --sizes 1000:1000:100

Each size is an account holding C cache repositories (under a rule whose template has
``backfill = true``, pulled after the template, so nothing changes), U other teams' repositories
and A application repositories the config declares. The account is seeded in a child process
straight into moto's backends (simulate_pull, the ECR backend; no HTTP) and saved as a sandbox
state file; `ecrcache sandbox serve` then serves it, and every call ecrcache makes crosses a
proxy that adds ``--delay`` (50 ms: a distant region) and counts it (benchmarks/latency_proxy.py).
ecrcache runs as a whole process, as a user runs it: ``plan --detailed-exitcode`` (must exit 0),
the same plan with backfill off, and ``apply --yes``.

Wall time is the whole process; "after start-up" subtracts the time of ``ecrcache validate``
(interpreter, imports, config; no AWS call), measured the same way. Printed against two
baselines:
- minimum: the calls no client can avoid: the fixed reads (caller, secrets, rules, templates),
  the listing pages (DescribeRepositories at 1,000, GetResources at 100), one read per backfilled
  repository and one per application repository (GetLifecyclePolicy: ECR has no batch read);
- Terraform-style refresh: one read per managed resource (rule, template, secret, each
  application repository and its lifecycle policy, each backfilled lifecycle policy), at
  Terraform's default -parallelism=10: modelled as ceil(reads / 10) x delay, not run.
With ``--main SRC``, the same runs with another checkout's ecrcache (e.g. before issue 14).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(HERE))
from latency_proxy import LatencyProxy  # noqa: E402

REGION = "us-east-1"
ENDPOINT_RE = re.compile(r"http://127\.0\.0\.1:(\d+)")
FULL = ((10, 0, 100), (1000, 1000, 100), (5000, 5000, 100))
QUICK = ((10, 0, 10), (100, 100, 10), (300, 300, 10))
FIXED = 4  # sts:GetCallerIdentity, ListSecrets, DescribePullThroughCacheRules, ...Templates


def config_doc(apps: int, *, backfill: bool) -> dict[str, Any]:
    return {
        "region": REGION,
        "rules": {"quay": {"upstream": "quay"}},
        "templates": {"quay": {"lifecycle": {"keep_last": 5}, "backfill": backfill}},
        "repositories": {f"app/svc-{i:03d}": {} for i in range(apps)},
    }


def config_toml(apps: int, *, backfill: bool) -> str:
    lines = [
        f'region = "{REGION}"',
        "[rules.quay]",
        'upstream = "quay"',
        "[templates.quay]",
        "lifecycle = { keep_last = 5 }",
        f"backfill = {'true' if backfill else 'false'}",
    ]
    lines += [f'[repositories."app/svc-{i:03d}"]' for i in range(apps)]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ seeding (child process)


def seed(state: Path, cache: int, plain: int, apps: int) -> None:
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

    install()
    with mock_aws():
        from moto.ecr.models import ecr_backends

        session = boto3.session.Session(region_name=REGION)
        clients = Clients(session, REGION)
        result = make_plan(
            parse_config(config_doc(apps, backfill=True)), clients, reader=SourceReader()
        )
        run(result.plan, ApplyContext(clients, result.account_id, REGION))
        for i in range(cache):
            simulate_pull(
                account_id=SANDBOX_ACCOUNT_ID,
                region=REGION,
                repository=f"quay/org{i % 50}/img-{i:05d}",
                tag="1",
            )
        backend = ecr_backends[SANDBOX_ACCOUNT_ID][REGION]
        for i in range(plain):
            tags = [{"Key": "team", "Value": f"t{i % 7}"}] if i % 2 else []
            backend.create_repository(
                f"team{i % 20}/svc-{i:05d}", None, None, None, "MUTABLE", tags
            )
        statefile.write(state, statefile.snapshot())


# ------------------------------------------------------------------ running


def start_serve(state: Path, log: Path) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "ECRCACHE_SANDBOX_STATE": str(state)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecrcache", "sandbox", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = ENDPOINT_RE.search(line)
        if found:
            return proc, int(found.group(1))
    proc.kill()
    raise SystemExit(f"sandbox serve did not start; see {log}")


def run_ecrcache(src: Path, url: str, cfg: Path, *args: str) -> tuple[float, int, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
        "AWS_DEFAULT_REGION": REGION,
    }
    env.pop("ECRCACHE_SANDBOX_STATE", None)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ecrcache", "--endpoint-url", url, *args, "-c", str(cfg)],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    return time.perf_counter() - start, done.returncode, done.stderr[-400:]


def minimum(cache: int, plain: int, apps: int, *, backfill: bool) -> int:
    total = cache + plain + apps
    pages = max(1, math.ceil(total / 1000)) + max(1, math.ceil(apps / 100))
    return FIXED + pages + (cache if backfill else 0) + apps


def terraform(cache: int, apps: int, delay: float, *, backfill: bool) -> tuple[int, float]:
    reads = 1 + 1 + 2 * apps + (cache if backfill else 0)  # rule, template, repo + lifecycle
    return reads, math.ceil(reads / 10) * delay


def measure(src: Path, label: str, sizes: Any, delay: float, work: Path) -> list[dict[str, Any]]:
    rows = []
    for cache, plain, apps in sizes:
        state = work / f"state-{cache}-{plain}-{apps}"
        if not state.exists():
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, __file__, "--seed", str(state), str(cache), str(plain), str(apps)],
                env={**os.environ, "PYTHONPATH": str(SRC)},
                check=True,
            )
            print(f"  seeded {cache}/{plain}/{apps} in {time.perf_counter() - t0:.1f} s")
        proc, port = start_serve(state, work / f"serve-{label}-{cache}-{plain}.log")
        proxy = LatencyProxy(port, delay=delay).start()
        try:
            # the process itself (interpreter, imports, config): `validate` makes no AWS call
            cfg = work / f"config-{apps}-True.toml"
            cfg.write_text(config_toml(apps, backfill=True))
            startup, _, _ = run_ecrcache(src, proxy.url, cfg, "validate")
            for backfill, command in ((True, "plan"), (False, "plan"), (True, "apply")):
                cfg = work / f"config-{apps}-{backfill}.toml"
                cfg.write_text(config_toml(apps, backfill=backfill))
                args = ["plan", "--detailed-exitcode"] if command == "plan" else ["apply", "--yes"]
                proxy.reset()
                wall, code, err = run_ecrcache(src, proxy.url, cfg, *args)
                calls = proxy.reset()
                if code != 0:
                    raise SystemExit(f"{label} {command} exited {code}: {err}")
                least = minimum(cache, plain, apps, backfill=backfill)
                tf_reads, tf_wall = terraform(cache, apps, delay, backfill=backfill)
                rows.append(
                    {
                        "ecrcache": label,
                        "command": command,
                        "backfill": backfill,
                        "cache": cache,
                        "unmanaged": plain,
                        "apps": apps,
                        "calls": calls.total(),
                        "wall_s": round(wall, 2),
                        "startup_s": round(startup, 2),
                        "minimum_calls": least,
                        "terraform_reads": tf_reads,
                        "terraform_wall_s": round(tf_wall, 2),
                        "top": dict(Counter(calls).most_common(3)),
                    }
                )
                r = rows[-1]
                print(
                    f"  {label:5} {command:5} backfill={'on ' if backfill else 'off'} "
                    f"C={cache:5} U={plain:5} A={apps:3}: {r['calls']:6} calls "
                    f"({r['calls'] / least:.2f}x minimum {least}, "
                    f"{r['calls'] / tf_reads:.2f}x Terraform {tf_reads}), "
                    f"{wall:6.1f} s, {wall - startup:6.1f} s after start-up "
                    f"({(wall - startup) / tf_wall:.2f}x Terraform-style {tf_wall:.1f} s)",
                    flush=True,
                )
        finally:
            proxy.stop()
            proc.terminate()
            proc.wait(timeout=60)
    return rows


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--seed":
        seed(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes 10/100/300, 10 application repos")
    ap.add_argument("--sizes", help="CACHE:UNMANAGED:APPS[,...] instead of the defaults")
    ap.add_argument("--delay", type=float, default=0.05, help="seconds added to every call")
    ap.add_argument("--main", type=Path, help="src/ of another checkout to run the same way")
    ap.add_argument("--json", type=Path, help="write the rows here")
    args = ap.parse_args()
    sizes: Any = QUICK if args.quick else FULL
    if args.sizes:
        sizes = [tuple(int(x) for x in s.split(":")) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-plan-scale-") as tmp:
        work = Path(tmp)
        rows = measure(SRC, "this", sizes, args.delay, work)
        if args.main:
            rows += measure(args.main, "main", sizes, args.delay, work)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
