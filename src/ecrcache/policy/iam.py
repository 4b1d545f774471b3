"""A small IAM policy evaluator for the questions ecrcache asks (pure).

"May this principal perform ecr:CreateRepository on that repository ARN?" Identity policies and
one resource policy (a registry or repository policy) are evaluated as AWS documents it:
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
  ("If either the identity-based policy or the resource-based policy within the same account
  allows the request and the other doesn't, the request is still allowed.")
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
  (an account id or ``:root`` principal delegates to the account's own IAM policies)

An explicit Deny anywhere wins; otherwise one Allow is enough within an account; across accounts
both sides must allow. Set operators (``ForAllValues:``/``ForAnyValue:``) test multivalued
keys such as ``aws:TagKeys``: ForAllValues holds when every request value matches one policy
value, and also when the key is absent or empty (the documented trap, hence the
``aws:RequestTag`` test beside it); ForAnyValue when at least one does, never for an absent key
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
Out of scope: SCPs, RCPs, permission boundaries, session policies, policy variables,
NotPrincipal and numeric/date operators. What this module
cannot evaluate it reports as unknown (``Decision.unknown``) instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from types import MappingProxyType
from typing import Any

# a context value is a string, or a list of strings for a multivalued key (aws:TagKeys)
ContextValue = str | Sequence[str]
_NO_CONTEXT: Mapping[str, ContextValue] = MappingProxyType({})


class Outcome(Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


@dataclass(frozen=True)
class StatementRef:
    """Where a statement lives: ``source`` is 'identity[i]' or 'resource'; ``index`` its place."""

    source: str
    index: int
    sid: str | None


@dataclass(frozen=True)
class Unknown:
    """A statement whose result could not be computed, its effect, and why."""

    statement: StatementRef
    effect: str
    reason: str


@dataclass(frozen=True)
class Decision:
    """The outcome, the statement that decided it (None for an implicit deny), and the statements
    that could not be evaluated. ``certain`` is False when an unknown statement could change the
    outcome (an unknown Deny under an Allow, an unknown Allow under an implicit deny)."""

    outcome: Outcome
    decided_by: StatementRef | None
    unknown: tuple[Unknown, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW

    @property
    def certain(self) -> bool:
        if self.outcome is Outcome.EXPLICIT_DENY:
            return True
        flip = "Deny" if self.outcome is Outcome.ALLOW else "Allow"
        return not any(u.effect == flip for u in self.unknown)


class _Unsupported(Exception):
    """Raised inside statement evaluation for anything this evaluator does not model."""


@dataclass(frozen=True)
class _Match:
    ref: StatementRef
    effect: str
    delegated: bool = False  # matched through an account principal (id or :root), not by name


def evaluate(
    action: str,
    resource: str,
    *,
    identity_policies: Sequence[Mapping[str, Any]],
    resource_policy: Mapping[str, Any] | None = None,
    principal_arn: str | None = None,
    context: Mapping[str, ContextValue] = _NO_CONTEXT,
) -> Decision:
    """Decide whether ``action`` on ``resource`` is allowed.

    ``identity_policies`` are the documents attached to the principal; ``resource_policy`` is
    matched against ``principal_arn`` through its Principal elements. ``context`` holds the
    request's condition keys (case-insensitive names). Raises ``ValueError`` for a malformed
    policy (no Effect, both Action and NotAction, ...).
    """
    keys = {k.lower(): v for k, v in context.items()}
    identity: list[_Match] = []
    resource_side: list[_Match] = []
    unknown: list[Unknown] = []
    for i, doc in enumerate(identity_policies):
        _collect(doc, f"identity[{i}]", identity, unknown, action, resource, keys, None)
    if resource_policy is not None:
        _collect(
            resource_policy,
            "resource",
            resource_side,
            unknown,
            action,
            resource,
            keys,
            principal_arn or "",
        )
    return _decide(identity, resource_side, unknown, _cross_account(principal_arn, resource))


def _decide(
    identity: list[_Match], resource_side: list[_Match], unknown: list[Unknown], cross: bool
) -> Decision:
    denies = [m for m in (*identity, *resource_side) if m.effect == "Deny"]
    if denies:
        return Decision(Outcome.EXPLICIT_DENY, denies[0].ref, tuple(unknown))
    id_allow = next((m for m in identity if m.effect == "Allow"), None)
    # naming an account in a resource policy delegates to that account: within the account the
    # identity policies must grant it; across accounts it is the resource side's half
    res_allow = next(
        (m for m in resource_side if m.effect == "Allow" and (cross or not m.delegated)), None
    )
    # across accounts both the identity side and the resource side must allow
    both = res_allow if id_allow and res_allow else None
    allowed = both if cross else (id_allow or res_allow)
    if allowed:
        return Decision(Outcome.ALLOW, allowed.ref, tuple(unknown))
    return Decision(Outcome.IMPLICIT_DENY, None, tuple(unknown))


def _cross_account(principal_arn: str | None, resource: str) -> bool:
    mine, theirs = _account_of(principal_arn or ""), _account_of(resource)
    return bool(mine and theirs and mine != theirs)


def _account_of(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""


def _statements(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = doc.get("Statement", [])
    if isinstance(statements, Mapping):
        return [statements]
    if not isinstance(statements, list):
        raise ValueError("a policy's Statement must be an object or a list")
    return statements


def _collect(
    doc: Mapping[str, Any],
    source: str,
    matches: list[_Match],
    unknown: list[Unknown],
    action: str,
    resource: str,
    keys: Mapping[str, ContextValue],
    principal: str | None,
) -> None:
    for index, st in enumerate(_statements(doc)):
        effect = st.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise ValueError(f"{source} statement {index}: Effect must be Allow or Deny")
        ref = StatementRef(source, index, st.get("Sid"))
        try:
            via = _principal_kind(st, principal) if principal is not None else "name"
            hit = via is not None and _statement_matches(st, action, resource, keys)
        except _Unsupported as exc:
            unknown.append(Unknown(ref, effect, str(exc)))
            continue
        if hit:
            matches.append(_Match(ref, effect, delegated=via == "account"))


def _statement_matches(
    st: Mapping[str, Any],
    action: str,
    resource: str,
    keys: Mapping[str, ContextValue],
) -> bool:
    if not _element_matches(st, "Action", "NotAction", action, case_sensitive=False):
        return False
    if not _element_matches(st, "Resource", "NotResource", resource, case_sensitive=True):
        return False
    return _conditions_hold(st.get("Condition", {}), keys)


def _element_matches(
    st: Mapping[str, Any], name: str, not_name: str, value: str, *, case_sensitive: bool
) -> bool:
    if (name in st) == (not_name in st):
        raise ValueError(f"a statement needs exactly one of {name} and {not_name}")
    patterns = _strings(st.get(name, st.get(not_name)))
    if any("${" in p for p in patterns):
        raise _Unsupported(f"policy variables in {name} are not evaluated")
    hit = any(_glob(p, case_sensitive).fullmatch(value) for p in patterns)
    return hit if name in st else not hit


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list) and all(isinstance(v, str | bool) for v in value):
        return [v if isinstance(v, str) else ("true" if v else "false") for v in value]
    raise ValueError(f"expected a string or a list of strings, not {value!r}")


@lru_cache(maxsize=1024)
def _glob(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, 0 if case_sensitive else re.IGNORECASE)


# ---------------------------------------------------------------- principals (resource policies)


def _principal_kind(st: Mapping[str, Any], principal: str) -> str | None:
    """'name' when the statement names the principal (or '*'), 'account' when it names the
    principal's account, None when it does not apply to the principal."""
    if "NotPrincipal" in st:
        raise _Unsupported("NotPrincipal is not evaluated")
    spec = st.get("Principal")
    if spec is None:
        raise ValueError("a resource policy statement needs a Principal")
    if spec == "*":
        return "name"
    if not isinstance(spec, Mapping):
        raise ValueError(f"Principal must be '*' or an object, not {spec!r}")
    kinds = {
        _principal_value_kind(kind, value, principal)
        for kind, values in spec.items()
        for value in _strings(values)
    }
    return "name" if "name" in kinds else "account" if "account" in kinds else None


