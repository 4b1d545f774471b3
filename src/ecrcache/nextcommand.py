"""A next command named in a hint works when pasted: in the sandbox it carries ``--sandbox``.

Hints are written deep in the code (config loading, apply, login, the AWS error translation)
that does not know how the user ran ecrcache. Each names a command in backquotes
(`` `ecrcache plan -c FILE` ``); ``for_run`` adds ``--sandbox`` to every one that talks to AWS,
once, when this run is in the sandbox. The CLI sets the run's mode (``set_sandbox_for_run``)
before click parses, and the console and the JSON envelope pass hints, warnings and notes
through it. doctor builds its fix commands whole (doctor/fixes.py) with the same flag.
"""

from __future__ import annotations

import re

# Commands that never call AWS: --sandbox would change nothing (and `sandbox` is its own thing)
_OFFLINE = frozenset({"sandbox", "init", "validate", "export", "node-config"})
_COMMAND = re.compile(r"`ecrcache((?: [^`]*)?)`")

_sandbox_for_run = False


def set_sandbox_for_run(sandbox: bool) -> None:
    global _sandbox_for_run
    _sandbox_for_run = sandbox


def in_sandbox() -> bool:
    return _sandbox_for_run


def for_run(text: str) -> str:
    """``text`` with ``--sandbox`` in each backquoted ecrcache command, in a sandbox run."""
    return with_sandbox(text) if _sandbox_for_run else text


def with_sandbox(text: str) -> str:
    """``text`` with ``--sandbox`` after ``ecrcache`` in each backquoted command that calls AWS
    and does not have it yet."""

    def add(m: re.Match[str]) -> str:
        args = m.group(1).split()
        words = [a for a in args if not a.startswith("-")]
        if "--sandbox" in args or (words and words[0] in _OFFLINE):
            return m.group(0)
        return f"`ecrcache --sandbox{m.group(1)}`"

    return _COMMAND.sub(add, text)
