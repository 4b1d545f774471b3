"""The README's sandbox walk-through works as written, from the README's own code blocks.

Every fenced block marked ``<!-- walkthrough -->`` (or ``<!-- walkthrough exit=N -->``) is run in
README order, as a new user would type it into one terminal: one environment and directory
carried from block to block (an ``export`` or ``cd`` in one block holds for the next), on a fresh
machine's terms (HOME, the Docker config and the sandbox state in a temporary directory, no AWS
settings at all, this checkout's ``ecrcache`` on PATH), and with no network where the kernel lets
the test take it away (``unshare --net``). Each block must exit 0 (or N), and every line of the
``text`` block that follows it (the output the README pastes) must appear in what it printed,
whitespace squeezed. A line ``...`` marks lines cut; ``...`` inside a line stands for any text on
that line (a path, a time, a digest).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SRC = ROOT / "src"
BLOCK_TIMEOUT_S = 60

STEP = re.compile(
    r"^<!-- walkthrough(?: exit=(?P<exit>\d+))? -->\n"
    r"```(?:sh|console)\n(?P<script>.*?)\n```\n"
    r"(?:\n?```text\n(?P<excerpt>.*?)\n```\n)?",
    re.S | re.M,
)

# What a new user meets in the first hour, in the order the guide takes them.
FIRST_HOUR = (
    "ecrcache --region af-south-1 init --non-interactive",
    "ecrcache validate",
    "ecrcache --sandbox plan",
    "ecrcache --sandbox apply",
    "ecrcache --sandbox login",
    "ecrcache --sandbox test-pull",
    "ecrcache rewrite --file values.yaml",
    "ecrcache --sandbox status",
    "ecrcache --sandbox cost-report",
    "ecrcache --sandbox doctor",
)

# Each block runs in a new bash that first takes the environment and directory the previous block
# left, and leaves its own (on success or failure alike) for the next: one shell session.
SESSION = 'source "$1"\ntrap \'{ export -p; printf "cd %q\\n" "$PWD"; } > "$1"\' EXIT\n'


@dataclass(frozen=True)
class Step:
    line: int
    script: str
    exit_code: int
    excerpt: tuple[str, ...]


def _squeeze(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def _printed(line: str, printed: str) -> bool:
    """Whether the excerpt line is in the output; ``...`` in it matches any text on one line."""
    pattern = "[^\\n]*".join(re.escape(part) for part in line.split("..."))
    return re.search(pattern, printed) is not None


def walkthrough_steps(text: str) -> tuple[Step, ...]:
    steps = []
    for m in STEP.finditer(text):
        excerpt = tuple(
            " ".join(line.split())
            for line in (m["excerpt"] or "").splitlines()
            if line.strip() and line.strip() != "..."
        )
        steps.append(
            Step(
                line=text.count("\n", 0, m.start()) + 1,
                script=m["script"],
                exit_code=int(m["exit"] or 0),
                excerpt=excerpt,
            )
        )
    return tuple(steps)


@cache
def _without_network() -> tuple[str, ...]:
    """A prefix running a command in a network namespace of its own (not even loopback is up),
    where this kernel and these privileges allow one; else none."""
    if shutil.which("unshare") is None:
        return ()
    for prefix in (("unshare", "--net", "--map-root-user"), ("unshare", "--net")):
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
        if probe.returncode == 0:
            return prefix
    return ()


def _fresh_machine(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ecrcache").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ecrcache "$@"\n')
    # A docker that only records that something called it: nothing in the sandbox may need one.
    calls = tmp_path / "docker-calls"
    (bin_dir / "docker").write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\nexit 1\n')
    for shim in bin_dir.iterdir():
        shim.chmod(0o755)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "DOCKER_CONFIG": str(home / ".docker"),
        "ECRCACHE_SANDBOX_STATE": str(tmp_path / "state" / "sandbox.state"),
        "PYTHONPATH": str(SRC),
        "LANG": "C.UTF-8",
    }


def test_the_walkthrough_covers_the_first_hour() -> None:
    steps = walkthrough_steps(README.read_text())
    scripts = [s.script for s in steps]
    found = [next((i for i, s in enumerate(scripts) if cmd in s), None) for cmd in FIRST_HOUR]
    assert None not in found, [c for c, i in zip(FIRST_HOUR, found, strict=True) if i is None]
    assert found == sorted(found), "the walk-through takes these steps in this order"
    assert all(s.excerpt for s in steps), [s.line for s in steps if not s.excerpt]


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = walkthrough_steps(README.read_text())
    assert len(steps) >= len(FIRST_HOUR) // 2
    env = _fresh_machine(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    session = tmp_path / "session.env"
    session.write_text("")
    for step in steps:
        done = subprocess.run(
            [
                *_without_network(),
                "bash", "--noprofile", "--norc", "-eo", "pipefail",
                "-c", SESSION + step.script, "walkthrough", str(session),
            ],
            cwd=work, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S,
        )  # fmt: skip
        shown = f"README.md:{step.line}\n$ {step.script}\n{done.stdout}{done.stderr}"
        assert done.returncode == step.exit_code, shown
        printed = _squeeze(done.stdout + "\n" + done.stderr)
        missing = [line for line in step.excerpt if not _printed(line, printed)]
        assert not missing, f"not printed: {missing}\n{shown}"
    # Sandbox login wrote the Docker config and ran nothing that could reach a registry.
    assert not (tmp_path / "docker-calls").exists(), (tmp_path / "docker-calls").read_text()
    config = (tmp_path / "home" / ".docker" / "config.json").read_text()
    assert "123456789012.dkr.ecr.af-south-1.amazonaws.com" in config
