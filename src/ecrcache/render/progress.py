"""Progress on stderr, only on a terminal (rich): plan's per-repository reads, and one line per
target while a command runs across [targets].

A plan reads most resources in pages; what it reads one repository at a time (backfilled and
application repositories) can run to thousands. The bar appears only when a stage has more
items than the terminal has lines (a screenful), so a small plan prints exactly what it did.

Across targets each target's output is captured (cli.targets: a worker is no terminal), so its
own bars cannot be drawn; ``target_lines`` draws one line per target instead (its state, and
its reads' counts: ``read_progress`` in a target's thread reports to its line).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from ecrcache.render.console import err_console, live_display

ReadProgress = Callable[[str, int, int], None]  # (what, done, total), as reconcile.bounded


@contextmanager
def read_progress(*, enabled: bool = True) -> Iterator[ReadProgress]:
    """Yields the callback plan's reads report to; a bar per stage longer than a screenful.
    In a target's thread under ``target_lines``: that target's line."""
    line = getattr(_line, "report", None)
    if enabled and line is not None:
        yield line
        return
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


_line = threading.local()  # the ReadProgress of the target whose work runs in this thread


class TargetLines:
    """One line per target: ``running(name, state)`` around a target's work (its reads report
    to its line), ``finish(name, state)`` after. Thread-safe (rich's Progress locks)."""

    def __init__(self, progress: Any = None, tasks: dict[str, Any] | None = None) -> None:
        self._progress = progress
        self._tasks = tasks or {}

    @contextmanager
    def running(self, name: str, state: str) -> Iterator[ReadProgress]:
        task = self._tasks.get(name)
        if self._progress is None or task is None:
            yield lambda what, done, total: None
            return
        progress = self._progress
        progress.update(task, state=state, total=None, completed=0)
        progress.start_task(task)

        def report(what: str, done: int, total: int) -> None:
            progress.update(task, state=what, completed=done, total=total)

        previous = getattr(_line, "report", None)
        _line.report = report
        try:
            yield report
        finally:
            _line.report = previous

    def finish(self, name: str, state: str) -> None:
        task = self._tasks.get(name)
        if self._progress is not None and task is not None:
            self._progress.update(task, state=state)
            self._progress.stop_task(task)


@contextmanager
def target_lines(names: Sequence[str], *, waiting: str = "waiting") -> Iterator[TargetLines]:
    """Lines for ``names`` on stderr while the block runs, gone when it ends; on a terminal
    only (elsewhere nothing is drawn, and the lines' calls do nothing)."""
    c = err_console()
    if not c.is_terminal or not names:
        yield TargetLines()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        TextColumn("[dim]{task.fields[state]}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        console=c,  # bound to the real stderr now, before targets' output is captured
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    ) as progress:
        width = max(len(n) for n in names)
        tasks = {
            n: progress.add_task(n.ljust(width), total=None, start=False, state=waiting)
            for n in names
        }
        yield TargetLines(progress, tasks)
