"""Everything the user sees in a terminal. The only module beside cli/ that imports rich.

Renderers take a file-like ``out`` so tests can render into a string. Machine output (JSON,
tokens, rewritten text) never goes through rich: it wraps lines.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console

from ecrcache import nextcommand
from ecrcache.render import colour


def console(out: TextIO | None = None, *, no_color: bool = False) -> Console:
    """A rich console on ``out`` (default stdout) that honours --no-color and NO_COLOR.

    Without colour it writes no style at all: rich's ``no_color`` alone drops colours but
    keeps bold and dim, which are escape sequences too (and FORCE_COLOR would send them into
    a pipe). Nor does it redraw progress bars or spinners in place, which takes cursor escapes:
    plain output is plain text, whatever FORCE_COLOR or the terminal say."""
    plain = not colour.allowed(no_color=no_color)
    return Console(
        file=out if out is not None else sys.stdout,
        no_color=plain,
        color_system=None if plain else "auto",
        force_terminal=False if plain else None,
        highlight=False,
        emoji=False,  # ":secret:" in an ARN must not become an emoji
        soft_wrap=True,
    )


def err_console(*, no_color: bool = False) -> Console:
    return console(sys.stderr, no_color=no_color)


_live_displays = 0  # progress bars on stderr now: the wait spinner (render/waiting.py) stays away


def live_display_active() -> bool:
    return _live_displays > 0


@contextmanager
def live_display() -> Iterator[None]:
    global _live_displays
    _live_displays += 1
    try:
        yield
    finally:
        _live_displays -= 1


def error_line(message: str, hint: str | None = None, *, details: tuple[str, ...] = ()) -> None:
    """One line on stderr, and a hint on the next: the only way a failure reaches the user."""
    c = err_console()
    c.print(f"[bold red]Error:[/] {_escape(message)}")
    if hint:
        c.print(f"[dim]Hint:[/] {_escape(nextcommand.for_run(hint))}")
    for line in details:
        c.print(f"[bold red]Error:[/] {_escape(line)}")


def warn(message: str) -> None:
    err_console().print(f"[yellow]Warning:[/] {_escape(nextcommand.for_run(message))}")


def note(message: str) -> None:
    err_console().print(f"[dim]{_escape(nextcommand.for_run(message))}[/]")


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
            if action in ("update", "replace") and _is_document_change(f):
                # A policy or lifecycle document: what changed, the rest counted (Terraform).
                c.print(f"      {_escape(f['name'])}:")
                for style, text in document_diff_lines(f["before"], f["after"]):
                    c.print(
                        f"        [{style}]{_escape(text)}[/]"
                        if style
                        else f"        {_escape(text)}"
                    )
                continue
            after = "(known after apply)" if f.get("after_unknown") else _value(f["after"])
            if action == "create":
                line = after
            elif action == "delete":
                line = _value(f["before"])
            else:
                line = f"{_value(f['before'])} → {after}"
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


def _is_document_change(f: dict[str, Any]) -> bool:
    """A changed JSON document (not a short value), worth a nested diff."""
    before, after = f["before"], f["after"]
    if f.get("sensitive") or not any(isinstance(v, dict | list) for v in (before, after)):
        return False
    if not all(v is None or isinstance(v, dict | list) for v in (before, after)):
        return False
    return len(_value(before)) + len(_value(after)) > 100


_MARK = {"added": "+", "removed": "-", "changed": "~", "nested": "~"}
_MARK_STYLE = {"added": "green", "removed": "red", "changed": "yellow", "nested": "yellow"}


def document_diff_lines(before: Any, after: Any) -> list[tuple[str, str]]:
    """A nested diff of two JSON documents as (style, text) lines, unchanged parts counted in
    ``# (N unchanged ... hidden)`` lines, as Terraform shows a changed policy."""
    from ecrcache.policy.docdiff import diff

    if before is None or after is None:
        kind = "added" if before is None else "removed"
        value = after if before is None else before
        mark = _MARK[kind]
        lines = _json_lines(value)
        return [
            (_MARK_STYLE[kind], f"{mark} {lines[0]}"),
            *((_MARK_STYLE[kind], f"  {ln}") for ln in lines[1:]),
        ]
    out: list[tuple[str, str]] = []
    _diff_lines(diff(before, after), 0, out, label=None)
    return out


def _json_lines(value: Any) -> list[str]:
    import json

    return json.dumps(value, indent=2, sort_keys=True).splitlines()


def _scalar(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def _diff_lines(d: Any, depth: int, out: list[tuple[str, str]], *, label: str | None) -> None:
    pad = "    " * depth
    name = f"{label} = " if label is not None else ""
    if d.kind == "changed":
        out.append(("yellow", f"{pad}~ {name}{_scalar(d.before)} -> {_scalar(d.after)}"))
        return
    if d.kind in ("added", "removed"):
        value = d.after if d.kind == "added" else d.before
        style, mark = _MARK_STYLE[d.kind], _MARK[d.kind]
        lines = _json_lines(value)
        out.append((style, f"{pad}{mark} {name}{lines[0]}"))
        out.extend((style, f"{pad}  {ln}") for ln in lines[1:])
        return
    opening, closing = ("{", "}") if isinstance(d.after, dict) else ("[", "]")
    out.append(("yellow", f"{pad}~ {name}{opening}"))
    if d.identity is not None:
        out.append(("", f"{pad}      {d.identity[0]} = {_scalar(d.identity[1])}"))
    in_list = not isinstance(d.after, dict)
    for child in d.children:
        if child.kind == "same":
            continue
        _diff_lines(child, depth + 1, out, label=None if in_list else child.key)
    hidden = d.count("same") - (1 if d.identity is not None else 0)
    if hidden:
        what = "element" if in_list else "attribute"
        out.append(
            ("dim", f"{pad}      # ({hidden} unchanged {what}{'s' if hidden > 1 else ''} hidden)")
        )
    out.append(("", f"{pad}  {closing}"))


@contextmanager
def apply_progress(total: int, *, enabled: bool = True) -> Iterator[Callable[[str, Any], None]]:
    """A progress bar on stderr for apply; yields the callback apply.run reports events to."""
    if not enabled:
        yield lambda event, change: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with (
        live_display(),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err_console(),
            transient=True,
        ) as progress,
    ):
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
