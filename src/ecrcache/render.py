"""Everything the user sees in a terminal. The only module beside cli/ that imports rich.

Renderers take a file-like ``out`` so tests can render into a string. Machine output (JSON,
tokens, rewritten text) never goes through rich: it wraps lines.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from rich.console import Console


def _color_allowed(no_color: bool) -> bool:
    return not no_color and not os.environ.get("NO_COLOR")


def console(out: TextIO | None = None, *, no_color: bool = False) -> Console:
    """A rich console on ``out`` (default stdout) that honours --no-color and NO_COLOR."""
    return Console(
        file=out if out is not None else sys.stdout,
        no_color=not _color_allowed(no_color),
        highlight=False,
        soft_wrap=True,
    )


def err_console(*, no_color: bool = False) -> Console:
    return console(sys.stderr, no_color=no_color)


def error_line(message: str, hint: str | None = None) -> None:
    """One line on stderr, and a hint on the next: the only way a failure reaches the user."""
    c = err_console()
    c.print(f"[bold red]Error:[/] {_escape(message)}")
    if hint:
        c.print(f"[dim]Hint:[/] {_escape(hint)}")


def warn(message: str) -> None:
    err_console().print(f"[yellow]Warning:[/] {_escape(message)}")


def note(message: str) -> None:
    err_console().print(f"[dim]{_escape(message)}[/]")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
