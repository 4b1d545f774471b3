"""Ctrl-C at the places where it used to go wrong, each made to land there on purpose.

In-process, a SIGINT is raised (``signal.raise_signal``) from inside the step where it must land:
Python runs the handler at once, as it does for a real Ctrl-C. Start-up and interpreter exit need
a real process; there the signal comes from outside (start-up) or from an ``atexit`` hook.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli

import ecrcache.render.console as console
import ecrcache.sandbox.statefile as statefile
from serve_support import SRC

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config.example.toml"
APPLY = ("--sandbox", "apply", "-c", str(CONFIG), "--yes")
CHANGES = 13  # what config.example.toml makes in an empty sandbox


@pytest.fixture
def patch() -> Iterator[pytest.MonkeyPatch]:
    """A MonkeyPatch of its own: ``patch.undo()`` lifts the interruption and nothing else
    (``monkeypatch.undo()`` would also drop aws_env's private sandbox state)."""
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _interrupt_on(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, *, when: Callable[[], bool]
) -> None:
    """Make ``owner.name`` raise SIGINT in this process before it runs, when ``when()``."""
    original = getattr(owner, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if when():
            signal.raise_signal(signal.SIGINT)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapped)


def _on_done_event(monkeypatch: pytest.MonkeyPatch, nth: int) -> None:
    """SIGINT in apply's progress callback, as the ``nth`` change is reported done: between
    two changes, outside every handler."""
    real = console.apply_progress

    @contextlib.contextmanager
    def progress(total: int, *, enabled: bool = True) -> Iterator[Callable[[str, Any], None]]:
        with real(total, enabled=enabled) as on_event:
            seen = [0]

            def interrupting(event: str, change: Any) -> None:
                on_event(event, change)
                if event == "done":
                    seen[0] += 1
                    if seen[0] == nth:
                        signal.raise_signal(signal.SIGINT)

            yield interrupting

    monkeypatch.setattr(console, "apply_progress", progress)


def _listed(err: str) -> int:
    """How many changes the hint says were applied."""
    listed = err.split("applied before it stopped: ", 1)[1].split(". Run apply again", 1)[0]
    if listed == "nothing":
        return 0
    counted = re.match(r"(\d+) changes \(", listed)  # beyond ten, apply counts them by kind
    return int(counted.group(1)) if counted else len(listed.split(", "))


def _plan_is_empty(capsys: pytest.CaptureFixture[str]) -> bool:
    code, _, err = cli(capsys, "--sandbox", "plan", "-c", str(CONFIG), "--detailed-exitcode")
    assert code in (0, 2), err
    return code == 0


@pytest.mark.parametrize("nth", [1, 5, CHANGES])
def test_sigint_between_changes_lists_what_was_applied(
    nth: int, patch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _on_done_event(patch, nth)
    code, _, err = cli(capsys, *APPLY)
    assert code == 130, err
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith("Error: apply interrupted"), err
    assert _listed(err) == nth and "Traceback" not in err
    patch.undo()
    assert _plan_is_empty(capsys) == (nth == CHANGES)


def test_sigint_after_the_last_change_gives_the_envelope_with_every_change(
    patch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ecrcache.cli.apply as apply_cli

    _interrupt_on(patch, apply_cli, "emit_json", when=lambda: True)
    code, out, err = cli(capsys, *APPLY, "-o", "json")
    assert code == 130, err
    doc = json.loads(out)  # one envelope, the error one
    assert doc["ok"] is False and doc["command"] == "apply"
    assert doc["error"]["code"] == "interrupted" and doc["error"]["exit_code"] == 130
    assert len(doc["error"]["applied"]) == CHANGES
    assert "create rule.docker-hub" in doc["error"]["applied"]
    patch.undo()
    assert _plan_is_empty(capsys)


@pytest.mark.parametrize("nth_save", [1, 7, CHANGES + 1])
def test_sigint_while_the_sandbox_saves_keeps_every_change_shown_done(
    nth_save: int, aws_env: Path, patch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The state is saved after each change, before it is shown done, and once more at the end.
    saves = [0]

    def that_save() -> bool:
        saves[0] += 1
        return saves[0] == nth_save

    _interrupt_on(patch, statefile, "encode", when=that_save)
    code, _, apply_err = cli(capsys, *APPLY)
    assert code == 130, apply_err
    made = min(nth_save, CHANGES)
    # Shown done: what was saved (the change whose save was interrupted is not shown done)...
    assert apply_err.count(": done") == (made if nth_save > CHANGES else made - 1)
    patch.undo()
    assert statefile.read(aws_env) is not None  # ...the state holding them was saved...
    code, out, err = cli(capsys, "--sandbox", "plan", "-c", str(CONFIG), "-o", "json")
    assert code == 0, err
    assert len(json.loads(out)["data"]["changes"]) == CHANGES - made
    assert _listed(apply_err) == made  # ...and they are reported applied


def test_sigint_in_plan_is_one_line_and_the_json_envelope(
    patch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ecrcache.cli.plan as plan_cli

    _interrupt_on(patch, plan_cli, "load", when=lambda: True)
    code, out, err = cli(capsys, "--sandbox", "plan", "-c", str(CONFIG), "-o", "json")
    assert code == 130, err
    doc = json.loads(out)
    assert doc["error"]["code"] == "interrupted" and doc["error"]["applied"] == []
    assert [line for line in err.splitlines() if line.startswith("Error:")] == [
        "Error: plan interrupted"
    ]


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


# The child says "go" once the interpreter is up (its site import done), then runs ecrcache's
# __main__ as `python -m ecrcache` does: the signal lands in ecrcache's own start-up.
_AFTER_GO = (
    "import runpy, sys; print('go', flush=True); sys.argv[0] = 'ecrcache'; "
    "runpy.run_module('ecrcache', run_name='__main__', alter_sys=True)"
)


@pytest.mark.parametrize("as_json", [False, True])
def test_sigint_during_start_up_is_one_line_not_a_traceback(as_json: bool) -> None:
    endings: list[int] = []
    # From 20 ms: before that the signal may land in runpy's lookup of the module (well under
    # a millisecond), which comes before ecrcache's first line and is Python's own.
    for delay in (0.02, 0.035, 0.05, 0.1, 0.2, 0.3, 0.4):
        args = ["--sandbox", "plan", "-c", str(CONFIG)] + (["-o", "json"] if as_json else [])
        proc = subprocess.Popen(
            [sys.executable, "-c", _AFTER_GO, *args],
            env=_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline() == "go\n"
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, (delay, err)
        assert proc.returncode == 130, (delay, proc.returncode, err)
        errors = [line for line in err.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and "interrupted" in errors[0], (delay, err)
        if as_json:
            assert json.loads(out)["error"]["code"] == "interrupted", (delay, out)
        endings.append(proc.returncode)
    assert endings == [130] * 7


def test_sigint_while_the_interpreter_exits_does_not_kill_or_trace() -> None:
    # An atexit hook runs during the interpreter's shutdown, after ecrcache has finished: the
    # SIGINT lands there, as a Ctrl-C just after the last write does.
    code = (
        "import atexit, os, runpy, signal, sys, time\n"
        "atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.2)))\n"
        "sys.argv = ['ecrcache', '--version']\n"
        "runpy.run_module('ecrcache', run_name='__main__', alter_sys=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=120
    )
    assert done.stdout.startswith("ecrcache "), done.stdout
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr, done.stderr
    assert done.returncode == 0  # the run had finished: its result stands


def test_a_ctrl_c_python_wraps_in_another_error_is_still_an_interrupt() -> None:
    """Python 3.11 turns a KeyboardInterrupt raised in ``__set_name__`` (pydantic building a
    model while ecrcache imports its config) into a RuntimeError: found by the start-up test."""
    from ecrcache.cli.app import _from_interrupt

    class Descriptor:
        def __set_name__(self, owner: type, name: str) -> None:
            raise KeyboardInterrupt

    try:
        type("Model", (), {"field": Descriptor()})
    except RuntimeError as exc:
        wrapped: BaseException = exc
    else:  # pragma: no cover - an interpreter that does not wrap it
        pytest.skip("this Python does not wrap exceptions from __set_name__")
    assert _from_interrupt(wrapped)
    assert not _from_interrupt(RuntimeError("no"))


def test_an_error_a_ctrl_c_caused_without_a_chain_is_still_an_interrupt(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # pydantic-core turns a KeyboardInterrupt inside schema building into a SchemaError that
    # keeps no __cause__ (seen under load in test_sigint_during_start_up_...): the run got a
    # SIGINT, so the error it ends in is reported as the interrupt, exit 130, not "internal".
    import ecrcache.config.loading as loading
    from ecrcache import interrupts

    def interrupted_while_building(_path: object) -> None:
        interrupts._state.received = True  # what the SIGINT handler records
        raise RuntimeError("SchemaError: KeyboardInterrupt")  # no chain, as pydantic-core's

    monkeypatch.setattr(loading, "load_config", interrupted_while_building)
    code, out, err = cli(capsys, "--sandbox", "-o", "json", "plan", "-c", str(CONFIG))
    assert code == 130, err
    assert json.loads(out)["error"]["code"] == "interrupted"
    assert "internal" not in err
