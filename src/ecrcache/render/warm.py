"""The warm report (a table, one row per image, failures explained below it) and its progress
bar (stderr, only on a terminal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from ecrcache.render.console import _escape, console, err_console
from ecrcache.render.pull import size_text
from ecrcache.render.tables import Column, print_table
from ecrcache.render.words import counted

if TYPE_CHECKING:
    from ecrcache.registry.warm import ImageResult, WarmReport

_STYLE = {
    "cached-now": "green",
    "already-cached": "cyan",
    "pulled": "yellow",
    "failed": "bold red",
}


def _platforms(image: ImageResult) -> str:
    if not image.platforms:
        return "-"
    return ", ".join(p.platform or "single" for p in image.platforms)


def render_warm(report: WarmReport, out: TextIO, *, no_color: bool = False) -> None:
    """One row per image (the cache references are in the JSON twin); then why each failed
    image failed, with its hint, and notes; then the totals and how "already cached" was
    decided."""
    c = console(out, no_color=no_color)
    columns = [
        Column("image"),
        Column("status"),
        Column("platforms"),
        Column("downloaded", "right"),
    ]
    rows = []
    for image in report.images:
        style = _STYLE[image.status]
        status = image.status + (" (simulated)" if image.simulated and not image.failed else "")
        rows.append(
            (
                _escape(image.reference),
                f"[{style}]{_escape(status)}[/]",
                _escape(_platforms(image)),
                size_text(image.bytes) if image.bytes else "-",
            )
        )
    # never fold or cut: a reference cut with "…" is no use (one record per image instead)
    print_table(c, columns, rows, show_edge=False)
    registries = sorted(
        {i.cache_reference.split("/", 1)[0] for i in report.images if i.cache_reference}
    )
    if registries:
        c.print(
            f"cache: {_escape(', '.join(registries))} (--output json lists each cache reference)"
        )
    for image in report.images:
        if image.failed:
            where = ", ".join(image.sources)
            c.print(
                f"[bold red]failed:[/] {_escape(image.reference)} ({_escape(where)}): "
                f"{_escape(image.error or 'unknown error')}"
            )
            if image.hint:
                c.print(f"  [dim]Hint:[/] {_escape(image.hint)}")
        elif image.note:
            c.print(f"[yellow]note:[/] {_escape(image.reference)}: {_escape(image.note)}")
    counts = report.counts()
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    c.print(f"{counted(len(report.images), 'image')}: {summary or 'none'}")
    c.print(f"[dim]Already cached: {_escape(report.decided_by)}[/]")


@contextmanager
def warm_progress(total: int, *, enabled: bool = True) -> Iterator[Callable[[ImageResult], None]]:
    """A bar of images done on stderr (only on a terminal); yields the per-image callback."""
    c = err_console()
    if not enabled or not c.is_terminal:
        yield lambda image: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("warming"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=c,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=total)

        def on_done(image: ImageResult) -> None:
            progress.update(
                task, advance=1, description=_escape(f"{image.reference}: {image.status}")
            )

        yield on_done
