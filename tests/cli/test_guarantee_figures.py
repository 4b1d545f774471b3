"""The README's "What ecrcache guarantees" quotes the figures the suites really run."""

from __future__ import annotations

import re
from pathlib import Path

from test_canary import CANARY_RUNS, SOURCES
from test_hostile_properties import CASES, HOSTILE_CASES_TOTAL
from test_interrupt_proof import (
    SANDBOX_SIGINT_POINTS,
    SANDBOX_SIGKILL_POINTS,
    SERVER_SIGINT_POINTS,
    SERVER_SIGKILL_POINTS,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def _section() -> str:
    text = README.read_text()
    start = text.index("## What ecrcache guarantees")
    return " ".join(text[start : text.index("\n## ", start + 1)].split())


def test_canary_figures_match_the_suite() -> None:
    section = _section()
    assert f"*Canary suite* (`tests/cli/test_canary.py`): {CANARY_RUNS} runs" in section
    assert f"each of the {len(SOURCES)} sources" in section


def test_property_figures_match_the_suite() -> None:
    section = _section()
    assert f"{HOSTILE_CASES_TOTAL} generated inputs per run" in section
    quoted = dict(
        (kind, int(n))
        for n, kind in re.findall(
            r"(\d+) (config documents|config texts|image references|"
            r"YAML files|Compose files|Dockerfiles|Docker config files|option values)",
            section,
        )
    )
    assert sorted(quoted.values()) == sorted(CASES.values())
    assert sum(quoted.values()) == HOSTILE_CASES_TOTAL


def test_interrupt_figures_match_the_suite() -> None:
    section = _section()
    server = SERVER_SIGINT_POINTS + SERVER_SIGKILL_POINTS
    sandbox = SANDBOX_SIGINT_POINTS + SANDBOX_SIGKILL_POINTS
    assert f"{server + sandbox} random points per run" in section
    assert f"{server} of an apply against `ecrcache sandbox serve`" in section
    assert f"({SERVER_SIGINT_POINTS} SIGINT, {SERVER_SIGKILL_POINTS} SIGKILL)" in section
    assert f"{sandbox} of a `--sandbox` apply" in section
    assert f"({SANDBOX_SIGINT_POINTS} SIGINT, {SANDBOX_SIGKILL_POINTS} SIGKILL)" in section
