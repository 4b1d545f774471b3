"""Running one piece of work per target, a few targets at a time, each failure its own.

A target is reached with the default credentials or by assuming its role (``aws.
assume_role_session``) in its own region; ``run_targets`` calls the work for every target on a
bounded pool (``bounded.run_bounded``) and returns one outcome per target, in the targets'
order: a result, or the one-line error that stopped that target alone (a role that cannot be
assumed, an account that does not match, AccessDenied on a read). Only a bug (not an
``EcrcacheError``) or Ctrl-C stops the others. Each target's work runs
``interrupts.in_target``, so the run's ledger of changes names the target of each.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from ecrcache import interrupts
from ecrcache.aws import Clients, assume_role_session
from ecrcache.errors import EcrcacheError, Interrupted
from ecrcache.reconcile.bounded import Stopped, run_bounded

if TYPE_CHECKING:
    import boto3

    from ecrcache.config.targets import Target

# Targets worked on at once. Each target runs its own bounded reads (up to 16 calls in flight,
# bounded.CONCURRENCY) against its own account's rate limits, so a few targets at once is
# already tens of calls in flight from one machine.
TARGET_CONCURRENCY = 4

R = TypeVar("R")


@dataclass(frozen=True)
class TargetOutcome(Generic[R]):
    """What one target's work gave: ``result``, or ``error`` (never both)."""

    target: Target
    result: R | None = None
    error: EcrcacheError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def target_clients(
    base: boto3.session.Session,
    target: Target,
    *,
    endpoint_url: str | None = None,
    sandbox: bool = False,
) -> Clients:
    """Clients for ``target``: its role's session (assumed now) or ``base``, in its region."""
    session = base
    if target.assume is not None:
        session = assume_role_session(
            base,
            role_arn=target.assume.role_arn,
            session_name=target.assume.session_name,
            external_id=target.assume.external_id,
            region=target.region,
            endpoint_url=endpoint_url,
        )
    return Clients(session, target.region, endpoint_url=endpoint_url, sandbox=sandbox)


def run_targets(
    work: Callable[[Target], R],
    targets: Sequence[Target],
    *,
    concurrency: int = TARGET_CONCURRENCY,
) -> list[TargetOutcome[R]]:
    """``work(target)`` for every target, ``concurrency`` at a time, in the targets' order.

    An EcrcacheError ends that target's work only and is its outcome; anything else (a bug,
    KeyboardInterrupt) stops the run and is raised as it was. Ctrl-C inside a target's apply
    (``Interrupted``) stops the run too, named after that target, with every target's changes
    made so far (the run's ledger)."""

    def one(target: Target) -> TargetOutcome[R]:
        try:
            with interrupts.in_target(target.name):
                return TargetOutcome(target, result=work(target))
        except Interrupted as exc:
            done = interrupts.applied()
            raise Interrupted(
                f"{target.name}: {exc.message}", hint=interrupts.applied_hint(done), applied=done
            ) from exc
        except EcrcacheError as exc:
            return TargetOutcome(target, error=exc)

    try:
        return run_bounded(one, list(targets), what="targets", concurrency=concurrency)
    except Stopped as stopped:
        raise stopped.cause from None


def combined_checksum(checksums: Sequence[tuple[str, str]]) -> str:
    """One digest of several targets' plans: each target's name with its plan's checksum,
    sorted by name, so ``apply --checksum`` refuses when any target's plan, or the set of
    targets planned, differs from what was reviewed."""
    doc = sorted([name, checksum] for name, checksum in checksums)
    raw = json.dumps(doc, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()
