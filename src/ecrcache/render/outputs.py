"""The ``ecrcache outputs`` report (rich: this module, render.py and cli/ only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from ecrcache.config.upstreams import upstream
from ecrcache.render.console import _escape, console

if TYPE_CHECKING:
    from ecrcache.reconcile.outputs import Outputs


def render_outputs(o: Outputs, out: TextIO, *, no_color: bool = False) -> None:
    """Registry, login, CI policy, then one table row per rule. Nothing is wrapped or cut:
    every value is meant to be copied."""
    from rich import box
    from rich.measure import Measurement
    from rich.table import Table

    c = console(out, no_color=no_color)
    c.print(f"[bold]Registry[/]   {_escape(o.registry)}  ({o.account_id}, {o.region})")
    c.print(f"[bold]Log in[/]     {_escape(o.login_command)}")
    c.print(f"           or: {_escape(o.ecrcache_login)}")
    if o.ci_policy_name is not None:
        arn = o.ci_policy_arn or f"{o.ci_policy_name}: not created yet (`ecrcache apply` makes it)"
        c.print(f"[bold]CI policy[/]  {_escape(arn)}")
    if not o.pull_prefixes:
        c.print("\nNo pull-through cache rules in the config.")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("prefix", "upstream", "pull prefix", "example: upstream → cache"):
        table.add_column(name, no_wrap=True)
    for p in o.pull_prefixes:
        table.add_row(
            _escape(p.prefix),
            _escape(f"{upstream(p.upstream).title.split(' (')[0]}\n{p.upstream_url}"),
            _escape(p.pull_prefix),
            _escape(f"{p.example}\n→ {p.cached_example}"),
        )
    c.print("")
    # As wide as the widest row, even past the terminal: a truncated reference is useless.
    c.width = max(c.width, Measurement.get(c, c.options.update(max_width=4096), table).maximum)
    c.print(table)
