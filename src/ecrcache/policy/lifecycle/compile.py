"""Lifecycle policy documents made and put in one form: the constants ECR's rules are written in,
:func:`compile_rules` (friendly settings to a policy document) and :func:`normalise` (canonical
compact JSON), plus the parsing and tag-pattern helpers ``check`` and ``evaluation`` share.

Sources (stored copies read through the search tool):
- Properties: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
- Examples: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html
- Archive storage class: https://docs.aws.amazon.com/AmazonECR/latest/userguide/archive-image.html
- Length: botocore ECR model, ``LifecyclePolicyText`` min 100, max 30720.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeGuard

from ecrcache.inputfile import TooDeep, loads_json

TAG_STATUSES = ("tagged", "untagged", "any")
COUNT_TYPES = (
    "imageCountMoreThan",
    "sinceImagePushed",
    "sinceImagePulled",
    "sinceImageTransitioned",
)
SINCE_COUNT_TYPES = frozenset(COUNT_TYPES[1:])
STORAGE_CLASSES = ("standard", "archive")
ACTION_TYPES = ("expire", "transition")
MIN_POLICY_CHARS = 100  # PutLifecyclePolicy; a creation template accepts 0
MAX_POLICY_CHARS = 30_720
MAX_PATTERN_WILDCARDS = 4
ARCHIVE_MINIMUM_DAYS = 90  # "You cannot configure lifecycle policies that delete images that have
# been in archive for less than 90 days" (archive-image.html)


# --------------------------------------------------------------------------- compile


def compile_rules(
    *,
    keep_last: int | None = None,
    expire_untagged_after_days: int | None = None,
    archive_unpulled_after_days: int | None = None,
    expire_archived_after_days: int | None = None,
    keep_last_tag_patterns: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Friendly settings → an ECR lifecycle policy document (``{"rules": [...]}``).

    - ``keep_last_tag_patterns``: pattern → N; keep the newest N images with a tag matching the
      pattern. These come first, so (per ECR) the images they select are never touched by the
      later rules: they are protective.
    - ``expire_untagged_after_days``: expire untagged images pushed more than N days ago.
    - ``archive_unpulled_after_days``: move images not pulled for N days to the archive class.
    - ``keep_last``: keep the newest N images of all, expire the rest (the ``any`` rule, last).
    - ``expire_archived_after_days``: delete images archived for more than N (>= 90) days.

    Priorities are 1..n in that order, so the result passes :func:`check_policy`. Raises
    ``ValueError`` for a non-positive number, nothing to compile, or ``keep_last`` together with
    ``archive_unpulled_after_days`` (both select every standard image; ECR lets only one
    ``any`` rule per storage class act, so the second could never do anything).
    """
    patterns = dict(keep_last_tag_patterns or {})
    _require_positive(
        keep_last=keep_last,
        expire_untagged_after_days=expire_untagged_after_days,
        archive_unpulled_after_days=archive_unpulled_after_days,
        expire_archived_after_days=expire_archived_after_days,
        **{f"keep_last_tag_patterns[{p!r}]": n for p, n in patterns.items()},
    )
    if keep_last is not None and archive_unpulled_after_days is not None:
        raise ValueError(
            "keep_last and archive_unpulled_after_days both select every image; ECR acts on only "
            "one 'any' rule per storage class, so use one or the other"
        )
    if expire_archived_after_days is not None and expire_archived_after_days < ARCHIVE_MINIMUM_DAYS:
        raise ValueError(
            f"expire_archived_after_days must be at least {ARCHIVE_MINIMUM_DAYS}: ECR keeps "
            "archived images for a 90-day minimum"
        )
    for pattern in patterns:
        problem = pattern_problem(pattern)
        if problem:
            raise ValueError(f"keep_last_tag_patterns: {problem}")
    bodies = [*(_keep_pattern(p, n) for p, n in patterns.items())]
    if expire_untagged_after_days is not None:
        bodies.append(_expire_untagged(expire_untagged_after_days))
    if archive_unpulled_after_days is not None:
        bodies.append(_archive_unpulled(archive_unpulled_after_days))
    if keep_last is not None:
        bodies.append(_keep_last(keep_last))
    if expire_archived_after_days is not None:
        bodies.append(_expire_archived(expire_archived_after_days))
    if not bodies:
        raise ValueError("compile_rules needs at least one setting")
    return {"rules": [{"rulePriority": i, **body} for i, body in enumerate(bodies, start=1)]}


