"""``plan`` and ``apply`` across ``[targets]``: every target planned, shown, confirmed once.

plan: every target's plan (a few targets at a time), one section each, then the totals (changes
summed, targets with changes, failures) and one checksum for them all. apply: the same plans
shown, then the gates for all targets at once (``--checksum``, ``--force``), one question, and
each target with changes applied; a target that failed to plan (its role cannot be assumed)
or to apply fails alone. The checksum digests every planned target's name with its own plan's
checksum (``targets_run.combined_checksum``), so ``apply --checksum`` refuses when any target's
plan, or which targets planned, differs from what ``plan`` showed.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecrcache.cli.targets import base_session, error_doc
from ecrcache.render.words import counted

if TYPE_CHECKING:
    import boto3

    from ecrcache.aws import Clients
    from ecrcache.cli.options import GlobalOptions
    from ecrcache.config.targets import Target
    from ecrcache.reconcile.apply import ApplyReport
    from ecrcache.reconcile.planning import PlanResult
    from ecrcache.reconcile.targets_run import TargetOutcome
    from ecrcache.render.progress import TargetLines

EXIT_CHANGES = 2  # as plan --detailed-exitcode


@dataclass(frozen=True)
class Planned:
    """One target's plan, and the clients it was read with (apply writes with them)."""

    result: PlanResult
    clients: Clients

    @property
    def doc(self) -> dict[str, Any]:
        r = self.result
        return {"account_id": r.account_id, "region": r.region, **r.plan.to_dict()}

    @property
    def unsafe(self) -> tuple[str, ...]:
        return self.result.plan.unsafe_reasons(self.result.safety)


@contextlib.contextmanager
def _base(opts: GlobalOptions, targets: tuple[Target, ...]) -> Iterator[boto3.session.Session]:
    with base_session(opts, targets[0].region) as base:
        yield base


def plan_targets(
    opts: GlobalOptions,
    targets: tuple[Target, ...],
    base: boto3.session.Session,
    *,
    prune: bool,
    delete_images: bool = False,
) -> list[TargetOutcome[Planned]]:
    """Every target planned, a few at a time; one outcome each, in the targets' order."""
    from ecrcache.reconcile.credentials import SourceReader
    from ecrcache.reconcile.planning import make_plan
    from ecrcache.reconcile.targets_run import run_targets, target_clients
    from ecrcache.render.progress import target_lines

    reader = SourceReader()  # one for all: a value from stdin is read once

    def work(target: Target) -> Planned:
        config = target.config  # this target's config (the CI-policy check finds it here)
        with lines.running(target.name, "planning") as progress, _failed(lines, target):
            clients = target_clients(
                base, target, endpoint_url=opts.endpoint_url, sandbox=opts.sandbox
            )
            result = make_plan(
                config,
                clients,
                reader=reader,
                prune=prune,
                delete_images=delete_images,
                progress=progress,
            )
        lines.finish(target.name, "planned")
        return Planned(result, clients)

    with target_lines([t.name for t in targets]) as lines:
        return run_targets(work, targets)


@contextlib.contextmanager
def _failed(lines: TargetLines, target: Target) -> Iterator[None]:
    """Mark the target's progress line failed when the block raises."""
    try:
        yield
    except BaseException:
        lines.finish(target.name, "failed")
        raise


def _render_plans(opts: GlobalOptions, outcomes: list[TargetOutcome[Planned]]) -> None:
    from ecrcache.render.console import note, render_plan, warn
    from ecrcache.render.targets import render_heading, render_target_error

    for o in outcomes:
        p = o.result
        render_heading(
            sys.stdout,
            o.target,
            account_id=p.result.account_id if p else None,
            no_color=opts.no_color,
        )
        sys.stdout.flush()
        if p is None:
            assert o.error is not None
            render_target_error(o.target, o.error)
            continue
        for w in p.result.warnings:
            warn(f"{o.target.name}: {w}")
        render_plan(
            p.doc,
            sys.stdout,
            account_id=p.result.account_id,
            region=p.result.region,
            no_color=opts.no_color,
        )
        for n in p.result.notes:
            note(f"{o.target.name}: {n}")
        if p.unsafe:
            warn(f"{o.target.name}: apply will need --force: {'; '.join(p.unsafe)}")


