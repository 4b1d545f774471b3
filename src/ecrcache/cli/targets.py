"""Commands across the config's ``[targets]``: each target's run of the command, side by side.

A command that works per target calls ``across_targets(ctx, "name", fn, locals())`` first.
Without ``[targets]`` in the config that returns at once and the command runs as it always has.
With them, the command's own body runs once per target (``--target`` picks some), a few at a
time (``reconcile.targets_run``): ``cli.common``'s ``load``, ``region_for`` and
``open_clients`` hand it that target's config, region and clients (its role assumed), and what
it prints is kept per target. Then one section per target, headed by its name, account and
region, and the totals; under ``--output json`` one envelope with a ``targets`` list. A target
that fails (its role cannot be assumed, AccessDenied) fails alone. The exit code is 0 when every
target succeeded, else the failures' code when they share one, else 1.

plan and apply have their own run (``cli.targets_apply``): one confirmation for all targets.
Import light: ``cli.common`` asks ``active()`` on every command.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecrcache.render.words import counted

if TYPE_CHECKING:
    import boto3
    import typer

    from ecrcache.aws import Clients
    from ecrcache.cli.options import GlobalOptions
    from ecrcache.config.targets import Target
    from ecrcache.errors import EcrcacheError
    from ecrcache.reconcile.targets_run import TargetOutcome

# Commands that need no AWS for their work (no credentials opened for them).
OFFLINE = frozenset({"validate", "export"})


@dataclass
class Active:
    """The target a worker thread is running the command for, and its clients (made on first
    use: an offline command never assumes a role)."""

    target: Target
    make_clients: Callable[[], Clients] | None = None
    _clients: Clients | None = None
    # another target's clients, from the same base session (doctor reads a spoke's hub)
    clients_of: Callable[[Target], Clients] | None = None

    def clients(self) -> Clients:
        if self._clients is None:
            if self.make_clients is None:
                from ecrcache.errors import UsageError

                raise UsageError("this command runs offline across targets")
            self._clients = self.make_clients()
        return self._clients


_ACTIVE: ContextVar[Active | None] = ContextVar("ecrcache_target", default=None)


def active() -> Active | None:
    """The target this thread runs a command for, None outside a run across targets."""
    return _ACTIVE.get()


def current_target(opts: GlobalOptions) -> Target | None:
    """The target a command works on: this thread's in a run across targets, else the one
    ``--target`` names (a command that runs on one account: login, rewrite, test-pull, ...),
    else None (the file's top-level tables)."""
    running = active()
    if running is not None:
        return running.target
    if not opts.targets:
        return None
    targets = load_targets(opts)
    assert targets is not None  # load_targets refuses --target without [targets]
    if len(targets) != 1:
        from ecrcache.errors import UsageError

        raise UsageError(
            f"this command runs on one target, and --target selects {len(targets)}",
            hint="name one: " + ", ".join(t.name for t in targets),
        )
    return targets[0]


def for_target(opts: GlobalOptions, clients: Clients) -> Clients:
    """``clients`` as the ``--target`` a one-account command names (its role assumed)."""
    target = current_target(opts) if active() is None else None
    if target is None or target.assume is None:
        return clients
    from ecrcache.reconcile.targets_run import target_clients

    return target_clients(
        clients.session, target, endpoint_url=opts.endpoint_url, sandbox=opts.sandbox
    )


# --- which targets ------------------------------------------------------------------------------


def load_targets(opts: GlobalOptions, *, quiet: bool = False) -> tuple[Target, ...] | None:
    """The targets ``--target`` selects, None when the config has no ``[targets]``. With
    ``quiet``, a config that cannot be read is None too (the command reports it its own way)."""
    from ecrcache.config.loading import load_document
    from ecrcache.config.targets import expand_targets, has_targets, select
    from ecrcache.errors import ConfigError, UsageError

    try:
        doc = load_document(opts.config_path)
    except ConfigError:
        if quiet and not opts.targets:
            return None
        raise
    if not has_targets(doc):
        if opts.targets:
            raise UsageError(
                "--target needs [targets] in the config",
                hint=f"{opts.config_path} drives one account: drop --target, or add "
                "[targets.NAME] tables",
            )
        return None
    if opts.region:
        raise UsageError(
            "--region does not apply to a config with [targets]: each target names its region",
            hint="pick targets with --target NAME (NAME/REGION for one region)",
        )
    return select(expand_targets(doc, filename=str(opts.config_path)), opts.targets)


@contextlib.contextmanager
def base_session(opts: GlobalOptions, region: str) -> Iterator[boto3.session.Session]:
    """The session every target starts from: the sandbox's (opened once for all targets: it
    holds the state file), or the default credentials' (profile, environment)."""
    if opts.sandbox:
        from ecrcache.render.console import note
        from ecrcache.sandbox.runtime import default_state_path, open_sandbox

        state = default_state_path()
        note(
            f"sandbox: simulated AWS accounts; nothing leaves this machine (state: {state}; "
            "reset with `ecrcache sandbox reset`)"
        )
        with open_sandbox(region=region, state_path=state) as session:
            yield session
        return
    from ecrcache.aws import make_session

    yield make_session(opts.profile, region)


# --- capturing what each target's run prints ----------------------------------------------------


class _Routed(io.TextIOBase):
    """sys.stdout or sys.stderr while targets run: a worker thread's writes go to its target's
    buffer, the main thread's to the real stream. Not a terminal for a worker (no progress
    bars drawn into a buffer, no colour codes in captured text)."""

    def __init__(self, real: Any, which: int) -> None:
        self._real = real
        self._which = which

    def _buffer(self) -> io.StringIO | None:
        bufs = getattr(_CAPTURE, "buffers", None)
        return bufs[self._which] if bufs is not None else None

    def write(self, s: str) -> int:
        buf = self._buffer()
        return buf.write(s) if buf is not None else self._real.write(s)

    def flush(self) -> None:
        if self._buffer() is None:
            self._real.flush()

    def isatty(self) -> bool:
        return False if self._buffer() is not None else bool(self._real.isatty())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._real, "encoding", "utf-8") or "utf-8")