def _require_positive(**values: int | None) -> None:
    for name, value in values.items():
        if value is not None and (type(value) is not int or value < 1):
            raise ValueError(f"{name} must be a positive integer, not {value!r}")


def _keep_pattern(pattern: str, count: int) -> dict[str, Any]:
    return {
        "description": f"ecrcache: keep the newest {count} images tagged {pattern}",
        "selection": {
            "tagStatus": "tagged",
            "tagPatternList": [pattern],
            "countType": "imageCountMoreThan",
            "countNumber": count,
        },
        "action": {"type": "expire"},
    }


def _expire_untagged(days: int) -> dict[str, Any]:
    return {
        "description": f"ecrcache: expire untagged images after {days} days",
        "selection": {
            "tagStatus": "untagged",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": days,
        },
        "action": {"type": "expire"},
    }


def _archive_unpulled(days: int) -> dict[str, Any]:
    return {
        "description": f"ecrcache: archive images not pulled for {days} days",
        "selection": {
            "tagStatus": "any",
            "countType": "sinceImagePulled",
            "countUnit": "days",
            "countNumber": days,
        },
        "action": {"type": "transition", "targetStorageClass": "archive"},
    }


def _keep_last(count: int) -> dict[str, Any]:
    return {
        "description": f"ecrcache: keep the newest {count} images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": count},
        "action": {"type": "expire"},
    }


def _expire_archived(days: int) -> dict[str, Any]:
    return {
        "description": f"ecrcache: delete images archived for more than {days} days",
        "selection": {
            "tagStatus": "any",
            "storageClass": "archive",
            "countType": "sinceImageTransitioned",
            "countUnit": "days",
            "countNumber": days,
        },
        "action": {"type": "expire"},
    }


# --------------------------------------------------------------------------- normalise


def normalise(policy: str | Mapping[str, Any]) -> str:
    """Canonical compact JSON: sorted keys, no spaces, rules sorted by ``rulePriority``, and each
    selection's ``tagPrefixList``/``tagPatternList`` sorted.

    Idempotent, and equal for a policy read back from AWS and the one compiled, whatever the
    whitespace, key order, rule order or tag-list order. Tag lists are sets to ECR (an image
    matches a rule by its tags, whatever order the list gives them); AWS returns rules reordered by
    priority, and the Terraform AWS provider compares these documents with both kinds of list
    sorted (``equivalentLifecyclePolicyJSON``, internal/service/ecr/lifecycle_policy.go).
    Raises ``ValueError`` for text that is not a JSON object.
    """
    doc = parse(policy)
    rules = doc.get("rules")
    if isinstance(rules, list):
        rules = [_sorted_tag_lists(r) for r in rules]
        doc = {**doc, "rules": sorted(rules, key=_priority_sort_key)}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_TAG_LISTS = ("tagPrefixList", "tagPatternList")


def _sorted_tag_lists(rule: Any) -> Any:
    selection = rule.get("selection") if isinstance(rule, Mapping) else None
    if not isinstance(selection, Mapping):
        return rule
    lists = {
        k: sorted(v)
        for k in _TAG_LISTS
        if isinstance(v := selection.get(k), list) and all(isinstance(x, str) for x in v)
    }
    return {**rule, "selection": {**selection, **lists}} if lists else rule


def _priority_sort_key(rule: Any) -> tuple[int, Any]:
    priority = rule.get("rulePriority") if isinstance(rule, Mapping) else None
    return (0, priority) if is_int(priority) else (1, 0)


def parse(policy: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(policy, Mapping):
        return json.loads(json.dumps(policy))  # a deep, plain copy
    try:
        doc = loads_json(policy)
    except TooDeep as exc:
        raise ValueError(f"the policy is {exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"the policy is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError("the policy must be a JSON object with a 'rules' list")
    return doc


def is_int(value: Any) -> TypeGuard[int]:
    return type(value) is int  # bool is an int subclass; JSON true is not a priority


def pattern_problem(pattern: str) -> str | None:
    if not pattern:
        return "a tag pattern cannot be empty"
    if pattern.count("*") > MAX_PATTERN_WILDCARDS:
        return f"tag pattern {pattern!r} has more than {MAX_PATTERN_WILDCARDS} wildcards (*)"
    return None
