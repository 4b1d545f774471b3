"""doctor on a terminal: the context header (as ``aws configure list``), one line per check,
why and how to fix each problem. Renderers take ``out`` so tests render into a string."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from rich.markup import escape

from ecrcache.render.console import console
from ecrcache.render.words import counted

if TYPE_CHECKING:
    from ecrcache.doctor.model import Check, CheckResult
    from ecrcache.doctor.runner import DoctorReport

_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "warn": "yellow",
    "skip": "dim",
    "crashed": "magenta",
}
_LABEL = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "skip": "SKIP", "crashed": "CRASH"}


def _context_rows(ctx: dict[str, Any]) -> list[tuple[str, str, str]]:
    account = ctx["account_id"] or "<unknown>"
    return [
        ("account", account, ctx["caller_arn"] or "sts:GetCallerIdentity failed"),
        ("region", ctx["region"] or "<not set>", ctx["region_source"]),
        ("profile", ctx["profile"] or "<not set>", ctx["profile_source"]),
        ("credentials", ctx["credential_source"], "botocore credential chain"),
        ("registry", ctx["registry_url"] or "<unknown>", "account and region"),
        ("config", ctx["config_path"], "sandbox" if ctx["sandbox"] else "file"),
        *([("endpoint", ctx["endpoint_url"], "--endpoint-url")] if ctx["endpoint_url"] else []),
    ]


def render_context(ctx: dict[str, Any], out: TextIO, *, no_color: bool = False) -> None:
    c = console(out, no_color=no_color)
    rows = _context_rows(ctx)
    width = max(len(v) for _, v, _ in rows)
    c.print(f"[bold]{'Name':>12}  {'Value':<{width}}  Source[/]")
    for name, value, source in rows:
        c.print(f"{name:>12}  {escape(value):<{width}}  [dim]{escape(source)}[/]")
    c.print("")


def _render_result(c: Any, r: CheckResult, id_width: int, *, sandbox: bool = False) -> None:
    status = r.status.value
    c.print(f"[{_STYLE[status]}]{_LABEL[status]:>5}[/]  {r.id:<{id_width}}  {escape(r.finding)}")
    pad = " " * (7 + id_width + 2)
    for line in r.details:
        c.print(f"{pad}[dim]{escape(line)}[/]")
    if status in ("pass", "skip"):
        return
    c.print(f"{pad}[dim]why:[/] {escape(r.why)}")
    if r.fix is None:
        return
    c.print(f"{pad}[bold]fix:[/] {escape(r.fix.summary)}")
    if r.fix.config:
        c.print(f"{pad}  add to the config file:")
        for line in r.fix.config.splitlines():
            c.print(f"{pad}    {escape(line)}")
    for cmd in r.fix.commands:
        c.print(f"{pad}  $ {escape(cmd)}")
        if sandbox and cmd.startswith("aws "):
            # Pasted into a shell, an aws command acts on the real account, not the sandbox.
            c.print(
                f"{pad}    [yellow]careful:[/] this would change your real AWS account, "
                "not the sandbox"
            )


def render_report(report: DoctorReport, out: TextIO, *, no_color: bool = False) -> None:
    render_context(report.context, out, no_color=no_color)
    c = console(out, no_color=no_color)
    width = max((len(r.id) for r in report.results), default=10)
    sandbox = bool(report.context.get("sandbox"))
    for r in report.results:
        _render_result(c, r, width, sandbox=sandbox)
    s = report.summary()
    parts = [f"{s[k]} {w}" for k, w in _SUMMARY if s[k]]
    verdict = "[green]healthy[/]" if report.healthy else "[bold red]problems found[/]"
    c.print(f"\n{counted(len(report.results), 'check')}: {', '.join(parts)}: {verdict}")


_SUMMARY = (
    ("pass", "passed"),
    ("fail", "failed"),
    ("crashed", "crashed"),
    ("warn", "warned"),
    ("skip", "skipped"),
)


def render_check_list(checks: Sequence[Check], out: TextIO, *, no_color: bool = False) -> None:
    c = console(out, no_color=no_color)
    width = max(len(ch.id) for ch in checks)
    for ch in checks:
        needs = ", ".join(sorted(n.value for n in ch.needs)) or "-"
        c.print(f"{ch.id:<{width}}  {ch.severity.value:<7}  {escape(ch.title)} [dim]({needs})[/]")
        c.print(f"{'':<{width}}  {'':<7}  [dim]{escape(ch.why)}[/]")
