"""The ``ecrcache node-config`` report. File contents are written plainly (never through rich,
which would wrap them): they are meant to be copied onto a node as they are."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from ecrcache.render.console import _escape, console
from ecrcache.render.words import counted

if TYPE_CHECKING:
    from ecrcache.node.bundle import NodeBundle


def render_node_config(
    bundle: NodeBundle, out: TextIO, *, written: Sequence[str] = (), no_color: bool = False
) -> None:
    """Each file (``==> path <==`` then its content) unless they were written to disk, then
    the mirrors, the rules left out and the notes."""
    if not written:
        for f in bundle.files:
            out.write(f"==> {f.path} <==\n{f.content}")
            if not f.content.endswith("\n"):
                out.write("\n")
            out.write("\n")
        out.flush()
    c = console(out, no_color=no_color)
    if written:
        c.print(f"[bold]Wrote[/] {counted(len(written), 'file')}:")
        for path in written:
            c.print(f"  {_escape(path)}")
    fallback = "no fallback" if bundle.no_fallback else "falls back to the upstream"
    c.print(
        f"[bold]Mirrors[/] through {_escape(bundle.registry)} ({bundle.node_type}, {fallback}):"
    )
    for m in bundle.mirrors:
        c.print(f"  {_escape(m.namespace)} → {_escape(m.mirror_url)}")
    for s in bundle.skipped:
        c.print(f"[yellow]Not mirrored[/] {_escape(s.prefix)}: {_escape(s.reason)}")
    for n in bundle.notes:
        c.print(f"[dim]Note:[/] {_escape(n)}")