def _totals(outcomes: list[TargetOutcome[Any]], planned: list[Planned]) -> dict[str, Any]:
    from ecrcache.reconcile.targets_run import combined_checksum

    summary = {"add": 0, "change": 0, "replace": 0, "destroy": 0}
    for p in planned:
        for k, v in p.result.plan.summary().items():
            summary[k] += v
    failed = [o.target.name for o in outcomes if not o.ok]
    return {
        "targets": len(outcomes),
        "ok": len(outcomes) - len(failed),
        "failed": len(failed),
        "failed_targets": failed,
        "changed": sum(1 for p in planned if not p.result.plan.empty),
        "summary": summary,
        "checksum": combined_checksum(
            [(o.target.name, o.result.result.plan.checksum()) for o in outcomes if o.result]
        ),
    }


def _failure_code(outcomes: list[TargetOutcome[Any]]) -> int:
    codes = {o.error.exit_code for o in outcomes if o.error is not None}
    if not codes:
        return 0
    return codes.pop() if len(codes) == 1 else 1


def _target_entry(o: TargetOutcome[Planned], data: dict[str, Any] | None) -> dict[str, Any]:
    p = o.result
    return {
        "target": o.target.name,
        "account_id": p.result.account_id if p else o.target.account_id,
        "region": o.target.region,
        "ok": o.ok,
        "data": data,
        "warnings": list(p.result.warnings + p.result.notes) if p else [],
        "error": error_doc(o.error) if o.error is not None else None,
    }


def _emit(command: str, entries: list[dict[str, Any]], totals: dict[str, Any], code: int) -> None:
    from ecrcache.result import envelope, write_json

    error = None
    if totals["failed"]:
        names = ", ".join(totals["failed_targets"])
        error = {
            "code": "targets",
            "message": f"{totals['failed']} of {counted(totals['targets'], 'target')} failed: "
            + names,
            "hint": "each target's error is in its entry of data.targets",
            "exit_code": code,
            "details": [],
        }
    write_json(envelope(command, {"targets": entries, "totals": totals}, error=error), sys.stdout)


def run_plan(opts: GlobalOptions, targets: tuple[Target, ...], params: dict[str, Any]) -> int:
    """``plan`` across targets; the exit code (failures, else 2 for changes under
    --detailed-exitcode, else 0)."""
    from ecrcache.render.targets import render_totals

    with _base(opts, targets) as base:
        outcomes = plan_targets(opts, targets, base, prune=bool(params.get("prune")))
    planned = [o.result for o in outcomes if o.result is not None]
    totals = _totals(outcomes, planned)
    code = _failure_code(outcomes)
    if params.get("detailed_exitcode"):
        code = 1 if code else (EXIT_CHANGES if totals["changed"] else 0)
    if opts.json:
        entries = [
            _target_entry(
                o, {**o.result.doc, "needs_force": list(o.result.unsafe)} if o.result else None
            )
            for o in outcomes
        ]
        _emit("plan", entries, totals, code)
        return code
    _render_plans(opts, outcomes)
    render_totals(sys.stdout, totals, no_color=opts.no_color)
    return code


