"""plan shows a progress bar for per-repository reads longer than a screenful, on stderr, only on
a terminal (issue 14, item 3). A real process whose stderr is a pseudo-terminal of 10 rows."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import boto3

from ecrcache.sandbox import statefile
from ecrcache.sandbox.pulls import simulate_pull
from ecrcache.sandbox.runtime import SANDBOX_ACCOUNT_ID
from serve_support import serve_env

REGION = "us-east-1"
CONFIG = f"""
region = "{REGION}"
[rules.quay]
upstream = "quay"
[templates.quay]
lifecycle = {{ keep_last = 5 }}
backfill = true
"""
LABEL = "reading backfilled repositories"


def seeded_state(aws: boto3.session.Session, path: Path, repositories: int) -> None:
    """40 cache repositories and the rule, saved as the --sandbox state the process loads."""
    ecr = aws.client("ecr", region_name=REGION)
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io", upstreamRegistry="quay"
    )
    for i in range(repositories):
        simulate_pull(
            account_id=SANDBOX_ACCOUNT_ID, region=REGION, repository=f"quay/o/i{i:02d}", tag="1"
        )
    statefile.write(path, statefile.snapshot())


def plan_stderr(tmp_path: Path, state: Path, *, terminal: bool) -> str:
    config = tmp_path / "ecrcache.toml"
    config.write_text(CONFIG)
    command = [sys.executable, "-m", "ecrcache", "--sandbox", "plan", "-c", str(config)]
    env = serve_env(state, {"COLUMNS": "100", "TERM": "xterm"})
    if not terminal:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        return done.stderr
    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 10, 100, 0, 0))  # 10 rows
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=side)
    os.close(side)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the process closed its side
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_long_read_shows_a_bar_on_a_terminal_only(
    aws: boto3.session.Session, tmp_path: Path, aws_env: Path
) -> None:
    seeded_state(aws, aws_env, 40)  # more than the terminal's 10 rows
    assert LABEL in plan_stderr(tmp_path, aws_env, terminal=True)
    assert LABEL not in plan_stderr(tmp_path, aws_env, terminal=False)


def test_a_read_that_fits_a_screen_shows_no_bar(
    aws: boto3.session.Session, tmp_path: Path, aws_env: Path
) -> None:
    seeded_state(aws, aws_env, 5)
    assert LABEL not in plan_stderr(tmp_path, aws_env, terminal=True)
