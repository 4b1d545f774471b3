"""The values doctor passes around: checks, what a check found, and the result of running it.

Pure. A check function returns a ``Finding``; the runner turns it into a ``CheckResult`` whose
status depends on the check's severity (a problem in an ``error`` check fails, in a ``warning``
check warns). Nothing here may hold a credential: findings name secrets, never their values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecrcache.doctor.env import Env


class Severity(StrEnum):
    ERROR = "error"  # the cache does not work as configured: doctor exits 1
    WARNING = "warning"  # it works, but costs, surprises or will break later


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"
    CRASHED = "crashed"


class Need(StrEnum):
    """What a check needs; the runner skips it, saying why, when that is missing."""

    CONFIG = "config"
    AWS = "aws"
    NETWORK = "network"  # talks to something beyond the AWS API: runs last, with a timeout
    IMAGE = "image"  # only with --image


@dataclass(frozen=True)
class Fix:
    """How to fix a problem, exactly: commands to run in order, and/or TOML to add to the
    config file (then run the commands, typically ``ecrcache apply``)."""

    summary: str
    commands: tuple[str, ...] = ()
    config: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "commands": list(self.commands), "config": self.config}


# Finding kinds: "problem" becomes fail or warn by severity; "warn" is a warning whatever the
# severity (e.g. something doctor could only half check); "skip" means it did not apply.
_KINDS = ("pass", "problem", "warn", "skip")


@dataclass(frozen=True)
class Finding:
    """What one check found: a one-line ``text``, a ``fix`` for a problem, and detail lines."""

    kind: str
    text: str
    fix: Fix | None = None
    details: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}")


def passed(text: str, *details: str) -> Finding:
    return Finding("pass", text, details=details)


def problem(text: str, fix: Fix, *details: str) -> Finding:
    return Finding("problem", text, fix, details)


def warning(text: str, fix: Fix | None = None, *details: str) -> Finding:
    return Finding("warn", text, fix, details)


def skipped(text: str, *details: str) -> Finding:
    return Finding("skip", text, details=details)


CheckFunc = Callable[["Env"], Finding]


@dataclass(frozen=True)
class Check:
    """One named check. ``id`` is stable (scripts select it with ``--check``); ``why`` says in
    one line why the thing checked matters."""

    id: str
    title: str
    severity: Severity
    why: str
    needs: frozenset[Need]
    func: CheckFunc
    # Checks that must pass first; when one does not, this one is skipped, saying which.
    after: tuple[str, ...] = ()

    @property
    def network(self) -> bool:
        return Need.NETWORK in self.needs

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity.value,
            "needs": sorted(n.value for n in self.needs),
            "why": self.why,
        }


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    severity: Severity
    status: Status
    finding: str
    why: str
    fix: Fix | None = None
    details: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.status in (Status.FAIL, Status.CRASHED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity.value,
            "status": self.status.value,
            "finding": self.finding,
            "why": self.why,
            "fix": self.fix.to_dict() if self.fix else None,
            "details": list(self.details),
        }


AWS_GATE: tuple[str, ...] = ("creds.identity",)
ECR_GATE: tuple[str, ...] = ("creds.identity", "ecr.available")


def check(
    id: str,
    title: str,
    severity: Severity,
    *,
    why: str,
    needs: tuple[Need, ...] = (),
    after: tuple[str, ...] = (),
) -> Callable[[CheckFunc], Check]:
    """Declare a check: the decorated function becomes the ``Check``'s ``func``."""

    def wrap(func: CheckFunc) -> Check:
        return Check(id, title, severity, why, frozenset(needs), func, after)

    return wrap
