"""Ctrl-C during apply across [targets], on the sandbox: the interrupt names the target it
landed in, and the ledger (the hint, the envelope's ``applied``) names the target of each change
made, as a SIGINT raised in this process at a chosen change (tests/cli/test_interrupts.py's
approach)."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import cli
from test_targets_cli import _config, state  # noqa: F401 - the fixture: the targets' roles

import ecrcache.interrupts as interrupts

pytestmark = pytest.mark.usefixtures("state")

DEV_CHANGES = 3  # dev: rule quay, templates ROOT and quay


@pytest.fixture
def patch() -> Iterator[pytest.MonkeyPatch]:
    """A MonkeyPatch of its own: ``patch.undo()`` lifts the interruption and nothing else
    (``monkeypatch.undo()`` would also drop aws_env's private sandbox state)."""
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _interrupt_at(monkeypatch: pytest.MonkeyPatch, nth: int) -> None:
    """SIGINT just after the ``nth`` change of the run is recorded made: between two changes."""
    real = interrupts.record_applied
    count = [0]

    def record(change: str) -> None:
        real(change)
        count[0] += 1
        if count[0] == nth:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(interrupts, "record_applied", record)


def _apply(capsys: pytest.CaptureFixture[str], cfg: str, *extra: str) -> tuple[int, str, str]:
    return cli(capsys, "--sandbox", "apply", "-c", cfg, "--yes", *extra)


def test_sigint_in_the_second_target_names_it_and_each_change_s_target(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    patch: pytest.MonkeyPatch,
) -> None:
    cfg = _config(tmp_path)
    _interrupt_at(patch, DEV_CHANGES + 1)  # the first change of stage
    code, out, err = _apply(capsys, cfg, "-o", "json")
    assert code == 130, err
    doc = json.loads(out)
    assert doc["error"]["code"] == "interrupted"
    assert doc["error"]["message"].startswith("stage: apply interrupted after ")
    applied = doc["error"]["applied"]
    assert len(applied) == DEV_CHANGES + 1
    assert [a.split(": ", 1)[0] for a in applied] == ["dev"] * DEV_CHANGES + ["stage"]
    assert "dev: create rule.quay" in applied
    assert "Run apply again" in doc["error"]["hint"] and "stage: " in doc["error"]["hint"]
    # Ctrl-C stopped the run: prod was not started.
    patch.undo()
    code, out, err = cli(capsys, "--sandbox", "plan", "-c", cfg, "-o", "json")
    assert code == 0, err
    left = {t["target"]: len(t["data"]["changes"]) for t in json.loads(out)["data"]["targets"]}
    assert left["dev"] == 0 and left["stage"] >= 1
    assert left["prod/eu-west-1"] >= 1 and left["prod/us-east-1"] >= 1


def test_the_interrupt_line_and_hint_on_stderr_name_the_targets(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    patch: pytest.MonkeyPatch,
) -> None:
    cfg = _config(tmp_path)
    _interrupt_at(patch, 2)
    code, _, err = _apply(capsys, cfg)
    assert code == 130, err
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith("Error: dev: apply interrupted after "), err
    (hint,) = [line for line in err.splitlines() if line.startswith("Hint:")]
    assert hint.count("dev: create ") == 2 and "Traceback" not in err
