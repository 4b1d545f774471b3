"""One canonical form for IAM, registry and repository policy documents, used on both sides.

AWS stores a policy in its own form: ECR turns an account-ID principal into
``arn:PARTITION:iam::ID:root`` and reorders principal lists, and AWS endpoints treat a
one-element list and a bare string alike (hashicorp/awspolicyequivalence, whose
``PoliciesAreEquivalent`` the Terraform AWS provider wraps around every such document through
``verify.SuppressEquivalentPolicyDiffs`` and ``verify.PolicyToSet``). Comparing text would then
plan a change after every apply. The canonical form, built from the document alone:

- ``Statement`` is always a list, in a stable order (by Sid, then by content);
- ``Action``/``NotAction``/``Resource``/``NotResource``, each principal type's values of
  ``Principal``/``NotPrincipal`` and each condition's values are sorted, de-duplicated lists of
  strings; a bare string is a one-element list; numbers and booleans are their JSON text
  (``true`` == ``"true"``, ``100`` == ``"100"``, as awspolicyequivalence's ``newStringSet``);
- a 12-digit account ID principal is its root ARN in the caller's partition;
- an empty list of actions or resources is no list, an empty principal type is no type and a
  principal with no type left is no principal (awspolicyequivalence's tests 22-25);
- ``Effect`` is compared without case; an empty ``Sid`` is no Sid.

As awspolicyequivalence does, and so differently from a looser reading of AWS's rules: action
names keep their case, ``"Principal": "*"`` differs from ``{"AWS": "*"}``, ``Version`` (and a
missing one) is compared as it is, and a condition key with ``[]`` differs from a missing key.
Each of those can at worst plan an update that changes nothing, never hide a real change.
Unlike it, duplicates in a list are dropped (IAM evaluates a list as a set).

``canonical_text`` writes the form as compact JSON with sorted keys and every one-element list
collapsed to its string, the form AWS itself returns: the text ecrcache writes is then never
longer than the document it was made from (IAM's managed policy size limit counts it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ecrcache.inputfile import loads_json

ACCOUNT_ID = re.compile(r"\d{12}")
VALUE_LISTS = ("Action", "NotAction", "Resource", "NotResource")
PRINCIPALS = ("Principal", "NotPrincipal")


def _load(doc: str | Mapping[str, Any]) -> Any:
    return loads_json(doc) if isinstance(doc, str) else doc  # bounded: a ValueError if deep


def canonical_document(doc: str | Mapping[str, Any], *, partition: str) -> Any:
    """The canonical form of a policy document (JSON text or parsed). A value that is not a
    JSON object, or a ``Statement`` that is neither an object nor a list, is left as it is."""
    value = _load(doc)
    if not isinstance(value, Mapping):
        return value
    out = dict(value)
    st = out.get("Statement")
    statements = [st] if isinstance(st, Mapping) else st if isinstance(st, list) else None
    if statements is not None:
        canon = [
            canonical_statement(s, partition=partition) if isinstance(s, Mapping) else s
            for s in statements
        ]
        out["Statement"] = sorted(canon, key=_statement_order)
    return out


def canonical_statement(statement: str | Mapping[str, Any], *, partition: str) -> Any:
    """The canonical form of one statement (see the module docstring)."""
    st = _load(statement)
    if not isinstance(st, Mapping):
        return st
    out: dict[str, Any] = {}
    for key, value in st.items():
        if key == "Sid" and value == "":
            continue
        if key == "Effect" and isinstance(value, str) and value.lower() in ("allow", "deny"):
            value = value.capitalize()
        elif key in VALUE_LISTS:
            value = _values(value)
            if value == []:
                continue
        elif key in PRINCIPALS:
            value = _principal(value, partition)
            if value is None:
                continue
        elif key == "Condition" and isinstance(value, Mapping):
            value = {
                op: {k: _values(v) for k, v in block.items()}
                if isinstance(block, Mapping)
                else block
                for op, block in value.items()
            }
        out[key] = value
    return out


def canonical_text(doc: str | Mapping[str, Any], *, partition: str) -> str:
    """The canonical form as compact JSON text, one-element lists collapsed."""
    return _dump(_collapse_document(canonical_document(doc, partition=partition)))


def canonical_statement_text(statement: str | Mapping[str, Any], *, partition: str) -> str:
    """One statement's canonical form as compact JSON text, one-element lists collapsed."""
    return _dump(_collapse_statement(canonical_statement(statement, partition=partition)))


def equivalent(a: str | Mapping[str, Any], b: str | Mapping[str, Any], *, partition: str) -> bool:
    """Whether two policy documents mean the same by the canonical form."""
    return bool(
        canonical_document(a, partition=partition) == canonical_document(b, partition=partition)
    )


# --- the parts --------------------------------------------------------------------------------


def _scalar(v: Any) -> str | None:
    """A list member as the string IAM compares, or None for a value that is no scalar."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return None


def _values(value: Any) -> Any:
    """A string, a scalar or a list of them as a sorted list of distinct strings; anything else
    (an object, nested lists) as it is, so that it only ever equals itself."""
    items = value if isinstance(value, list) else [value]
    strings = [_scalar(v) for v in items]
    if any(s is None for s in strings):
        return value
    return sorted({s for s in strings if s is not None})


def _root(value: str, partition: str) -> str:
    return f"arn:{partition}:iam::{value}:root" if ACCOUNT_ID.fullmatch(value) else value


def _principal(value: Any, partition: str) -> Any:
    if isinstance(value, str):
        return _root(value, partition)
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for kind, members in value.items():
        values = _values(members)
        if isinstance(values, list):
            if kind == "AWS":
                values = sorted({_root(v, partition) for v in values})
            if not values:
                continue
        out[kind] = values
    return out or None


def _statement_order(st: Any) -> tuple[str, str]:
    sid = st.get("Sid") if isinstance(st, Mapping) else None
    return (sid if isinstance(sid, str) else "", _dump(st))


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _one(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _collapse_statement(st: Any) -> Any:
    if not isinstance(st, Mapping):
        return st
    out = dict(st)
    for key in VALUE_LISTS:
        if key in out:
            out[key] = _one(out[key])
    for key in PRINCIPALS:
        if isinstance(out.get(key), Mapping):
            out[key] = {kind: _one(v) for kind, v in out[key].items()}
    if isinstance(out.get("Condition"), Mapping):
        out["Condition"] = {
            op: {k: _one(v) for k, v in block.items()} if isinstance(block, Mapping) else block
            for op, block in out["Condition"].items()
        }
    return out


def _collapse_document(doc: Any) -> Any:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("Statement"), list):
        return doc
    return {**doc, "Statement": [_collapse_statement(s) for s in doc["Statement"]]}
