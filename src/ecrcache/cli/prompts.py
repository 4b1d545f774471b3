"""Questions on the terminal, written to stderr and read by hand from stdin.

Not click's prompt: with ``err=True`` it still echoes a space to stdout, and shows ``[]`` for
an empty default; stdout holds a command's result and nothing else (the envelope under -o json).
"""

from __future__ import annotations

import sys


def ask_line(question: str) -> str | None:
    """Write ``question`` to stderr and read one line: the line without its newline, or None
    when standard input has ended."""
    sys.stderr.write(question)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        sys.stderr.write("\n")  # the next message starts on its own line
        return None
    return line.rstrip("\r\n")


def ask_text(question: str, *, default: str | None = None) -> str | None:
    """``question [default]: ``; an empty answer is the default. None when stdin has ended."""
    shown = f" [{default}]" if default else ""
    answer = ask_line(f"{question}{shown}: ")
    if answer is None:
        return None
    return answer.strip() or (default or "")


_YES = {"y": True, "yes": True, "n": False, "no": False}


def ask_yes(question: str, *, default: bool) -> bool | None:
    """``question [Y/n]: `` until the answer is y, yes, n, no or empty (the default), as
    click's confirm does. None when stdin has ended."""
    choices = "[Y/n]" if default else "[y/N]"
    while True:
        answer = ask_line(f"{question} {choices}: ")
        if answer is None:
            return None
        answer = answer.strip().lower()
        if not answer:
            return default
        if answer in _YES:
            return _YES[answer]
        sys.stderr.write("Error: invalid input\n")
