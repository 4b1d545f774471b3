"""The proof that an interrupt, wherever it lands in an apply, leaves nothing to regret.

Seeded random points of real ``ecrcache apply`` processes get SIGINT or SIGKILL:
- against ``ecrcache sandbox serve`` behind a proxy adding latency (each call has time to be
  interrupted in flight), alternating between two configs that differ in every resource, so
  that each apply creates nine resources and deletes nine;
- in ``--sandbox`` mode, where the process itself holds the simulated account in a state file
  (saved after each change, before it is reported done).

After a SIGINT: exit 130, no traceback, one ``Error:`` line saying "interrupted", the list of
what was applied (the JSON envelope under ``-o json``), and each change listed as applied really
is (the next plan does not propose it again). After either signal the next apply converges and
the plan after it is empty; in ``--sandbox`` mode the state file is always a whole state, and
after a SIGINT what remains to do is exactly the full plan minus what was reported applied.

The counts are printed at the end of the module (pytest's terminal, also under ``-q``).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli

from ecrcache.sandbox import statefile
from lossy_proxy import LossyProxy
from serve_support import SRC, ServedSandbox, served_sandbox

SEED = int(os.environ.get("ECRCACHE_INTERRUPT_SEED", "16"))
SERVER_SIGINT_POINTS = 18
SERVER_SIGKILL_POINTS = 6
SANDBOX_SIGINT_POINTS = 6
SANDBOX_SIGKILL_POINTS = 3
LATENCY_S = 0.02
TOKEN = "ghp_" + "proof" * 7 + "x"  # a made-up token in GitHub's shape, for the secret
APPLIED_RE = re.compile(r"applied before it stopped: (.*?)\. Run apply again")

COUNTS: dict[str, int] = {}


def _count(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _print_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not COUNTS:
        return
    figures = ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items()))
    with capture.global_and_fixture_disabled():  # on the terminal, not in the captured output
        reporter.write_line(f"\ninterrupt proof (seed {SEED}): {figures}")


def _config(variant: str) -> str:
    """Four rules that share one secret ecrcache makes: each is provably ecrcache's (the secret
    it holds is tagged managed-by), so a prune to the other variant deletes them all."""
    v = variant
    rules = "".join(
        f"""
[rules.{prefix}-{v}]
upstream = "{upstream}"
[rules.{prefix}-{v}.credentials]
secret = "ecr-pullthroughcache/proof-{v}"
username = "bot"
token = {{ env = "PROOF_TOKEN" }}
"""
        for prefix, upstream in (
            ("dh", "docker-hub"),
            ("gl", "gitlab-container-registry"),
            ("cg", "chainguard"),
            ("gh", "github-container-registry"),
        )
    )
    return f"""version = 1
region = "af-south-1"
{rules}
[templates.dh-{v}]
description = "docker hub {v}"
[templates.dh-{v}.lifecycle]
keep_last = 5

[templates.gl-{v}]
description = "gitlab {v}"
[templates.gl-{v}.lifecycle]
keep_last = 7

[repositories."team-{v}/api"]
tag_mutability = "IMMUTABLE"

