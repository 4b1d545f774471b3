"""The one way a report prints a table: whole cells or one record per row, never a cut value.

rich shrinks a table that does not fit by folding or cutting cells (``docke…``), and a pipe
gets 80 columns. An identifier, ARN, prefix, date or number is only useful whole, so a table
that does not fit the console at its natural width is printed as records instead: the first
column as a heading, then one ``name: value`` line per other column (as ``kubectl describe``
and ``aws --output text`` keep values whole). ``--output json`` stays the twin of both forms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table


@dataclass(frozen=True)
class Column:
    name: str
    justify: Literal["left", "right"] = "left"


def build_table(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], **table_options: Any
) -> Table:
    """A rich table whose cells never wrap (their width is measured whole)."""
    table = Table(**table_options)
    for col in columns:
        table.add_column(col.name, justify=col.justify, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


def natural_width(c: Console, table: Table) -> int:
    """The width ``table`` needs with no cell folded or cut."""
    return Measurement.get(c, c.options.update(max_width=1 << 16), table).maximum


def print_table(
    c: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    **table_options: Any,
) -> None:
    """Print ``rows`` (rich markup, already escaped) as a table when it fits ``c.width``,
    else as one record per row. Either way every cell is printed whole."""
    table = build_table(columns, rows, title=title, title_justify="left", **table_options)
    if natural_width(c, table) <= c.width:
        c.print(table)
        return
    print_records(c, columns, rows, title=title)


def print_records(
    c: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
) -> None:
    """One record per row: the first cell as a heading, the others as indented ``name: value``
    lines (a cell of several lines continues under its first). A value that would overflow
    beside its name goes on the lines below it, so only a value longer than the console
    itself passes the edge (whole: the terminal wraps it, nothing cuts it)."""
    if title:
        c.print(f"[italic]{title}[/]")
    label = max((len(col.name) for col in columns[1:]), default=0)
    for n, row in enumerate(rows):
        if n:
            c.print("")
        c.print(f"[bold]{row[0]}[/]")
        for col, cell in zip(columns[1:], row[1:], strict=True):
            lines = cell.split("\n")
            if 2 + label + 2 + max(c.measure(ln).maximum for ln in lines) <= c.width:
                c.print(f"  {col.name + ':':<{label + 1}} {lines[0]}")
                for more in lines[1:]:
                    c.print(f"  {'':<{label + 1}} {more}")
            else:
                c.print(f"  {col.name}:")
                for more in lines:
                    c.print(f"    {more}")
