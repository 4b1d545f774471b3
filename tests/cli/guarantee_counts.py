"""What the guarantee suites tried in this run (canary runs, generated hostile inputs), printed
at the end of the session by tests/cli/conftest.py; README "What ecrcache guarantees" quotes it."""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()
