"""Everything the user sees in a terminal. The only module beside cli/ that imports rich.

Renderers take a file-like ``out`` so tests can render into a string. Machine output (JSON,
tokens, rewritten text) never goes through rich: it wraps lines.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console


def _color_allowed(no_color: bool) -> bool:
    return not no_color and not os.environ.get("NO_COLOR")


def console(out: TextIO | None = None, *, no_color: bool = False) -> Console:
    """A rich console on ``out`` (default stdout) that honours --no-color and NO_COLOR."""
    return Console(
        file=out if out is not None else sys.stdout,
        no_color=not _color_allowed(no_color),
        highlight=False,
        emoji=False,  # ":secret:" in an ARN must not become an emoji
        soft_wrap=True,
    )


def err_console(*, no_color: bool = False) -> Console:
    return console(sys.stderr, no_color=no_color)


def error_line(message: str, hint: str | None = None, *, details: tuple[str, ...] = ()) -> None:
    """One line on stderr, and a hint on the next: the only way a failure reaches the user."""
    c = err_console()
    c.print(f"[bold red]Error:[/] {_escape(message)}")
    if hint:
        c.print(f"[dim]Hint:[/] {_escape(hint)}")
    for line in details:
        c.print(f"[bold red]Error:[/] {_escape(line)}")


def warn(message: str) -> None:
    err_console().print(f"[yellow]Warning:[/] {_escape(message)}")


def note(message: str) -> None:
    err_console().print(f"[dim]{_escape(message)}[/]")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# --- plans ------------------------------------------------------------------------------------

_ACTION_STYLE = {"create": "green", "update": "yellow", "replace": "magenta", "delete": "red"}
_SYMBOL = {"create": "+", "update": "~", "replace": "-/+", "delete": "-"}
_VERB = {
    "create": "will be created",
    "update": "will be updated in place",
    "replace": "must be replaced",
    "delete": "will be destroyed",
}


def _value(v: object) -> str:
    import json

    if v is None:
        return "(none)"
    if v == "(sensitive)":
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dict | list):
        return json.dumps(v, sort_keys=True, separators=(", ", ": "))
    return json.dumps(v) if isinstance(v, bool) else str(v)


def render_plan(
    plan_doc: dict[str, object],
    out: TextIO,
    *,
    account_id: str,
    region: str,
    no_color: bool = False,
) -> None:
    """Print a plan (its ``Plan.to_dict()``) in Terraform's vocabulary: + ~ -/+ -."""
    c = console(out, no_color=no_color)
    changes = plan_doc["changes"]
    assert isinstance(changes, list)
    if not changes:
        c.print(f"[green]No changes.[/] Account {account_id} ({region}) matches the configuration.")
    else:
        c.print(f"ecrcache will make these changes in account {account_id} ({region}):\n")
    for ch in changes:
        action = ch["action"]
        style = _ACTION_STYLE[action]
        why = f" ({ch['reason']})" if ch.get("reason") and action != "create" else ""
        force = " [bold]needs --force[/]" if ch.get("needs_force") else ""
        c.print(
            f"  [{style}]{_SYMBOL[action]}[/] [bold]{_escape(ch['address'])}[/] "
            f"{_VERB[action]}{_escape(why)}{force}"
        )
        for f in ch["fields"]:
            if action == "create":
                line = _value(f["after"])
            elif action == "delete":
                line = _value(f["before"])
            else:
                line = f"{_value(f['before'])} → {_value(f['after'])}"
            if len(line) > 100 and action in ("create", "delete"):
                # A policy document: one JSON value per line, as Terraform shows jsonencode.
                import json

                doc = f["after"] if action == "create" else f["before"]
                line = json.dumps(doc, indent=2, sort_keys=True).replace("\n", "\n        ")
            c.print(f"      {_escape(f['name'])}: {_escape(line)}")
        c.print("")
    unmanaged = plan_doc.get("unmanaged") or []
    assert isinstance(unmanaged, list)
    if unmanaged:
        c.print(
            "[dim]Not in the configuration (left alone; `apply --prune --force` deletes them):[/] "
            + ", ".join(_escape(u) for u in unmanaged)
        )
    problems = plan_doc.get("problems") or []
    assert isinstance(problems, list)
    for problem in problems:
        c.print(f"[yellow]Not planned:[/] {_escape(problem)}")
    summary = plan_doc["summary"]
    assert isinstance(summary, dict)
    if changes:
        c.print(
            f"[bold]Plan:[/] {summary['add']} to add, {summary['change']} to change, "
            f"{summary['replace']} to replace, {summary['destroy']} to destroy."
        )
        c.print(f"[dim]Checksum: {plan_doc['checksum']}[/]")


@contextmanager
def apply_progress(total: int, *, enabled: bool = True) -> Iterator[Callable[[str, Any], None]]:
    """A progress bar on stderr for apply; yields the callback apply.run reports events to."""
    if not enabled:
        yield lambda event, change: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console(),
        transient=True,
    ) as progress:
        task = progress.add_task("applying", total=total)

        def on_event(event: str, change: Any) -> None:
            if event == "start":
                progress.update(task, description=f"{change.action.value} {change.address}")
            elif event == "retry":
                progress.update(
                    task, description=f"{change.address}: waiting for AWS to propagate a change"
                )
            elif event == "done":
                progress.advance(task)
                progress.console.print(
                    f"  {_SYMBOL[change.action.value]} {_escape(change.address)}: done"
                )

        yield on_event