def _principal_value_kind(kind: str, value: str, principal: str) -> str | None:
    if kind == "Service":
        return "name" if value == principal else None
    if kind != "AWS":
        return None  # Federated, CanonicalUser: never ecrcache's principals
    if value == "*" or value == _as_iam_arn(principal):
        return "name"
    account = _account_of(_as_iam_arn(principal))
    is_account = re.fullmatch(r"\d{12}", value) or value.endswith(":root")
    if is_account and account in (value, _account_of(value)):
        return "account"
    return None


def _as_iam_arn(principal: str) -> str:
    # an assumed-role session is its role in a resource policy; the role's path is not in the
    # session ARN, so a role with a path does not match (a known limit of this evaluator)
    m = re.fullmatch(r"arn:([\w-]+):sts::(\d{12}):assumed-role/([^/]+)/.+", principal)
    return f"arn:{m[1]}:iam::{m[2]}:role/{m[3]}" if m else principal


# ---------------------------------------------------------------- conditions

_POSITIVE = {
    "stringequals": lambda want, got: want == got,
    "stringequalsignorecase": lambda want, got: want.lower() == got.lower(),
    "stringlike": lambda want, got: bool(_glob(want, True).fullmatch(got)),
    "arnequals": lambda want, got: _arn_like(want, got),
    "arnlike": lambda want, got: _arn_like(want, got),
    "bool": lambda want, got: want.lower() == got.lower(),
}
_NEGATED = {
    "stringnotequals": "stringequals",
    "stringnotequalsignorecase": "stringequalsignorecase",
    "stringnotlike": "stringlike",
    "arnnotequals": "arnequals",
    "arnnotlike": "arnlike",
}


