"""Run checks in order, network checks last; no check's failure or crash stops the others.

A check that raises is reported, not propagated: an ``AwsAccessError`` means doctor itself
may not read something (a warning naming the call), another ``EcrcacheError`` is a problem
found while checking, and anything else is a bug in the check (status ``crashed``, with the
exception's type and message). Gates (``Check.after``) run first, even when not selected, so
``--check rule.present`` alone still says "no credentials" instead of crashing.
"""

from __future__ import annotations

import difflib
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ecrcache.doctor.env import Env
from ecrcache.doctor.model import (
    Check,
    CheckResult,
    Finding,
    Fix,
    Need,
    Severity,
    Status,
)
from ecrcache.errors import AwsAccessError, EcrcacheError, UsageError


@dataclass(frozen=True)
class DoctorReport:
    context: dict[str, Any]
    results: tuple[CheckResult, ...]

    @property
    def healthy(self) -> bool:
        """No check failed or crashed (warnings and skips do not count)."""
        return not any(r.failed for r in self.results)

    def summary(self) -> dict[str, int]:
        return {s.value: sum(1 for r in self.results if r.status is s) for s in Status}

    def to_dict(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "checks": [r.to_dict() for r in self.results],
            "summary": self.summary(),
            "healthy": self.healthy,
        }


def select(
    checks: Sequence[Check], wanted: Sequence[str] = (), *, image: bool = False
) -> tuple[Check, ...]:
    """The checks to run, in run order (registry order, network checks last).

    ``wanted`` holds check IDs or categories (``secret`` selects every ``secret.*``); empty
    means all. Image checks run only with ``image``. Raises UsageError for an unknown ID.
    """
    chosen: list[Check] = []
    for name in wanted:
        found = [c for c in checks if c.id == name or c.id.split(".", 1)[0] == name]
        if not found:
            ids = [c.id for c in checks]
            close = difflib.get_close_matches(name, ids, n=1)
            raise UsageError(
                f"no check {name!r}" + (f"; did you mean {close[0]!r}?" if close else ""),
                hint="`ecrcache doctor --list-checks` lists them",
            )
        chosen += [c for c in found if c not in chosen]
    if not wanted:
        chosen = [c for c in checks if image or Need.IMAGE not in c.needs]
    elif not image and any(Need.IMAGE in c.needs for c in chosen):
        raise UsageError("image checks need --image REF")
    order = {c.id: i for i, c in enumerate(checks)}
    return tuple(sorted(chosen, key=lambda c: (c.network, order[c.id])))


def run_checks(checks: Sequence[Check], selected: Iterable[Check], env: Env) -> DoctorReport:
    """Run ``selected`` (from ``checks``) against ``env``; every one yields a result."""
    by_id = {c.id: c for c in checks}
    done: dict[str, CheckResult] = {}

    def result_of(check: Check) -> CheckResult:
        if check.id not in done:
            done[check.id] = _run_one(check, env, [result_of(by_id[g]) for g in check.after])
        return done[check.id]

    results = tuple(result_of(c) for c in selected)
    return DoctorReport(context=env.context.to_dict(), results=results)


def _run_one(check: Check, env: Env, gates: list[CheckResult]) -> CheckResult:
    reason = _unmet(check, env, gates)
    if reason is not None:
        return _result(check, Finding("skip", reason))
    try:
        finding = check.func(env)
    except AwsAccessError as exc:
        finding = Finding(
            "warn",
            f"cannot check: {exc.message}",
            Fix(
                f"allow the caller {_action(exc)} (doctor only reads), "
                "or run doctor as a principal that may"
            ),
        )
    except EcrcacheError as exc:
        finding = Finding(
            "problem", f"could not check: {exc.message}", Fix(exc.hint or "see the message")
        )
    except Exception as exc:  # a bug in the check: report it, keep going
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return CheckResult(
            id=check.id,
            title=check.title,
            severity=check.severity,
            status=Status.CRASHED,
            finding=f"the check crashed: {type(exc).__name__}: {exc}",
            why=check.why,
            fix=Fix("report this to ecrcache's maintainers; the other checks still ran"),
            details=(f"at {where.filename}:{where.lineno} in {where.name}",),
        )
    return _result(check, finding)


def _action(exc: AwsAccessError) -> str:
    return f"the {exc.operation} call" if exc.operation else "this read"


def _unmet(check: Check, env: Env, gates: list[CheckResult]) -> str | None:
    from ecrcache.doctor.checks_hub import spoke_skip

    if (why := spoke_skip(env, check.id)) is not None:
        return why
    if Need.CONFIG in check.needs and env.config is None:
        return "no usable config (see config.valid)"
    if Need.AWS in check.needs and env.clients is None:
        return "no AWS region: pass --region or set region in the config"
    if Need.IMAGE in check.needs and not env.image:
        return "only with --image REF"
    for gate in gates:
        if gate.status is not Status.PASS and gate.status is not Status.WARN:
            return f"{gate.id} did not pass: {gate.finding}"
    return None


_STATUS_OF = {"pass": Status.PASS, "warn": Status.WARN, "skip": Status.SKIP}


def _result(check: Check, finding: Finding) -> CheckResult:
    if finding.kind == "problem":
        status = Status.FAIL if check.severity is Severity.ERROR else Status.WARN
    else:
        status = _STATUS_OF[finding.kind]
    return CheckResult(
        id=check.id,
        title=check.title,
        severity=check.severity,
        status=status,
        finding=finding.text,
        why=check.why,
        fix=finding.fix if status is not Status.PASS else None,
        details=finding.details,
    )
