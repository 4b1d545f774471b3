"""What changed between two JSON documents (policies, lifecycle policies), as a tree. Pure.

Terraform shows a changed policy as a nested diff with the unchanged parts hidden and counted;
this is the structure behind such a view (``render.py`` draws it). Objects are compared key by
key; lists of strings as sets (canonical policy lists are sorted sets), a bare string as a
one-element list (as policy.canonical reads it); lists of objects item by item, matched by an
identity key when every item has a distinct one (``Sid`` for policy
statements, ``rulePriority`` for lifecycle rules), else equal items first and the rest by
position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["same", "added", "removed", "changed", "nested"]
IDENTITY_KEYS = ("Sid", "rulePriority")
_MISSING: Any = object()


@dataclass(frozen=True)
class Diff:
    """How one value changed. ``key`` is its name in an object (None in a list).

    ``same``: unchanged; ``added``/``removed``: only in ``after``/``before``; ``changed``: replaced
    whole (scalars, or values of different shapes); ``nested``: an object or list whose
    ``children`` say what changed. ``identity`` is a list item's identity key, shown for context.
    """

    kind: Kind
    key: str | None = None
    before: Any = None
    after: Any = None
    children: tuple[Diff, ...] = ()
    identity: tuple[str, Any] | None = None

    @property
    def container(self) -> str:
        """``{}`` or ``[]`` for a nested diff of an object or a list."""
        return "{}" if isinstance(self.after, Mapping) else "[]"

    def count(self, kind: Kind) -> int:
        return sum(1 for c in self.children if c.kind == kind)


def diff(before: Any, after: Any, key: str | None = None) -> Diff:
    """The diff from ``before`` to ``after`` (JSON values)."""
    if before is _MISSING:
        return Diff("added", key, after=after)
    if after is _MISSING:
        return Diff("removed", key, before=before)
    if before == after:
        return Diff("same", key, before, after)
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        keys = sorted({*before, *after})
        children = tuple(diff(before.get(k, _MISSING), after.get(k, _MISSING), k) for k in keys)
        if all(c.kind == "same" for c in children):
            return Diff("same", key, before, after)
        return Diff("nested", key, before, after, children)
    if isinstance(before, list | str) and isinstance(after, list | str):
        # A policy's one-element list and its bare string are the same value (policy.canonical)
        listed = (
            [before] if isinstance(before, str) else before,
            [after] if isinstance(after, str) else after,
        )
        if listed[0] == listed[1]:
            return Diff("same", key, before, after)
        if isinstance(before, list) or isinstance(after, list):
            return Diff("nested", key, before, after, _list_children(*listed))
    return Diff("changed", key, before, after)


def _list_children(before: list[Any], after: list[Any]) -> tuple[Diff, ...]:
    if all(isinstance(v, Mapping) for v in (*before, *after)):
        ident = _identity_key(before, after)
        if ident is not None:
            return _by_identity(before, after, ident)
        return _by_equality(before, after)
    if all(_hashable(v) for v in (*before, *after)):
        gone = [Diff("removed", before=v) for v in before if v not in after]
        new = [Diff("added", after=v) for v in after if v not in before]
        same = [Diff("same", before=v, after=v) for v in before if v in after]
        return tuple(sorted((*gone, *new), key=_element_order)) + tuple(same)
    return _by_equality(before, after)


def _hashable(v: Any) -> bool:
    return isinstance(v, str | int | float | bool) or v is None


def _element_order(d: Diff) -> tuple[str, int]:
    value = d.before if d.kind == "removed" else d.after
    return (str(value), 0 if d.kind == "removed" else 1)


def _identity_key(before: list[Any], after: list[Any]) -> str | None:
    for k in IDENTITY_KEYS:
        if all(
            all(k in item for item in side) and len({repr(item[k]) for item in side}) == len(side)
            for side in (before, after)
        ):
            return k
    return None


def _by_identity(before: list[Any], after: list[Any], k: str) -> tuple[Diff, ...]:
    old = {repr(item[k]): item for item in before}
    new = {repr(item[k]): item for item in after}
    out = []
    for item in after:
        prev = old.get(repr(item[k]), _MISSING)
        d = diff(prev, item)
        out.append(Diff(d.kind, None, d.before, d.after, d.children, (k, item[k])))
    for item in before:
        if repr(item[k]) not in new:
            out.append(Diff("removed", before=item, identity=(k, item[k])))
    return tuple(out)


def _by_equality(before: list[Any], after: list[Any]) -> tuple[Diff, ...]:
    rest_before = [v for v in before if v not in after]
    rest_after = [v for v in after if v not in before]
    out = [diff(b, a) for b, a in zip(rest_before, rest_after, strict=False)]
    n = min(len(rest_before), len(rest_after))
    out += [Diff("removed", before=v) for v in rest_before[n:]]
    out += [Diff("added", after=v) for v in rest_after[n:]]
    out += [Diff("same", before=v, after=v) for v in after if v in before]
    return tuple(out)
