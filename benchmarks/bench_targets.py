"""plan across targets in one process, against a loop of one-account runs, behind a latency proxy.

    python3 benchmarks/bench_targets.py                 # 3 accounts x 2 regions, 50 ms a call
    python3 benchmarks/bench_targets.py --accounts 5 --delay 0.1

The sandbox (``ecrcache sandbox serve``) holds one role per account, each trusting the caller,
and every call crosses a proxy that adds ``--delay`` and counts it (benchmarks/latency_proxy.py).
Each target is applied once first, so what is measured is a no-op plan (exit 0), as a CI job
checking for drift runs it.

- ecrcache: ``plan --detailed-exitcode`` on the file with ``[targets]``: one process, four
  targets at a time, each assuming its role.
- baseline, the plain alternative without targets: one file per account and region (the same
  tables, ``account_id`` and ``region`` set), each planned by its own ``ecrcache plan`` process
  one after another, with that account's role credentials already in the environment (the
  AssumeRole calls a wrapper script would make are not counted against the baseline).

Both are whole processes, wall time, best of ``--repeat``, in the same run; the ratio is
baseline / ecrcache (>1: ecrcache faster), as in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(HERE))
from bench_plan_scale import start_serve  # noqa: E402
from latency_proxy import LatencyProxy  # noqa: E402

REGIONS = ("eu-west-1", "us-east-1")
CALLER = "123456789012"
SHARED = """
[rules.quay]
upstream = "quay"

[rules.k8s]
upstream = "k8s"

[templates.ROOT]
lifecycle = { expire_untagged_after_days = 7 }
"""


def account(i: int) -> str:
    return f"{i + 1}" * 12 if i < 9 else f"{100000000000 + i}"


def targets_toml(n: int) -> str:
    out = [f'region = "{REGIONS[0]}"', SHARED]
    for i in range(n):
        out += [
            f"[targets.a{i}]",
            f'role_arn = "arn:aws:iam::{account(i)}:role/ecrcache"',
            f"regions = {json.dumps(list(REGIONS))}",
        ]
    return "\n".join(out) + "\n"


def single_toml(acct: str, region: str) -> str:
    return f'region = "{region}"\naccount_id = "{acct}"\n{SHARED}'


def seed(state: Path, n: int) -> None:
    """One role per account in a new sandbox state (child process)."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from ecrcache.sandbox.runtime import open_sandbox
    from targets_support import make_target_role

    with open_sandbox(region=REGIONS[0], state_path=state) as session:
        for i in range(n):
            make_target_role(session, account(i))


def env_for(url: str, creds: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
        "AWS_DEFAULT_REGION": REGIONS[0],
    }
    env.pop("ECRCACHE_SANDBOX_STATE", None)
    if creds:
        env |= creds
    return env


def run(url: str, cfg: Path, *args: str, creds: dict[str, str] | None = None) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ecrcache", "--endpoint-url", url, *args, "-c", str(cfg)],
        env=env_for(url, creds),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode not in (0, 2):
        raise SystemExit(f"ecrcache {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return time.perf_counter() - start, done.returncode


def assumed(url: str, acct: str) -> dict[str, str]:
    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=url,
        region_name=REGIONS[0],
        aws_access_key_id="AKIDBENCHMARK",
        aws_secret_access_key="benchmark",
    )
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/ecrcache", RoleSessionName="bench")
    c = c["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
        "AWS_SESSION_TOKEN": c["SessionToken"],
    }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--seed":
        seed(Path(sys.argv[2]), int(sys.argv[3]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=3)
    ap.add_argument("--delay", type=float, default=0.05, help="seconds added to every call")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the best is kept")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()
    n = args.accounts
    with tempfile.TemporaryDirectory(prefix="bench-targets-") as tmp:
        work = Path(tmp)
        state = work / "state"
        subprocess.run(
            [sys.executable, __file__, "--seed", str(state), str(n)],
            env={**os.environ, "PYTHONPATH": str(SRC)},
            check=True,
        )
        proc, port = start_serve(state, work / "serve.log")
        proxy = LatencyProxy(port, delay=args.delay).start()
        try:
            many = work / "targets.toml"
            many.write_text(targets_toml(n))
            run(proxy.url, many, "apply", "--yes")
            singles = []
            for i in range(n):
                creds = assumed(proxy.url, account(i))
                for region in REGIONS:
                    cfg = work / f"single-{i}-{region}.toml"
                    cfg.write_text(single_toml(account(i), region))
                    singles.append((cfg, creds))
            figures: dict[str, Any] = {"targets": 2 * n, "delay_s": args.delay}
            best_many = best_loop = float("inf")
            for _ in range(args.repeat):
                proxy.reset()
                wall, code = run(proxy.url, many, "plan", "--detailed-exitcode")
                assert code == 0, "the plan across targets is not empty"
                figures["calls_targets"] = proxy.reset().total()
                best_many = min(best_many, wall)
                start = time.perf_counter()
                for cfg, creds in singles:
                    _, code = run(proxy.url, cfg, "plan", "--detailed-exitcode", creds=creds)
                    assert code == 0, f"{cfg.name}: the plan is not empty"
                best_loop = min(best_loop, time.perf_counter() - start)
                figures["calls_loop"] = proxy.reset().total()
            figures |= {
                "targets_wall_s": round(best_many, 2),
                "loop_wall_s": round(best_loop, 2),
                "ratio": round(best_loop / best_many, 2),
            }
        finally:
            proxy.stop()
            proc.terminate()
            proc.wait(timeout=60)
    print(
        f"plan, {figures['targets']} targets ({n} accounts x {len(REGIONS)} regions), "
        f"{args.delay * 1000:.0f} ms a call: across targets {figures['targets_wall_s']} s "
        f"({figures['calls_targets']} calls), loop of one-account runs "
        f"{figures['loop_wall_s']} s ({figures['calls_loop']} calls): "
        f"{figures['ratio']}x"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