_CAPTURE = threading.local()


@contextlib.contextmanager
def _routed() -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Routed(saved[0], 0), _Routed(saved[1], 1)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


@dataclass
class Captured:
    """One target's run: its exit code and what it printed."""

    code: int = 0
    out: str = ""
    err: str = ""


@contextlib.contextmanager
def as_target(
    target: Target,
    make_clients: Callable[[], Clients] | None,
    sink: Captured,
    clients_of: Callable[[Target], Clients] | None = None,
) -> Iterator[None]:
    """Run the block as ``target`` in this thread, its output kept in ``sink``."""
    out, err = io.StringIO(), io.StringIO()
    _CAPTURE.buffers = (out, err)
    token = _ACTIVE.set(Active(target, make_clients, clients_of=clients_of))
    try:
        yield
    finally:
        _ACTIVE.reset(token)
        _CAPTURE.buffers = None
        sink.out, sink.err = out.getvalue(), err.getvalue()


# --- the hook -----------------------------------------------------------------------------------


def across_targets(
    ctx: typer.Context, command: str, fn: Callable[..., Any], params: Mapping[str, Any]
) -> None:
    """Run ``fn(**params)`` (the command itself) once per target and exit with the combined
    code (``typer.Exit``); return at once when the config has no ``[targets]`` or a target's
    run is already under way."""
    if active() is not None:
        return
    from ecrcache.cli.common import options

    opts = options(ctx)
    targets = load_targets(opts, quiet=True)
    if targets is None:
        return
    import typer

    if command in ("plan", "apply"):  # their own run: all plans shown, one confirmation
        from ecrcache.cli import targets_apply

        run = targets_apply.run_plan if command == "plan" else targets_apply.run_apply
        raise typer.Exit(run(opts, targets, dict(params)))
    check = _CHECKS.get(command)
    if check is not None:
        check(params, targets)
    kwargs = dict(params)
    outcomes = run_each(opts, command, targets, lambda: _call(fn, kwargs))
    raise typer.Exit(report(opts, command, outcomes))