[repositories."team-{v}/web"]
scan_on_push = true
"""


def _configs(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for v in ("a", "b"):
        out[v] = tmp_path / f"{v}.toml"
        out[v].write_text(_config(v))
    return out


def _changes(doc: dict[str, Any]) -> set[str]:
    """``{"create rule.dh-a", ...}`` from an apply or plan envelope."""
    return {f"{c['action']} {c['address']}" for c in doc["data"]["changes"]}


# The child says "go" once the interpreter is up, then runs `python -m ecrcache ARGS`: times are
# counted from there, since a signal landing in the interpreter's own start-up (its site import)
# comes before any ecrcache code can run. tests/cli/test_interrupts.py covers ecrcache's start-up.
_GO_THEN_ECRCACHE = (
    "import runpy, sys; print('go', flush=True); sys.argv[0] = 'ecrcache'; "
    "runpy.run_module('ecrcache', run_name='__main__', alter_sys=True)"
)


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _GO_THEN_ECRCACHE, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "go\n"
    return proc


def _env(extra: dict[str, str]) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "PROOF_TOKEN": TOKEN, **extra}


def _check_interrupted(rc: int, out: str, err: str, *, as_json: bool) -> tuple[str, ...] | None:
    """Check one interrupted run's ending; return what it says was applied (None when the
    signal came after the result was printed: it is then ignored, and the run succeeded)."""
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    if rc == 0:  # landed after the last write: the run had finished and says so
        assert '"ok": true' in out if as_json else "Apply complete" in out, (out, err)
        return None
    assert rc == 130, (rc, out, err)
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "interrupted" in errors[0], err
    if as_json:
        doc = json.loads(out)  # exactly one document on stdout
        assert doc["ok"] is False and doc["error"]["code"] == "interrupted", doc
        assert doc["error"]["exit_code"] == 130
        return tuple(doc["error"]["applied"])
    match = APPLIED_RE.search(err)
    assert match, err  # apply always says what it had applied, "nothing" included
    return () if match.group(1) == "nothing" else tuple(match.group(1).split(", "))


def _signal_at_point(
    proc: subprocess.Popen[str], proxy: LossyProxy | None, rng: random.Random, full: int, sig: int
) -> bool:
    """Send ``sig`` at a random point: a random time into the run, or while the k-th call
    is in flight. False if the process had already finished."""
    if proxy is None or rng.random() < 0.2:
        time.sleep(rng.uniform(0.02, 1.5))  # start-up (after runpy's lookup), config, calls
    else:
        target = proxy.requests + rng.randint(1, full)
        while not proxy.wait_for(target, timeout=0.05):
            if proc.poll() is not None:
                return False
        time.sleep(rng.uniform(0, 1.5 * LATENCY_S))
    if proc.poll() is not None:
        return False
    proc.send_signal(sig)
    return True


@pytest.fixture
def no_listing_lag(monkeypatch: pytest.MonkeyPatch) -> None:
    """ListSecrets current (the sandbox lags it by default, as AWS does): the proof is about
    interrupts, and a plan right after deleting a secret would otherwise still list it."""
    monkeypatch.setenv("ECRCACHE_SANDBOX_LISTSECRETS_LAG", "0")
    monkeypatch.setenv("PROOF_TOKEN", TOKEN)  # the in-process runs read it too


def test_interrupts_at_random_points_of_an_apply_against_the_served_sandbox(
    no_listing_lag: None, aws_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(SEED)
    configs = _configs(tmp_path)
    with served_sandbox(aws_env, log_dir=tmp_path / "serve-logs") as served:
        _server_points(served, rng, configs, capsys)
    assert COUNTS["server SIGINT points"] == SERVER_SIGINT_POINTS


def _server_points(
    served: ServedSandbox,
    rng: random.Random,
    configs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    direct = served.endpoint
    proxy = LossyProxy(direct, delay_s=LATENCY_S).start()
    try:
        code, out, err = cli(
            capsys, "--endpoint-url", direct, "apply", "-c", str(configs["a"]), "--yes"
        )
        assert code == 0, err
        before = proxy.requests  # how many calls a full a -> b apply makes, through the proxy
        code, out, err = cli(
            capsys, "--endpoint-url", proxy.url, "apply", "-c", str(configs["b"]),
            "--yes", "--prune", "--force", "-o", "json",
        )  # fmt: skip
        assert code == 0, err
        full = proxy.requests - before
        assert len(_changes(json.loads(out))) == 18  # 9 creates, 9 deletes
        current = "b"
        plan = [signal.SIGINT] * SERVER_SIGINT_POINTS + [signal.SIGKILL] * SERVER_SIGKILL_POINTS
        rng.shuffle(plan)
        for i, sig in enumerate(plan):
            current = "a" if current == "b" else "b"
            as_json = i % 2 == 0
            args = ["--endpoint-url", proxy.url, "apply", "-c", str(configs[current])]
            args += ["--yes", "--prune", "--force"] + (["-o", "json"] if as_json else [])
            delivered = False
            while not delivered:  # a run that finished first is no point: try again
                proc = _spawn(args, _env({}))
                delivered = _signal_at_point(proc, proxy, rng, full, sig)
                out, err = proc.communicate(timeout=120)
                if not delivered:
                    _count("server: finished before the signal (retried)")
            applied: tuple[str, ...] | None = None
            if sig == signal.SIGKILL:
                assert proc.returncode == -signal.SIGKILL, (proc.returncode, err)
                _count("server SIGKILL points")
            else:
                applied = _check_interrupted(proc.returncode, out, err, as_json=as_json)
                _count("server SIGINT points")
                if applied is None:
                    _count("server SIGINT after the result (ignored)")
            # The next apply converges and redoes nothing that was reported applied...
            code, out, err = cli(
                capsys, "--endpoint-url", direct, "apply", "-c", str(configs[current]),
                "--yes", "--prune", "--force", "-o", "json",
            )  # fmt: skip
            assert code == 0, err
            assert not set(applied or ()) & _changes(json.loads(out)), (applied, out)
            # ...and the plan after it is empty.
            code, out, err = cli(
                capsys, "--endpoint-url", direct, "plan", "-c", str(configs[current]),
                "--prune", "--detailed-exitcode",
            )  # fmt: skip
            assert code == 0, out + err
    finally:
        proxy.stop()


def test_interrupts_at_random_points_of_a_sandbox_apply_leave_the_old_or_new_state(
    no_listing_lag: None, aws_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(SEED + 1)
    configs = _configs(tmp_path)
    state = aws_env
    code, _, err = cli(capsys, "--sandbox", "apply", "-c", str(configs["a"]), "--yes")
    assert code == 0, err
    pristine = tmp_path / "pristine.state"
    shutil.copy(state, pristine)
    code, out, err = cli(
        capsys, "--sandbox", "plan", "-c", str(configs["b"]), "--prune", "-o", "json"
    )
    assert code == 0, err
    full = _changes(json.loads(out))
    args = ["--sandbox", "apply", "-c", str(configs["b"]), "--yes", "--prune", "--force"]
    plan = [signal.SIGINT] * SANDBOX_SIGINT_POINTS + [signal.SIGKILL] * SANDBOX_SIGKILL_POINTS
    rng.shuffle(plan)
    for sig in plan:
        delivered = False
        while not delivered:  # a run that finished first is no point: try again
            shutil.copy(pristine, state)
            proc = _spawn([*args, "-o", "json"], _env({"ECRCACHE_SANDBOX_STATE": str(state)}))
            delivered = _signal_at_point(proc, None, rng, 0, sig)
            out, err = proc.communicate(timeout=120)
            if not delivered:
                _count("sandbox: finished before the signal (retried)")
        assert statefile.read(state) is not None  # a whole state, old or new, never a torn one
        if sig == signal.SIGKILL:
            assert proc.returncode == -signal.SIGKILL, (proc.returncode, err)
            _count("sandbox SIGKILL points")
            applied: tuple[str, ...] | None = None
        else:
            _count("sandbox SIGINT points")
            applied = _check_interrupted(proc.returncode, out, err, as_json=True)
        code, out, err = cli(capsys, *args, "-o", "json")
        assert code == 0, err
        remaining = _changes(json.loads(out))
        if sig == signal.SIGKILL:
            assert remaining <= full, remaining  # some prefix of the plan was kept, no more
        else:
            # Old or new, and as reported: what remains is the full plan less what was applied.
            expected = set() if applied is None else full - set(applied)
            assert remaining == expected, (applied, remaining)
        code, out, err = cli(
            capsys, "--sandbox", "plan", "-c", str(configs["b"]), "--prune",
            "--detailed-exitcode",
        )  # fmt: skip
        assert code == 0, out + err
    assert COUNTS["sandbox SIGINT points"] == SANDBOX_SIGINT_POINTS
