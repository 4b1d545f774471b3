"""Across [targets], one progress line per target on stderr on a terminal, and nothing extra
when stderr is not one. A real process: its stderr a pseudo-terminal, or a pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from test_targets_cli import CONFIG, state  # noqa: F401 - the fixture: the targets' roles

from serve_support import serve_env

pytestmark = pytest.mark.usefixtures("state")

NAMES = ("dev", "stage", "prod/eu-west-1", "prod/us-east-1")
NOTE = "sandbox: simulated AWS accounts; nothing leaves this machine"


def _stderr(tmp_path: Path, state_path: Path, *args: str, terminal: bool) -> str:
    config = tmp_path / "ecrcache.toml"
    config.write_text(CONFIG)
    command = [sys.executable, "-m", "ecrcache", "--sandbox", *args, "-c", str(config)]
    env = serve_env(state_path, {"COLUMNS": "100", "TERM": "xterm", "TOK": "dckr_pat_x0123456789"})
    env.pop("FORCE_COLOR", None)
    if not terminal:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode in (0, 2), done.stderr
        return done.stderr
    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
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
    assert proc.wait(timeout=300) in (0, 2)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("command", [("plan",), ("status",)])
def test_a_line_per_target_on_a_terminal(
    command: tuple[str, ...],
    tmp_path: Path,
    state: Path,  # noqa: F811
) -> None:
    err = _stderr(tmp_path, state, *command, terminal=True)
    states = "planning|planned|failed" if command == ("plan",) else "status|done|failed"
    assert "\x1b[" in err  # drawn (and redrawn) in place
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err)
    for name in NAMES:  # the line: the target's name, padded, then its state
        assert re.search(rf"{re.escape(name)} +({states})", text), text[-2000:]


@pytest.mark.parametrize("command", [("plan",), ("status",), ("apply", "--yes")])
def test_nothing_extra_when_stderr_is_not_a_terminal(
    command: tuple[str, ...],
    tmp_path: Path,
    state: Path,  # noqa: F811
) -> None:
    err = _stderr(tmp_path, state, *command, terminal=False)
    assert "\x1b[" not in err and "\r" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[0].startswith(NOTE)
    # no state words of the lines: what is left is what the command itself says
    for word in ("planning", "applying", "waiting", "planned"):
        assert word not in err, err