def _conditions_hold(block: Any, keys: Mapping[str, ContextValue]) -> bool:
    if not isinstance(block, Mapping):
        raise ValueError("Condition must be an object")
    # every operator and every key must hold (AND); the values of one key are ORed
    return all(_operator_holds(op, entries, keys) for op, entries in block.items())


def _operator_holds(op: str, entries: Any, keys: Mapping[str, ContextValue]) -> bool:
    if not isinstance(entries, Mapping):
        raise ValueError(f"Condition operator {op} needs an object of keys")
    name = op.lower()
    qualifier, _, name = name.rpartition(":")
    if qualifier not in ("", "forallvalues", "foranyvalue"):
        raise _Unsupported(f"set operator {op} is not evaluated")
    if_exists = name.endswith("ifexists")
    base = name.removesuffix("ifexists")
    if base == "null" and not if_exists and not qualifier:
        return all(_null_holds(k, v, keys) for k, v in entries.items())
    if base not in _POSITIVE and base not in _NEGATED:
        raise _Unsupported(f"condition operator {op} is not evaluated")
    if qualifier:
        return all(_set_holds(qualifier, base, k, v, keys) for k, v in entries.items())
    return all(_key_holds(base, k, v, keys, if_exists) for k, v in entries.items())


def _wanted(key: str, wanted: Any) -> list[str]:
    values = _strings(wanted)
    if any("${" in v for v in values):
        raise _Unsupported(f"policy variables in condition {key} are not evaluated")
    return values


def _key_holds(
    base: str, key: str, wanted: Any, keys: Mapping[str, ContextValue], if_exists: bool
) -> bool:
    values = _wanted(key, wanted)
    got = keys.get(key.lower())
    negated = base in _NEGATED
    if got is None:
        # a missing key fails a positive test and passes a negated one; ...IfExists passes
        return if_exists or negated
    if not isinstance(got, str):
        raise _Unsupported(f"{key} is multivalued: only ForAllValues/ForAnyValue test it")
    test = _POSITIVE[_NEGATED.get(base, base)]
    hit = any(test(v, got) for v in values)
    return not hit if negated else hit


def _set_holds(
    qualifier: str, base: str, key: str, wanted: Any, keys: Mapping[str, ContextValue]
) -> bool:
    """ForAllValues: every request value passes the operator (true for none at all);
    ForAnyValue: at least one does. A negated operator passes a value matching no policy
    value."""
    values = _wanted(key, wanted)
    got = keys.get(key.lower())
    request = [got] if isinstance(got, str) else list(got or ())
    test = _POSITIVE[_NEGATED.get(base, base)]
    negated = base in _NEGATED

    def passes(value: str) -> bool:
        hit = any(test(v, value) for v in values)
        return not hit if negated else hit

    if qualifier == "forallvalues":
        return all(passes(v) for v in request)
    return any(passes(v) for v in request)


def _null_holds(key: str, wanted: Any, keys: Mapping[str, ContextValue]) -> bool:
    value = _strings(wanted)[0]
    absent = key.lower() not in keys
    return absent if value.lower() == "true" else not absent


def _arn_like(pattern: str, arn: str) -> bool:
    # "Each of the six colon-delimited components of the ARN is checked separately"
    want, got = pattern.split(":", 5), arn.split(":", 5)
    if len(want) != 6 or len(got) != 6:
        return False
    return all(_glob(w, True).fullmatch(g) for w, g in zip(want, got, strict=True))