def _call(fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> int:
    import typer

    try:
        rv = fn(**kwargs)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    return rv if isinstance(rv, int) else 0


def run_each(
    opts: GlobalOptions,
    command: str,
    targets: tuple[Target, ...],
    body: Callable[[], int],
) -> list[TargetOutcome[Captured]]:
    """``body()`` once per target, as that target, output captured; one outcome each."""
    from ecrcache.reconcile.targets_run import run_targets, target_clients
    from ecrcache.render.progress import target_lines

    with contextlib.ExitStack() as stack:
        base = None
        if command not in OFFLINE:
            base = stack.enter_context(base_session(opts, targets[0].region))
        sinks: dict[str, Captured] = {t.name: Captured() for t in targets}

        def work(target: Target) -> Captured:
            sink = sinks[target.name]
            make = clients_of = None
            if base is not None:
                session = base

                def clients_of(t: Target) -> Clients:
                    return target_clients(
                        session, t, endpoint_url=opts.endpoint_url, sandbox=opts.sandbox
                    )

                def make() -> Clients:
                    return clients_of(target)

            with lines.running(target.name, command), as_target(target, make, sink, clients_of):
                try:
                    sink.code = body()
                except BaseException:
                    lines.finish(target.name, "failed")
                    raise
            lines.finish(target.name, "done" if sink.code == 0 else "failed")
            return sink

        lines = stack.enter_context(target_lines([t.name for t in targets]))
        with _routed():  # after the lines: they draw on the real stderr
            outcomes = run_targets(work, targets)
    from ecrcache.reconcile.targets_run import TargetOutcome

    # a failed target's output up to its failure is shown with its error
    return [
        o if o.ok else TargetOutcome(o.target, result=sinks[o.target.name], error=o.error)
        for o in outcomes
    ]


# --- the report ---------------------------------------------------------------------------------


def exit_code(outcomes: list[TargetOutcome[Captured]]) -> int:
    """0 when every target succeeded; the failures' code when they share one; else 1."""
    codes = {
        o.error.exit_code if o.error is not None else (o.result.code if o.result else 1)
        for o in outcomes
    } - {0}
    if not codes:
        return 0
    return codes.pop() if len(codes) == 1 else 1


def error_doc(exc: EcrcacheError) -> dict[str, Any]:
    """An error as the JSON envelope carries it (redacted as ``report_error`` does)."""
    from ecrcache.secrecy import redact

    return {
        "code": exc.code,
        "message": redact(exc.message),
        "hint": redact(exc.hint) if exc.hint else exc.hint,
        "exit_code": exc.exit_code,
        "details": [redact(d) for d in exc.details],
    }


def report(opts: GlobalOptions, command: str, outcomes: list[TargetOutcome[Captured]]) -> int:
    """Print every target's section (or the one JSON envelope) and the totals; the exit code."""
    code = exit_code(outcomes)
    if opts.json:
        _report_json(command, outcomes, code)
        return code
    from ecrcache.render.targets import (
        heading_text,
        render_heading,
        render_target_error,
        render_totals,
    )

    yaml_out = command == "export"  # templates: stdout stays one multi-document YAML stream
    for o in outcomes:
        if yaml_out:
            sys.stdout.write(f"---\n# {heading_text(o.target)}\n")
        else:
            render_heading(sys.stdout, o.target, no_color=opts.no_color)
        captured = o.result
        if captured is not None:
            sys.stdout.write(captured.out)
            sys.stdout.flush()
            # its warnings and notes, named: they may land far from the section (a pipe)
            for line in captured.err.splitlines(keepends=True):
                sys.stderr.write(f"{o.target.name}: {line}" if line.strip() else line)
            sys.stderr.flush()
        if o.error is not None:
            render_target_error(o.target, o.error)
    runner = _runner_policy(command, outcomes)
    if runner is not None:
        from ecrcache.render.targets import render_runner_policy

        render_runner_policy(sys.stdout, runner, no_color=opts.no_color)
    render_totals(sys.stderr if yaml_out else sys.stdout, totals(outcomes), no_color=opts.no_color)
    return code


def _runner_policy(command: str, outcomes: list[TargetOutcome[Captured]]) -> Any:
    """``outputs``' runner policy: sts:AssumeRole on every target's role (policy.runner)."""
    if command != "outputs":
        return None
    from ecrcache.policy.runner import runner_policy

    return runner_policy(
        (o.target.assume.role_arn, o.target.assume.external_id)
        for o in outcomes
        if o.target.assume is not None
    )


def totals(outcomes: list[TargetOutcome[Captured]], **extra: Any) -> dict[str, Any]:
    failed = [o.target.name for o in outcomes if exit_code([o]) != 0]
    return {
        "targets": len(outcomes),
        "ok": len(outcomes) - len(failed),
        "failed": len(failed),
        "failed_targets": failed,
        **extra,
    }


def target_doc(o: TargetOutcome[Captured]) -> dict[str, Any]:
    """One target's entry in the JSON ``targets`` list: its own envelope's data and error."""
    import json

    doc: dict[str, Any] = {
        "target": o.target.name,
        "account_id": o.target.account_id,
        "region": o.target.region,
        "ok": exit_code([o]) == 0,
        "data": None,
        "warnings": [],
        "error": error_doc(o.error) if o.error is not None else None,
    }
    text = o.result.out if o.result is not None else ""
    if text.strip():
        try:
            inner = json.loads(text)
        except ValueError:
            inner = None
        if isinstance(inner, dict):
            doc["data"] = inner.get("data")
            doc["warnings"] = inner.get("warnings") or []
            doc["error"] = doc["error"] or inner.get("error")
            if doc["account_id"] is None and isinstance(doc["data"], dict):
                doc["account_id"] = doc["data"].get("account_id")
    return doc


def _report_json(command: str, outcomes: list[TargetOutcome[Captured]], code: int) -> None:
    from ecrcache.result import envelope, write_json

    docs = [target_doc(o) for o in outcomes]
    data: dict[str, Any] = {"targets": docs, "totals": totals(outcomes)}
    if command == "outputs":
        data["runner_policy"] = _runner_policy(command, outcomes)
    write_json(
        envelope(
            command,
            data,
            error=failed_error(outcomes, code),
        ),
        sys.stdout,
    )


def failed_error(outcomes: list[TargetOutcome[Captured]], code: int) -> dict[str, Any] | None:
    failed = [o.target.name for o in outcomes if exit_code([o]) != 0]
    if not failed:
        return None
    return {
        "code": "targets",
        "message": f"{len(failed)} of {counted(len(outcomes), 'target')} failed: "
        + ", ".join(failed),
        "hint": "each target's error is in its entry of data.targets",
        "exit_code": code,
        "details": [],
    }


# --- per-command checks before fanning out -------------------------------------------------------


def _export_check(params: Mapping[str, Any], targets: tuple[Target, ...]) -> None:
    if params.get("out") is not None and len(targets) > 1:
        from ecrcache.errors import UsageError

        raise UsageError(
            f"--out names one file, and {len(targets)} targets are selected",
            hint="pick one with --target NAME (" + ", ".join(t.name for t in targets) + ")",
        )


_CHECKS: dict[str, Callable[[Mapping[str, Any], tuple[Target, ...]], None]] = {
    "export": _export_check,
}