def run_apply(opts: GlobalOptions, targets: tuple[Target, ...], params: dict[str, Any]) -> int:
    """``apply`` across targets: plan all, show all, check the gates for all, ask once, apply
    each target with changes. The exit code: 0, or the failed targets' code."""
    from ecrcache.errors import UnsafePlanError
    from ecrcache.reconcile.targets_run import TARGET_CONCURRENCY, run_targets
    from ecrcache.render.progress import target_lines
    from ecrcache.render.targets import render_totals

    prune, force = bool(params.get("prune")), bool(params.get("force"))
    with _base(opts, targets) as base:
        outcomes = plan_targets(
            opts, targets, base, prune=prune, delete_images=bool(params.get("delete_images"))
        )
        planned = [o.result for o in outcomes if o.result is not None]
        totals = _totals(outcomes, planned)
        if not opts.json:
            _render_plans(opts, outcomes)
        checksum = params.get("checksum")
        if checksum is not None and checksum != totals["checksum"]:
            raise UnsafePlanError(
                "the plans changed since they were reviewed (checksum differs)",
                hint="run plan again (with the same --target), review it, and pass its new "
                "checksum",
            )
        unsafe = [(o.target.name, r) for o in outcomes if o.result for r in o.result.unsafe]
        if unsafe and not force:
            more = f" (and {len(unsafe) - 1} more)" if len(unsafe) > 1 else ""
            raise UnsafePlanError(
                f"refusing to apply: {unsafe[0][0]}: {unsafe[0][1]}{more}",
                hint="review the plans, then run apply again with --force",
            )
        todo = [o for o in outcomes if o.result is not None and not o.result.result.plan.empty]
        if todo and not params.get("yes"):
            from ecrcache.cli.apply import _confirm

            _confirm()
        # The sandbox's state is one file saved after every change: its targets in turn.
        by_name = {o.target.name: o.result for o in todo if o.result is not None}
        with target_lines([o.target.name for o in todo]) as lines:
            applied = run_targets(
                lambda t: _apply_one(t, by_name[t.name], lines),
                [o.target for o in todo],
                concurrency=1 if opts.sandbox else TARGET_CONCURRENCY,
            )
    reports = {o.target.name: o for o in applied}
    code = _failure_code([*outcomes, *applied])
    totals["failed_targets"] = [
        o.target.name for o in outcomes if not o.ok or not reports.get(o.target.name, o).ok
    ]
    totals["failed"] = len(totals["failed_targets"])
    totals["ok"] = totals["targets"] - totals["failed"]
    if opts.json:
        entries = []
        for o in outcomes:
            data = None
            done = reports.get(o.target.name)
            if o.result is not None:
                data = {**o.result.doc, "applied": []}
                if done is not None and done.result is not None:
                    data.update(done.result.to_dict())
            entry = _target_entry(o, data)
            if done is not None and done.error is not None:
                entry["ok"], entry["error"] = False, error_doc(done.error)
            entries.append(entry)
        _emit("apply", entries, totals, code)
        return code
    from ecrcache.render.targets import render_heading, render_target_error

    for o in todo:
        done = reports[o.target.name]
        assert o.result is not None
        render_heading(sys.stdout, o.target, account_id=o.result.result.account_id)
        if done.error is not None:
            sys.stdout.flush()
            render_target_error(o.target, done.error)
            continue
        s = o.result.result.plan.summary()
        sys.stdout.write(
            f"Apply complete: {s['add']} added, {s['change']} changed, {s['replace']} "
            f"replaced, {s['destroy']} destroyed.\n"
        )
    render_totals(sys.stdout, totals, no_color=opts.no_color)
    return code


def _apply_one(target: Target, p: Planned, lines: TargetLines) -> ApplyReport:
    from ecrcache.reconcile.apply import ApplyContext, run

    result = p.result
    config = target.config  # noqa: F841 - the CI-policy check finds this target's config here
    total, done = len(result.plan.changes), [0]
    with lines.running(target.name, "applying") as progress, _failed(lines, target):

        def on_event(event: str, change: Any) -> None:
            if event == "done":
                done[0] += 1
                progress("applying", done[0], total)

        report = run(
            result.plan,
            ApplyContext(
                clients=p.clients,
                account_id=result.account_id,
                region=result.region,
                secret_arns={s.name: s.arn for s in result.live.secrets.values() if s.arn},
                on_event=on_event,
            ),
        )
    lines.finish(target.name, "applied")
    return report
