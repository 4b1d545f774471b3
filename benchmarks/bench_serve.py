"""`ecrcache apply` against `ecrcache sandbox serve`: the concurrent server against the
one-request-at-a-time server it replaced, in the same invocation.

    python3 benchmarks/bench_serve.py                 # 100 application repositories, 5 rounds
    python3 benchmarks/bench_serve.py --quick         # 30 repositories, 2 rounds
    python3 benchmarks/bench_serve.py --before /work/main/src   # also the old checkout's server

Each round starts a server on a fresh, empty state file, then runs the same whole process a
user runs, `ecrcache --endpoint-url URL apply --yes`, on a config of N application
repositories (each with tags and a lifecycle policy: a create, a tag-less lifecycle write and
the read-backs), through apply's bounded pool of 16 (reconcile/bounded.py). The baseline is
the server started the old way: `sandbox_server(serial=True)`, which holds its one lock
through the dispatch into moto *and* the save of the state file, as `sandbox serve` did before;
`--before SRC` adds another checkout's `python -m ecrcache sandbox serve`. The concurrent
server still dispatches into moto one request at a time (its backends do not lock their
models): what it gains is I/O overlap, requests parsed and answered while another is
dispatched, and saves (an fsync each) shared by the changes made while one was written.
Modes alternate within each round, so machine load hits both alike. Prints best and median wall
time of the apply (after `validate`'s start-up time, measured the same way) and the ratios
(>1: the concurrent server faster).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
REGION = "us-east-1"
ENDPOINT_RE = re.compile(r"http://127\.0\.0\.1:(\d+)")
SERVER = """
import sys
from pathlib import Path
from ecrcache.sandbox.serve import sandbox_server
log = lambda line: print(line, file=sys.stderr)  # noqa: E731
serial = sys.argv[2] == "serial"
with sandbox_server(port=0, state_path=Path(sys.argv[1]), log=log, serial=serial) as s:
    print(s.url, flush=True)
    s.serve_forever()
"""


def config_toml(apps: int) -> str:
    lines = [f'region = "{REGION}"', "[rules.quay]", 'upstream = "quay"']
    for i in range(apps):
        lines += [
            f'[repositories."app/svc-{i:03d}"]',
            "lifecycle = { keep_last = 10 }",
            'tags = { team = "platform" }',
        ]
    return "\n".join(lines) + "\n"


def start(mode: str, state: Path, log: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "ECRCACHE_SANDBOX_STATE": str(state)}
    if mode.startswith("before:"):
        env["PYTHONPATH"] = mode.split(":", 1)[1]
        cmd = [sys.executable, "-m", "ecrcache", "sandbox", "serve", "--port", "0"]
    else:
        env["PYTHONPATH"] = str(SRC)
        cmd = [sys.executable, "-c", SERVER, str(state), mode]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=log.open("w"), text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if found := ENDPOINT_RE.search(line):
            return proc, found.group(0)
    proc.kill()
    raise SystemExit(f"the {mode} server did not start; see {log}")


def ecrcache(url: str, cfg: Path, *args: str) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
        "AWS_DEFAULT_REGION": REGION,
    }
    env.pop("ECRCACHE_SANDBOX_STATE", None)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ecrcache", "--endpoint-url", url, *args, "-c", str(cfg)],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"ecrcache {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return wall


def round_of(mode: str, work: Path, cfg: Path, n: int) -> tuple[float, int]:
    """Apply time after start-up, and how many state writes the server logged."""
    state = work / f"state-{mode.replace('/', '_')}-{n}"
    log = work / f"serve-{mode.replace('/', '_')}-{n}.log"
    proc, url = start(mode, state, log)
    try:
        startup = ecrcache(url, cfg, "validate")
        wall = ecrcache(url, cfg, "apply", "--yes")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    check = ecrcache_repositories(state)
    if check != cfg_apps(cfg):
        raise SystemExit(f"{mode}: the state holds {check} application repositories")
    return wall - startup, log.read_text().count(" (saved)")


def cfg_apps(cfg: Path) -> int:
    return cfg.read_text().count("[repositories.")


def ecrcache_repositories(state: Path) -> int:
    """How many repositories the saved state holds (read in a child: moto's import is heavy)."""
    code = (
        "import sys; from pathlib import Path; from ecrcache.sandbox import statefile;"
        "s = statefile.read(Path(sys.argv[1]));"
        "print(sum(len(b.repositories) for a in s['ecr'].values() for b in a.values()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(state)],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="30 repositories, 2 rounds")
    ap.add_argument("--apps", type=int, help="application repositories (default 100)")
    ap.add_argument("--rounds", type=int, help="rounds (default 5)")
    ap.add_argument("--before", help="src/ of another checkout whose `sandbox serve` to time too")
    args = ap.parse_args()
    apps = args.apps or (30 if args.quick else 100)
    rounds = args.rounds or (2 if args.quick else 5)
    modes = ["threaded", "serial"] + ([f"before:{args.before}"] if args.before else [])
    times: dict[str, list[float]] = {m: [] for m in modes}
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        work = Path(tmp)
        cfg = work / "ecrcache.toml"
        cfg.write_text(config_toml(apps))
        for n in range(rounds):
            for mode in modes if n % 2 == 0 else reversed(modes):
                wall, saves = round_of(mode, work, cfg, n)
                times[mode].append(wall)
                print(
                    f"  round {n + 1} {mode:10} apply of {apps}: {wall:6.2f} s, "
                    f"{saves} state writes",
                    flush=True,
                )
    new = times["threaded"]
    for mode in modes[1:]:
        old = times[mode]
        print(
            f"{apps} application repositories, apply after start-up: concurrent server "
            f"best {min(new):.2f} s / median {statistics.median(new):.2f} s, {mode} "
            f"best {min(old):.2f} s / median {statistics.median(old):.2f} s: "
            f"{min(old) / min(new):.2f}x best, "
            f"{statistics.median(old) / statistics.median(new):.2f}x median"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
