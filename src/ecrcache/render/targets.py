"""A command's output across targets: a heading per target, its errors, the totals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from ecrcache.render.console import _escape, console, error_line
from ecrcache.render.words import counted

if TYPE_CHECKING:
    from ecrcache.config.targets import Target
    from ecrcache.errors import EcrcacheError


def heading_text(target: Target, account_id: str | None = None) -> str:
    account = account_id or target.account_id or "account of the default credentials"
    if account.isdigit():
        account = f"account {account}"
    return f"{target.name} · {account} · {target.region}"


def render_heading(
    out: TextIO, target: Target, *, account_id: str | None = None, no_color: bool = False
) -> None:
    """``── NAME · account ACCOUNT · REGION ──`` before a target's section."""
    c = console(out, no_color=no_color)
    c.print(f"\n[bold]── {_escape(heading_text(target, account_id))} ──[/]")


def render_target_error(target: Target, exc: EcrcacheError) -> None:
    """The target's failure: one line naming the target, and the hint (stderr)."""
    from ecrcache.secrecy import redact

    error_line(
        redact(f"{target.name}: {exc.message}"),
        redact(exc.hint) if exc.hint else None,
        details=tuple(redact(d) for d in exc.details),
    )


def render_totals(out: TextIO, totals: Mapping[str, Any], *, no_color: bool = False) -> None:
    """One line: how many targets, how many succeeded, changed and failed (named)."""
    c = console(out, no_color=no_color)
    parts = [f"{totals['ok']} ok"]
    if "changed" in totals:
        parts.append(f"{totals['changed']} with changes")
    if totals.get("summary"):
        s = totals["summary"]
        parts.append(
            f"{s['add']} to add, {s['change']} to change, {s['replace']} to replace, "
            f"{s['destroy']} to destroy"
        )
    if totals["failed"]:
        names = _escape(", ".join(totals["failed_targets"]))
        parts.append(f"[red]{totals['failed']} failed[/] ({names})")
    n = totals["targets"]
    c.print(f"\n[bold]{counted(n, 'target')}:[/] " + ", ".join(parts))
    if totals.get("checksum"):
        c.print(f"[dim]Checksum (all targets): {totals['checksum']}[/]")


def render_runner_policy(out: TextIO, doc: Mapping[str, Any], *, no_color: bool = False) -> None:
    """``outputs``' runner policy: the identity policy to attach to whoever runs ecrcache."""
    import json

    c = console(out, no_color=no_color)
    c.print("\n[bold]── runner policy ──[/]")
    c.print(
        "[dim]Attach to the identity ecrcache runs as (CI role or user): it may assume each "
        "target's role, as ecrcache does.[/]"
    )
    out.flush()
    out.write(json.dumps(doc, indent=2) + "\n")
