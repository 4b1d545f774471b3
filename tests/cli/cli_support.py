"""Running the CLI in-process from tests."""

from __future__ import annotations

import pytest

from ecrcache.cli.app import run


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``ecrcache ARGS``; return (exit code, stdout, stderr)."""
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err
