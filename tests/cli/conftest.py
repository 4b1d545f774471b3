"""Prints what the guarantee suites tried (tests/cli/guarantee_counts.py)."""

from __future__ import annotations

import pytest
from guarantee_counts import COUNTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not COUNTS:
        return
    canary = sum(n for k, n in COUNTS.items() if k.startswith("canary:"))
    hostile = sum(n for k, n in COUNTS.items() if k.startswith("hostile:"))
    terminalreporter.write_line(
        f"guarantees: {canary} canary runs checked, {hostile} generated hostile inputs in "
        f"{COUNTS['runs:hostile']} runs (exit 0 only if valid, else 1 or 2; no traceback; "
        "no file changed)"
    )
    for key in sorted(COUNTS):
        terminalreporter.write_line(f"  {key}: {COUNTS[key]}")
