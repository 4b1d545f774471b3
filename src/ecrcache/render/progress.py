"""The progress bar of plan's per-repository reads (rich), on stderr, only on a terminal.

A plan reads most resources in pages; what it reads one repository at a time (backfilled and
application repositories) can run to thousands. The bar appears only when a stage has more
items than the terminal has lines (a screenful), so a small plan prints exactly what it did.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from ecrcache.render.console import err_console, live_display

ReadProgress = Callable[[str, int, int], None]  # (what, done, total), as reconcile.bounded


@contextmanager
def read_progress(*, enabled: bool = True) -> Iterator[ReadProgress]:
    """Yields the callback plan's reads report to; a bar per stage longer than a screenful."""
    c = err_console()
    if not enabled or not c.is_terminal:
        yield lambda what, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    screenful = max(c.size.height, 1)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=c,
        transient=True,
    )
    tasks: dict[str, Any] = {}
    lock = threading.Lock()
    with ExitStack() as shown:

        def on_progress(what: str, done: int, total: int) -> None:
            if total <= screenful:
                return
            with lock:
                if not tasks:  # the first bar: only now does the display take the terminal
                    shown.enter_context(live_display())
                    shown.enter_context(progress)
                if what not in tasks:
                    tasks[what] = progress.add_task(what, total=total)
            progress.update(tasks[what], completed=done, total=total)

        yield on_progress
