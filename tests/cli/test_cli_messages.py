"""Issue 15 item 4: colour and messages. ``--no-color`` (and NO_COLOR) leave no escape sequence
on stdout or stderr, even where FORCE_COLOR or a terminal would call for one; a message quotes
the user's input once, whatever the input holds."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import cli

ROOT = Path(__file__).resolve().parents[2]
ESC = "\x1b"

CONFIG = """\
version = 1
region = "af-south-1"

[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/docker-hub"
username = "acme-ci"
token = { env = "DOCKERHUB_TOKEN" }

[rules.quay]
upstream = "quay"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG)
    return path


# Each command writes styled text on stdout or stderr: a plan, warnings, errors, hints, a table.
STYLED = [
    ("--sandbox", "plan"),
    ("--sandbox", "status"),
    ("--sandbox", "doctor"),
    ("--sandbox", "rewrite", "Nginx:1"),  # an error line and its hint
    ("--sandbox", "plan", "--bogus"),  # a usage error
    ("validate", "--config", "/nonexistent/ecrcache.toml"),
]


@pytest.mark.parametrize("args", STYLED, ids=" ".join)
def test_no_color_leaves_no_escape_on_either_stream_under_force_color(
    args: tuple[str, ...],
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then styles a pipe as a terminal
    monkeypatch.delenv("NO_COLOR", raising=False)
    argv = ("-c", str(config), *args) if "--config" not in args else args
    _, out, err = cli(capsys, *argv, "--no-color")
    assert ESC not in out and ESC not in err, (out + err)[:400]


def test_the_same_commands_are_styled_without_no_color(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: without --no-color, FORCE_COLOR styles the error line."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, _, err = cli(capsys, "-c", str(config), "--sandbox", "rewrite", "Nginx:1")
    assert ESC in err


def test_no_color_env_is_the_same_as_the_flag(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, err = cli(capsys, "-c", str(config), "--sandbox", "plan")
    assert "Plan:" in out
    assert ESC not in out and ESC not in err


def test_no_color_does_not_outlive_its_run(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    cli(capsys, "-c", str(config), "--sandbox", "--no-color", "rewrite", "Nginx:1")
    _, _, err = cli(capsys, "-c", str(config), "--sandbox", "rewrite", "Nginx:1")
    assert ESC in err


def _run_on_a_terminal(argv: list[str], env: dict[str, str]) -> str:
    """Run ``python -m ecrcache ARGV`` with stdout and stderr on a pseudo-terminal; all it wrote."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecrcache", *argv],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=env,
        close_fds=True,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_on_a_real_terminal_no_color_writes_plain_text(config: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "120", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    argv = ["-c", str(config), "--sandbox", "plan"]
    styled = _run_on_a_terminal(argv, env)
    assert ESC in styled  # the terminal is one rich styles: the check below can fail
    plain = _run_on_a_terminal([*argv, "--no-color"], env)
    assert "Plan:" in plain
    assert ESC not in plain, repr(plain[:300])


# --- quoting ------------------------------------------------------------------------------------

NASTY = [
    "image: nginx",
    "it's: nginx",
    'say "hi": now',
    "a: b: c",
    "'quoted'",
    '"double"',
    "[bold]markup[/]",
    "tab\there",
    "nul\x01byte",
    "Upper: Case",
    "ünï: cødé",
]


def _error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("command", ["rewrite", "test-pull", "warm"])
@pytest.mark.parametrize("text", NASTY)
def test_a_bad_reference_is_quoted_once_and_whole(
    command: str, text: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "-c", str(config), "--sandbox", command, text)
    assert code == 2
    line = _error_line(err)
    quoted = repr(text)
    # The input appears once, quoted once, and the reason after it is the parser's alone.
    assert line.count(quoted) == 1, line
    reason = line.split(quoted, 1)[1]
    assert re.fullmatch(r": [a-z][^'\"]*", reason), line


@pytest.mark.parametrize(
    "key", ["a: b", "it's", 'say "hi"', "team.app", "x y"], ids=["colon", "apos", "dq", "dot", "sp"]
)
def test_a_config_key_is_named_as_toml_writes_it(
    key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A table name with dots, quotes or ': ' is named in TOML's quoting, so the reader can
    tell where the key ends and paste it back."""
    import json
    import tomllib

    quoted = json.dumps(key)
    path = tmp_path / "c.toml"
    path.write_text(
        f'version = 1\nregion = "af-south-1"\n[rules.quay]\nupstream = "quay"\n'
        f"[templates.{quoted}]\nbogus = 1\n"
    )
    code, _, err = cli(capsys, "-c", str(path), "validate")
    assert code == 2
    assert f"templates.{quoted}.bogus" in err, err
    # What the message names is a key path TOML reads back to the same key.
    assert list(tomllib.loads(f"templates.{quoted} = 1")["templates"]) == [key]
