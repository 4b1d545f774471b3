"""`ecrcache sandbox serve` as a real process, for tests whose calls must cross HTTP as calls to
AWS do (a lossy proxy, the AWS CLI, a second process).

``served_sandbox(state_path, log_dir=...)`` starts ``python -m ecrcache sandbox serve --port 0``
on a private state file, waits (bounded) for the endpoint line, yields a ``ServedSandbox`` and
kills the process at the end whatever happened (``starting_serve`` when the test must act
between the start and the endpoint). The ``sandbox_server`` fixture (tests/conftest.py)
wraps it on the test's own state file.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

SRC = Path(__file__).resolve().parents[1] / "src"
ENDPOINT_RE = re.compile(r"http://127\.0\.0\.1:(\d+)")
START_TIMEOUT_S = 120.0  # importing moto's server on a loaded 2-core machine
STOP_TIMEOUT_S = 30.0


def serve_env(state_path: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment, with this checkout's ecrcache and the given state file."""
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "ECRCACHE_SANDBOX_STATE": str(state_path)}
    env.update(extra or {})
    return env


def ecrcache_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ecrcache", *args]


@dataclass
class ServedSandbox:
    """A running ``sandbox serve``: its endpoint, state file, process and output."""

    endpoint: str
    port: int
    state_path: Path
    process: subprocess.Popen[str]
    log_path: Path  # the server's stderr: one line per request, then "Stopped ..."
    stdout_lines: list[str]  # what it printed so far (appended to as it prints)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT, timeout: float = STOP_TIMEOUT_S) -> int:
        """Send ``sig`` and return the exit code (SIGKILL after ``timeout`` if it hangs)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)
            raise AssertionError(f"sandbox serve did not stop on signal {sig}") from None


def _drain(stream: IO[str], lines: list[str], done: threading.Event) -> None:
    with stream:  # closed here, at end of file (when the process is gone), not under the reader
        for line in stream:
            lines.append(line)
    done.set()


@contextmanager
def starting_serve(
    state_path: Path,
    *,
    log_dir: Path,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[Callable[[float], ServedSandbox]]:
    """Start ``ecrcache [ARGS] sandbox serve --port 0`` and yield a function that waits (at most
    its argument, in seconds) for the endpoint line; the process is killed at the end."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"serve-{time.monotonic_ns()}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            ecrcache_command(*args, "sandbox", "serve", "--port", "0"),
            env=serve_env(state_path, env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    lines: list[str] = []
    done = threading.Event()
    # Keep reading stdout for the whole run, so that the server never blocks on a full pipe.
    threading.Thread(target=_drain, args=(proc.stdout, lines, done), daemon=True).start()

    def wait_until_serving(timeout: float) -> ServedSandbox:
        deadline = time.monotonic() + timeout
        while (match := ENDPOINT_RE.search("".join(lines))) is None:
            if done.is_set():
                proc.wait(timeout=STOP_TIMEOUT_S)
                raise AssertionError(
                    f"sandbox serve exited ({proc.returncode}) before serving: "
                    f"{log_path.read_text()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"sandbox serve printed no endpoint in {timeout:.0f} s: {log_path.read_text()}"
                )
            time.sleep(0.02)
        return ServedSandbox(
            endpoint=match.group(0),
            port=int(match.group(1)),
            state_path=state_path,
            process=proc,
            log_path=log_path,
            stdout_lines=lines,
        )

    try:
        yield wait_until_serving
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def served_sandbox(
    state_path: Path,
    *,
    log_dir: Path,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = START_TIMEOUT_S,
) -> Iterator[ServedSandbox]:
    """Start ``ecrcache [ARGS] sandbox serve --port 0``; yield once its endpoint is printed."""
    with starting_serve(state_path, log_dir=log_dir, args=args, env=env) as wait:
        yield wait(timeout)
