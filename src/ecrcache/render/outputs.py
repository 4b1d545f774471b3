"""The ``ecrcache outputs`` report (rich: this module, render.py and cli/ only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from ecrcache import nextcommand
from ecrcache.config.upstreams import upstream
from ecrcache.render.console import _escape, console
from ecrcache.render.tables import Column, print_table

if TYPE_CHECKING:
    from ecrcache.reconcile.outputs import Outputs


def render_outputs(o: Outputs, out: TextIO, *, no_color: bool = False) -> None:
    """Registry, login, CI policy, then one table row per rule. Nothing is wrapped or cut:
    every value is meant to be copied."""
    from rich import box

    c = console(out, no_color=no_color)
    c.print(f"[bold]Registry[/]   {_escape(o.registry)}  ({o.account_id}, {o.region})")
    c.print(f"[bold]Log in[/]     {_escape(o.login_command)}")
    c.print(f"           or: {_escape(o.ecrcache_login)}")
    if o.ci_policy_name is not None:
        arn = o.ci_policy_arn or nextcommand.for_run(
            f"{o.ci_policy_name}: not created yet (`ecrcache apply` makes it)"
        )
        c.print(f"[bold]CI policy[/]  {_escape(arn)}")
    if not o.pull_prefixes:
        c.print("\nNo pull-through cache rules in the config.")
        return
    columns = [
        Column(name) for name in ("prefix", "upstream", "pull prefix", "example: upstream → cache")
    ]
    rows = [
        (
            _escape(p.prefix),
            _escape(f"{upstream(p.upstream).title.split(' (')[0]}\n{p.upstream_url}"),
            _escape(p.pull_prefix),
            _escape(f"{p.example}\n→ {p.cached_example}"),
        )
        for p in o.pull_prefixes
    ]
    c.print("")
    # Whole values, as a table when it fits, else one record per rule: each is meant to be copied.
    print_table(c, columns, rows, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
