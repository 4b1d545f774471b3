"""The sandbox's own state file: it is a pickle (loading it runs code it names), so it is loaded
only when it is the user's own and writable by no one else; ``sandbox reset`` takes the same
lock as every other command."""

from __future__ import annotations

import fcntl
import os
import pickle
from pathlib import Path

import pytest
from cli_support import cli

import ecrcache.sandbox.runtime as runtime
from ecrcache.sandbox import statefile
from file_support import NOBODY, ROOT

CONFIG = Path(__file__).resolve().parents[2] / "config.example.toml"
PLAN = ("--sandbox", "plan", "-c", str(CONFIG))


class _RunsCode:
    """What a hostile state file holds: unpickling it calls ``Path.touch`` on a marker."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path(self.marker).touch, ())  # type: ignore[return-value]


def _hostile_state(path: Path, marker: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(statefile.MAGIC + pickle.dumps(_RunsCode(marker)))


def _saved_state(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "--sandbox", "apply", "-c", str(CONFIG), "--yes")
    assert code == 0, err


def test_a_state_file_others_may_write_is_not_loaded(
    aws_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "code-ran"
    _hostile_state(aws_env, marker)
    aws_env.chmod(0o666)
    before = aws_env.read_bytes()
    code, _, err = cli(capsys, *PLAN)
    assert code == 1, err
    assert not marker.exists()  # nothing in it ran
    assert f"Error: refusing to load the sandbox state {aws_env}: others may write it" in err
    assert f"chmod 600 {aws_env}" in err and "ecrcache sandbox reset" in err
    assert aws_env.read_bytes() == before  # and it was left as it was


def test_a_state_file_of_the_group_writable_kind_is_refused_too(
    aws_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _saved_state(capsys)
    aws_env.chmod(0o620)
    code, _, err = cli(capsys, *PLAN)
    assert code == 1 and "others may write it (mode 0620)" in err, err
    aws_env.chmod(0o600)  # the fix the hint gives
    code, _, err = cli(capsys, *PLAN, "--detailed-exitcode")
    assert code == 0, err


@pytest.mark.skipif(not ROOT, reason="only root may give a file to another user")
def test_a_state_file_of_another_user_is_not_loaded(
    aws_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "code-ran"
    _hostile_state(aws_env, marker)
    aws_env.chmod(0o600)
    os.chown(aws_env, NOBODY, NOBODY)
    code, _, err = cli(capsys, *PLAN)
    assert code == 1, err
    assert not marker.exists()
    assert f"it belongs to uid {NOBODY}, not to you (uid 0)" in err
    assert f"chown 0 {aws_env}" in err


def test_reset_waits_for_the_lock_every_command_takes(
    aws_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _saved_state(capsys)
    monkeypatch.setattr(runtime, "_LOCK_TIMEOUT_S", 0.3)
    fd = os.open(runtime.lock_path(aws_env), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a --sandbox run in progress holds it
        code, _, err = cli(capsys, "sandbox", "reset")
        assert code == 1, err
        assert "in use by another ecrcache process" in err
        assert aws_env.exists()  # not deleted under the running command
    finally:
        os.close(fd)
    code, _, err = cli(capsys, "sandbox", "reset")
    assert code == 0 and not aws_env.exists(), err
