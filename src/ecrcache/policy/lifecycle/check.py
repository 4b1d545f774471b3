"""Checking a lifecycle policy against ECR's rules: :func:`check_policy` and its ``*_problems``
helpers, one sentence per problem ECR would reject or silently mishandle.

Sources (stored copies read through the search tool):
- Properties: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
- Evaluation rules ("How lifecycle policies work"):
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
- Archive storage class: https://docs.aws.amazon.com/AmazonECR/latest/userguide/archive-image.html

One reading of the docs matters everywhere below: the rules about ``tagStatus: any`` being last,
one untagged rule and unique tag lists hold *per storage class*. The documented "Combining
archive and expire rules" example has two ``any`` rules (priority 1 on standard images, priority 2
on archived ones), which a global reading would reject; and the evaluation rules say "the set of
all rules selecting a specific storage class ...".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecrcache.policy.lifecycle.compile import (
    ACTION_TYPES,
    ARCHIVE_MINIMUM_DAYS,
    COUNT_TYPES,
    MAX_POLICY_CHARS,
    MIN_POLICY_CHARS,
    SINCE_COUNT_TYPES,
    STORAGE_CLASSES,
    TAG_STATUSES,
    is_int,
    normalise,
    parse,
    pattern_problem,
)

_RULE_KEYS = frozenset({"rulePriority", "description", "selection", "action"})
_SELECTION_KEYS = frozenset(
    {
        "tagStatus",
        "tagPatternList",
        "tagPrefixList",
        "storageClass",
        "countType",
        "countUnit",
        "countNumber",
    }
)
_ACTION_KEYS = frozenset({"type", "targetStorageClass"})


def check_policy(
    policy: str | Mapping[str, Any], *, min_chars: int = MIN_POLICY_CHARS
) -> tuple[str, ...]:
    """Every problem ECR would reject or silently mishandle, one sentence each; empty when valid.

    A string is measured as given; a mapping as the compact JSON :func:`normalise` produces (what
    ecrcache sends). ``min_chars`` is PutLifecyclePolicy's minimum; pass 0 for a repository
    creation template, whose lifecycle text may be empty.
    """
    try:
        doc = parse(policy)
    except ValueError as exc:
        return (str(exc),)
    text = policy if isinstance(policy, str) else normalise(doc)
    return (*_length_problems(text, min_chars), *document_problems(doc))


def _length_problems(text: str, min_chars: int) -> list[str]:
    if len(text) > MAX_POLICY_CHARS:
        return [f"the policy is {len(text)} characters; ECR accepts at most {MAX_POLICY_CHARS}"]
    if len(text) < min_chars:
        return [
            f"the policy is {len(text)} characters; PutLifecyclePolicy needs at least {min_chars}"
        ]
    return []


def document_problems(doc: Mapping[str, Any]) -> list[str]:
    extra = sorted(set(doc) - {"rules"})
    problems = [f"'{k}' is not a lifecycle policy field (only 'rules' is)" for k in extra]
    rules = doc.get("rules")
    if not isinstance(rules, list) or not rules:
        return [*problems, "the policy needs a non-empty 'rules' list"]
    for index, rule in enumerate(rules):
        problems += _rule_problems(rule, index)
    problems += _priority_problems(rules)
    problems += _storage_class_group_problems(rules)
    return problems


def _label(rule: Any, index: int) -> str:
    priority = rule.get("rulePriority") if isinstance(rule, Mapping) else None
    if is_int(priority) and priority >= 1:
        return f"rule {priority}"
    return f"rule #{index + 1} (no valid rulePriority)"


def _rule_problems(rule: Any, index: int) -> list[str]:
    label = _label(rule, index)
    if not isinstance(rule, Mapping):
        return [f"{label}: a rule must be a JSON object"]
    problems = [f"{label}: '{k}' is not a rule field" for k in sorted(set(rule) - _RULE_KEYS)]
    priority = rule.get("rulePriority")
    if not is_int(priority) or priority < 1:
        problems.append(f"{label}: rulePriority must be a positive integer, not {priority!r}")
    if "description" in rule and not isinstance(rule["description"], str):
        problems.append(f"{label}: description must be a string")
    selection, action = rule.get("selection"), rule.get("action")
    if not isinstance(selection, Mapping):
        problems.append(f"{label}: needs a 'selection' object")
        selection = {}
    else:
        problems += _selection_problems(label, selection)
    if not isinstance(action, Mapping):
        problems.append(f"{label}: needs an 'action' object")
    else:
        problems += _action_problems(label, selection, action)
    return problems


def _selection_problems(label: str, sel: Mapping[str, Any]) -> list[str]:
    problems = [
        f"{label}: '{k}' is not a selection field" for k in sorted(set(sel) - _SELECTION_KEYS)
    ]
    problems += _tag_problems(label, sel)
    problems += _count_problems(label, sel)
    problems += _storage_class_problems(label, sel)
    return problems


def _tag_problems(label: str, sel: Mapping[str, Any]) -> list[str]:
    status = sel.get("tagStatus")
    if status not in TAG_STATUSES:
        return [f"{label}: tagStatus must be one of {', '.join(TAG_STATUSES)}, not {status!r}"]
    has_patterns, has_prefixes = "tagPatternList" in sel, "tagPrefixList" in sel
    if status != "tagged":
        if has_patterns or has_prefixes:
            return [f"{label}: tagPatternList and tagPrefixList are only allowed with 'tagged'"]
        return []
    if has_patterns and has_prefixes:
        return [f"{label}: use tagPatternList or tagPrefixList, not both"]
    if not (has_patterns or has_prefixes):
        return [f"{label}: tagStatus 'tagged' needs a tagPatternList or a tagPrefixList"]
    key = "tagPatternList" if has_patterns else "tagPrefixList"
    values = sel[key]
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, str) and v for v in values)
    ):
        return [f"{label}: {key} must be a non-empty list of non-empty strings"]
    if key == "tagPrefixList":
        return []
    return [f"{label}: {p}" for v in values if (p := pattern_problem(v))]


def _count_problems(label: str, sel: Mapping[str, Any]) -> list[str]:
    count_type = sel.get("countType")
    if count_type not in COUNT_TYPES:
        return [f"{label}: countType must be one of {', '.join(COUNT_TYPES)}, not {count_type!r}"]
    problems = []
    number = sel.get("countNumber")
    if not is_int(number) or number < 1:
        problems.append(f"{label}: countNumber must be a positive integer, not {number!r}")
    unit = sel.get("countUnit")
    if count_type in SINCE_COUNT_TYPES and unit != "days":
        problems.append(f"{label}: countType {count_type} needs countUnit 'days', not {unit!r}")
    if count_type == "imageCountMoreThan" and "countUnit" in sel:
        problems.append(f"{label}: countUnit is not allowed with imageCountMoreThan")
    if (
        count_type == "sinceImageTransitioned"
        and is_int(number)
        and 0 < number < ARCHIVE_MINIMUM_DAYS
    ):
        problems.append(
            f"{label}: archived images must stay {ARCHIVE_MINIMUM_DAYS} days, so "
            f"sinceImageTransitioned needs countNumber >= {ARCHIVE_MINIMUM_DAYS}"
        )
    return problems


def _storage_class_problems(label: str, sel: Mapping[str, Any]) -> list[str]:
    storage = sel.get("storageClass", "standard")
    if storage not in STORAGE_CLASSES:
        return [f"{label}: storageClass must be 'standard' or 'archive', not {storage!r}"]
    count_type = sel.get("countType")
    if count_type == "sinceImageTransitioned" and sel.get("storageClass") != "archive":
        return [f"{label}: sinceImageTransitioned needs storageClass 'archive'"]
    if (
        count_type in COUNT_TYPES
        and count_type != "sinceImageTransitioned"
        and storage != "standard"
    ):
        return [f"{label}: countType {count_type} only works with storageClass 'standard'"]
    return []


def _action_problems(label: str, sel: Mapping[str, Any], action: Mapping[str, Any]) -> list[str]:
    problems = [
        f"{label}: '{k}' is not an action field" for k in sorted(set(action) - _ACTION_KEYS)
    ]
    kind, target = action.get("type"), action.get("targetStorageClass")
    if kind not in ACTION_TYPES:
        return [*problems, f"{label}: action type must be 'expire' or 'transition', not {kind!r}"]
    if kind == "transition" and target != "archive":
        problems.append(f"{label}: a transition needs targetStorageClass 'archive', not {target!r}")
    if kind == "expire" and "targetStorageClass" in action:
        problems.append(f"{label}: targetStorageClass is only allowed with a transition")
    count_type = sel.get("countType")
    if count_type == "sinceImagePulled" and kind != "transition":
        problems.append(f"{label}: sinceImagePulled can only transition images, not expire them")
    if count_type == "sinceImageTransitioned" and kind != "expire":
        problems.append(f"{label}: sinceImageTransitioned can only expire images")
    return problems


def _priority_problems(rules: list[Any]) -> list[str]:
    seen: dict[int, int] = {}
    for rule in rules:
        priority = rule.get("rulePriority") if isinstance(rule, Mapping) else None
        if is_int(priority):
            seen[priority] = seen.get(priority, 0) + 1
    return [
        f"rule {p}: rulePriority {p} is used by {n} rules; priorities must be unique"
        for p, n in sorted(seen.items())
        if n > 1
    ]


def _storage_class_group_problems(rules: list[Any]) -> list[str]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for rule in rules:
        if isinstance(rule, Mapping) and is_int(rule.get("rulePriority")):
            sel = rule.get("selection")
            storage = sel.get("storageClass", "standard") if isinstance(sel, Mapping) else None
            if storage in STORAGE_CLASSES:
                groups.setdefault(storage, []).append(rule)
    problems: list[str] = []
    for storage, group in sorted(groups.items()):
        group.sort(key=lambda r: r["rulePriority"])
        problems += _any_last_problems(storage, group)
        problems += _untagged_once_problems(storage, group)
        problems += _unique_tag_list_problems(storage, group)
    return problems


def _status(rule: Mapping[str, Any]) -> Any:
    sel = rule.get("selection")
    return sel.get("tagStatus") if isinstance(sel, Mapping) else None


def _any_last_problems(storage: str, group: list[Mapping[str, Any]]) -> list[str]:
    last = group[-1]["rulePriority"]
    return [
        f"rule {r['rulePriority']}: a tagStatus 'any' rule must have the highest rulePriority "
        f"of the {storage}-class rules, but rule {last} comes after it"
        for r in group
        if _status(r) == "any" and r["rulePriority"] != last
    ]


def _untagged_once_problems(storage: str, group: list[Mapping[str, Any]]) -> list[str]:
    untagged = [r["rulePriority"] for r in group if _status(r) == "untagged"]
    if len(untagged) < 2:
        return []
    listed = ", ".join(str(p) for p in untagged)
    return [
        f"rule {untagged[1]}: only one {storage}-class rule may select untagged images "
        f"(rules {listed} do)"
    ]


def _unique_tag_list_problems(storage: str, group: list[Mapping[str, Any]]) -> list[str]:
    first_with: dict[tuple[str, ...], int] = {}
    problems = []
    for rule in group:
        sel = rule.get("selection")
        values = _tag_values(sel) if isinstance(sel, Mapping) else None
        if values is None:
            continue
        key = tuple(sorted(values))
        if key in first_with:
            problems.append(
                f"rule {rule['rulePriority']}: selects the same tags as rule {first_with[key]}; "
                f"the {storage}-class rules need a unique set of tag prefixes and patterns"
            )
        else:
            first_with[key] = rule["rulePriority"]
    return problems


def _tag_values(sel: Mapping[str, Any]) -> list[str] | None:
    values = sel.get("tagPatternList", sel.get("tagPrefixList"))
    if isinstance(values, list) and all(isinstance(v, str) for v in values):
        return values
    return None
