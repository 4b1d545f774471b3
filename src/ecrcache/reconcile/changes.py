"""The plan's vocabulary: actions, field changes, changes in execution order, and the Plan. Pure.

Ordering: creates, updates and replaces run in dependency order (secrets before the rules that
use them); deletes run after all of them, in reverse (rules before the secrets they used).
Safety lives here too: what needs ``--force``, and the octoDNS-style thresholds. ``plan.diff``
makes a Plan from desired and live state.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ecrcache.reconcile.resources import SecretValue


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"


# Dependency order of kinds; deletes walk it backwards.
KIND_ORDER = {
    "secret": 0,
    "iam-policy": 1,
    "rule": 2,
    "template": 3,
    "repository": 4,
    "repository-settings": 5,
    "scanning": 6,
    "registry-policy": 7,
    # [monitoring]: targets and their policies before the rule that delivers to them
    "sns-topic": 8,
    "log-group": 9,
    "logs-policy": 10,
    "event-rule": 11,
    "budget": 12,
}


@dataclass(frozen=True)
class Unknown:
    """A value the plan cannot know yet: Terraform's "(known after apply)".

    ``missing`` None: apply learns it itself (the ARN of a secret it creates). Otherwise why
    apply cannot (a token source with no value now, e.g. no DOCKERHUB_TOKEN in a pull
    request's job): apply must be given the value, and refuses before any change without it.
    """

    missing: str | None = None

    def __repr__(self) -> str:
        return "(known after apply)"


@dataclass(frozen=True)
class FieldChange:
    name: str
    before: Any
    after: Any  # an Unknown when the plan cannot know it yet
    sensitive: bool = False

    @property
    def after_unknown(self) -> bool:
        return isinstance(self.after, Unknown)

    def to_dict(self) -> dict[str, Any]:
        hide = self.sensitive
        # As Terraform's JSON plan (developer.hashicorp.com/terraform/internals/json-format,
        # change representation): an unknown value is absent from "after" (null here), flagged
        # by "after_unknown"; never a placeholder string that could be read as the value.
        after = None if self.after_unknown else self.after
        return {
            "name": self.name,
            "before": "(sensitive)" if hide and self.before is not None else _plain(self.before),
            "after": "(sensitive)" if hide and after is not None else _plain(after),
            "sensitive": self.sensitive,
            "after_unknown": self.after_unknown,
        }


@dataclass(frozen=True)
class Change:
    """One thing apply will do. Sorts into execution order."""

    kind: str
    key: str
    action: Action
    fields: tuple[FieldChange, ...] = ()
    before: Any = field(default=None, compare=False)
    after: Any = field(default=None, compare=False)
    reason: str | None = None
    needs_force: bool = False

    @property
    def address(self) -> str:
        return f"{self.kind}.{self.key}"

    @property
    def sort_key(self) -> tuple[int, int, int, str]:
        rank = KIND_ORDER[self.kind]
        if self.action is Action.DELETE and self.kind == "rule":
            # A rule depends on nothing another rule needs: deleting pruned rules before creating
            # new ones lets a prune make room at ECR's 50-rule quota.
            return (0, rank, 0, self.key)
        if self.action is Action.DELETE:
            return (1, -rank, 0, self.key)
        return (0, rank, 1, self.key)

    def __lt__(self, other: Change) -> bool:
        return self.sort_key < other.sort_key

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "kind": self.kind,
            "key": self.key,
            "action": self.action.value,
            "fields": [f.to_dict() for f in self.fields],
            "reason": self.reason,
            "needs_force": self.needs_force,
        }


@dataclass(frozen=True)
class Unmanaged:
    """A live resource the config does not declare: reported, deleted only with --prune, and
    only when it is ecrcache's own (``ours``; see ownership.py)."""

    kind: str
    key: str
    ours: bool = True

    @property
    def address(self) -> str:
        return f"{self.kind}.{self.key}"


@dataclass(frozen=True)
class Safety:
    update_threshold: float = 0.3
    delete_threshold: float = 0.3
    min_existing: int = 10


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    unmanaged: tuple[Unmanaged, ...] = ()
    existing: int = 0  # live resources the plan could touch (the base for thresholds)
    problems: tuple[str, ...] = ()  # things no apply can fix (a referenced secret is missing)

    @property
    def empty(self) -> bool:
        return not self.changes

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    def summary(self) -> dict[str, int]:
        return {
            "add": self.count(Action.CREATE),
            "change": self.count(Action.UPDATE),
            "replace": self.count(Action.REPLACE),
            "destroy": self.count(Action.DELETE),
        }

    def checksum(self) -> str:
        """A stable digest of what apply would do, secret value changes included (as digests)."""
        return _digest([_checksum_json(c) for c in self.changes])

    def accepts_checksum(self, reviewed: str) -> bool:
        """Whether ``reviewed`` (the checksum of the plan someone reviewed) allows applying this
        plan. Decided as Terraform compares its initial planned state with the final one made at
        apply (hashicorp/terraform docs/resource-instance-change-lifecycle.md, PlanResourceChange):
        a value known at plan time must be identical now, one unknown then ("known after apply")
        may take any value now. So the plan of a pull request's job, made without the token, is
        accepted by the apply on main that has it, while a known value that changed since the
        review, or any other change, is refused. Only new secrets' values can be unknown in one
        plan and known in the next (``missing_values``): the checksums of this plan with each
        set of them made unknown are compared (every set up to MASKED_SETS_UPTO such secrets;
        beyond that, none or all of them)."""
        docs = [_checksum_json(c) for c in self.changes]
        if reviewed == _digest(docs):
            return True
        knowable = [i for i, c in enumerate(self.changes) if _masked(c) is not c]
        if len(knowable) <= MASKED_SETS_UPTO:
            sets = [[i for n, i in enumerate(knowable) if bits >> n & 1]
                    for bits in range(1, 1 << len(knowable))]  # fmt: skip
        else:
            sets = [knowable]
        masked = {i: _checksum_json(_masked(self.changes[i])) for i in knowable}
        for chosen in sets:
            variant = [masked[i] if i in chosen else d for i, d in enumerate(docs)]
            if reviewed == _digest(variant):
                return True
        return False

    def missing_values(self) -> tuple[tuple[str, str], ...]:
        """(address, why) of every value apply needs and does not have: it refuses them all
        before its first change (``apply.require_values``)."""
        return tuple(
            (c.address, f.after.missing)
            for c in self.changes
            for f in c.fields
            if isinstance(f.after, Unknown) and f.after.missing is not None
        )

    def unsafe_reasons(self, safety: Safety) -> tuple[str, ...]:
        """Why this plan needs ``--force``; empty when it does not."""
        reasons = [
            f"{c.address}: {c.action.value} ({c.reason or 'destroys a rule'})"
            for c in self.changes
            if c.needs_force
        ]
        if self.existing >= safety.min_existing and self.existing > 0:
            updates = self.count(Action.UPDATE) + self.count(Action.REPLACE)
            deletes = self.count(Action.DELETE)
            if updates / self.existing > safety.update_threshold:
                reasons.append(
                    f"{updates} of {self.existing} existing resources would change "
                    f"(threshold {safety.update_threshold:.0%})"
                )
            if deletes / self.existing > safety.delete_threshold:
                reasons.append(
                    f"{deletes} of {self.existing} existing resources would be destroyed "
                    f"(threshold {safety.delete_threshold:.0%})"
                )
        return tuple(reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "changes": [c.to_dict() for c in self.changes],
            "unmanaged": [u.address for u in self.unmanaged],
            "summary": self.summary(),
            "problems": list(self.problems),
            "checksum": self.checksum(),
        }


MASKED_SETS_UPTO = 6  # 63 checksums at most; a plan creating more secrets at once is rare


def _masked(c: Change) -> Change:
    """``c`` with its known new secret values made unknown (the change itself when it has
    none): what a plan made without those values would have shown."""
    if c.action is not Action.CREATE or c.kind != "secret":
        return c
    fields = tuple(
        replace(f, after=Unknown(missing="")) if f.sensitive and isinstance(f.after, SecretValue)
        else f
        for f in c.fields
    )  # fmt: skip
    return replace(c, fields=fields) if fields != c.fields else c


def _checksum_json(c: Change) -> str:
    return json.dumps(_checksum_doc(c), sort_keys=True, separators=(",", ":"), default=str)


def _digest(docs: list[str]) -> str:
    # the same text as json.dumps of the list with these separators
    raw = "[" + ",".join(docs) + "]"
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def _checksum_doc(c: Change) -> dict[str, Any]:
    d = c.to_dict()
    for f, fd in zip(c.fields, d["fields"], strict=True):
        if f.sensitive:
            fd["before"] = f.before.digest if isinstance(f.before, SecretValue) else None
            fd["after"] = f.after.digest if isinstance(f.after, SecretValue) else None
    return d


def _plain(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v
