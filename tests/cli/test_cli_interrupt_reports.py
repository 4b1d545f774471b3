"""Ctrl-C always says what was done (issue 15 item 4), for every long command: a SIGINT raised
in-process, as a real Ctrl-C runs its handler, either at an AWS call (through ``aws``'s call
observers: the command is mid-way through its reads) or right after the first change the
command reports made (the run's ledger, ``interrupts.record_applied``)."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli

from ecrcache import aws, interrupts

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config.example.toml"


@pytest.fixture
def applied(capsys: pytest.CaptureFixture[str]) -> Path:
    code, _, err = cli(capsys, "--sandbox", "-c", str(CONFIG), "apply", "--yes")
    assert code == 0, err
    return CONFIG


def interrupt_at_call(monkeypatch: pytest.MonkeyPatch, operation: str | None = None) -> list[str]:
    """SIGINT at the first AWS call of ``operation`` (any, if None); returns the calls seen."""
    seen: list[str] = []

    def observer(clients: Any, service: str, op: str, params: dict[str, Any]) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # the handler runs in the main thread: interrupt where it is, at a call
        name = f"{service}.{op}"
        seen.append(name)
        first = len(seen) == 1 if operation is None else seen.count(operation) == 1
        if first and (operation is None or name == operation):
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(aws, "CALL_OBSERVERS", [*aws.CALL_OBSERVERS, observer])
    return seen


def interrupt_after_first_change(monkeypatch: pytest.MonkeyPatch) -> None:
    real = interrupts.record_applied

    def record(change: str) -> None:
        real(change)
        if len(interrupts.applied()) == 1:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(interrupts, "record_applied", record)


READS = [
    (("plan",), "ecr.DescribeRepositoryCreationTemplates"),
    (("status",), None),
    (("cost-report",), None),
    (("doctor",), None),
    (("outputs",), None),
]


@pytest.mark.usefixtures("applied")
@pytest.mark.parametrize(("args", "operation"), READS, ids=[a[0][0] for a in READS])
def test_a_command_that_only_reads_says_nothing_was_changed(
    args: tuple[str, ...],
    operation: str | None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = interrupt_at_call(monkeypatch, operation)
    code, _, err = cli(capsys, "--sandbox", "-c", str(CONFIG), *args)
    assert seen, f"{args[0]} made no AWS call to interrupt"
    assert code == 130, err
    assert f"Error: {args[0]} interrupted" in err
    assert f"Hint: nothing was changed: {args[0]} only reads" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("applied")
def test_import_says_nothing_was_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt_at_call(monkeypatch, "ecr.DescribeRepositoryCreationTemplates")
    out_file = tmp_path / "imported.toml"
    code, _, err = cli(
        capsys, "--sandbox", "import", "--region", "af-south-1", "--out", str(out_file)
    )
    assert code == 130, err
    assert "Hint: nothing was written" in err
    assert not out_file.exists()


@pytest.mark.usefixtures("applied")
def test_warm_lists_the_images_it_cached_before_it_stopped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt_after_first_change(monkeypatch)
    images = ("quay.io/prometheus/node-exporter:v1.8.0", "quay.io/prometheus/prometheus:v2.53.0")
    code, _, err = cli(
        capsys, "--sandbox", "-c", str(CONFIG), "warm", "--concurrency", "1", *images
    )
    assert code == 130, err
    hint = next(line for line in err.splitlines() if line.startswith("Hint:"))
    assert hint.startswith("Hint: done before it stopped: cached quay.io/prometheus/")
    assert hint.endswith("Run warm again: what is cached now is not pulled again")


@pytest.mark.usefixtures("applied")
def test_test_pull_says_which_pull_was_made_and_json_lists_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt_after_first_change(monkeypatch)
    code, out, err = cli(
        capsys, "--sandbox", "-c", str(CONFIG), "-o", "json", "test-pull", "nginx:1.27"
    )
    assert code == 130, err
    error = json.loads(out)["error"]
    cache = "123456789012.dkr.ecr.af-south-1.amazonaws.com/docker-hub/library/nginx:1.27"
    assert error["applied"] == [f"simulated pull of {cache}"]
    assert error["hint"].startswith(f"done before it stopped: simulated pull of {cache}")


def test_apply_keeps_its_words(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted before its first change, apply still says it applied nothing."""
    interrupt_at_call(monkeypatch, "ecr.DescribePullThroughCacheRules")
    code, _, err = cli(capsys, "--sandbox", "-c", str(CONFIG), "apply", "--yes")
    assert code == 130
    assert "applied before it stopped: nothing. Run apply again" in " ".join(err.split())
