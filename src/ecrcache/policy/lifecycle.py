"""ECR lifecycle policies: compile friendly settings, check, normalise, and evaluate locally (pure).

Sources (stored copies read through the search tool):
- Properties: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
- Evaluation rules ("How lifecycle policies work"):
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
- Examples: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html
- Archive storage class: https://docs.aws.amazon.com/AmazonECR/latest/userguide/archive-image.html
- Length: botocore ECR model, ``LifecyclePolicyText`` min 100, max 30720.

One reading of the docs matters everywhere below: the rules about ``tagStatus: any`` being last,
one untagged rule and unique tag lists hold *per storage class*. The documented "Combining
archive and expire rules" example has two ``any`` rules (priority 1 on standard images, priority 2
on archived ones), which a global reading would reject; and the evaluation rules say "the set of
all rules selecting a specific storage class ...".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypeGuard

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
        problem = _pattern_problem(pattern)
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
    doc = _parse(policy)
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
    return (0, priority) if _is_int(priority) else (1, 0)


def _parse(policy: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(policy, Mapping):
        return json.loads(json.dumps(policy))  # a deep, plain copy
    try:
        doc = json.loads(policy)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the policy is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError("the policy must be a JSON object with a 'rules' list")
    return doc


def _is_int(value: Any) -> TypeGuard[int]:
    return type(value) is int  # bool is an int subclass; JSON true is not a priority


# --------------------------------------------------------------------------- check


def check_policy(
    policy: str | Mapping[str, Any], *, min_chars: int = MIN_POLICY_CHARS
) -> tuple[str, ...]:
    """Every problem ECR would reject or silently mishandle, one sentence each; empty when valid.

    A string is measured as given; a mapping as the compact JSON :func:`normalise` produces (what
    ecrcache sends). ``min_chars`` is PutLifecyclePolicy's minimum; pass 0 for a repository
    creation template, whose lifecycle text may be empty.
    """
    try:
        doc = _parse(policy)
    except ValueError as exc:
        return (str(exc),)
    text = policy if isinstance(policy, str) else normalise(doc)
    return (*_length_problems(text, min_chars), *_document_problems(doc))


def _length_problems(text: str, min_chars: int) -> list[str]:
    if len(text) > MAX_POLICY_CHARS:
        return [f"the policy is {len(text)} characters; ECR accepts at most {MAX_POLICY_CHARS}"]
    if len(text) < min_chars:
        return [
            f"the policy is {len(text)} characters; PutLifecyclePolicy needs at least {min_chars}"
        ]
    return []


def _document_problems(doc: Mapping[str, Any]) -> list[str]:
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
    if _is_int(priority) and priority >= 1:
        return f"rule {priority}"
    return f"rule #{index + 1} (no valid rulePriority)"


def _rule_problems(rule: Any, index: int) -> list[str]:
    label = _label(rule, index)
    if not isinstance(rule, Mapping):
        return [f"{label}: a rule must be a JSON object"]
    problems = [f"{label}: '{k}' is not a rule field" for k in sorted(set(rule) - _RULE_KEYS)]
    priority = rule.get("rulePriority")
    if not _is_int(priority) or priority < 1:
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
    return [f"{label}: {p}" for v in values if (p := _pattern_problem(v))]


def _pattern_problem(pattern: str) -> str | None:
    if not pattern:
        return "a tag pattern cannot be empty"
    if pattern.count("*") > MAX_PATTERN_WILDCARDS:
        return f"tag pattern {pattern!r} has more than {MAX_PATTERN_WILDCARDS} wildcards (*)"
    return None


def _count_problems(label: str, sel: Mapping[str, Any]) -> list[str]:
    count_type = sel.get("countType")
    if count_type not in COUNT_TYPES:
        return [f"{label}: countType must be one of {', '.join(COUNT_TYPES)}, not {count_type!r}"]
    problems = []
    number = sel.get("countNumber")
    if not _is_int(number) or number < 1:
        problems.append(f"{label}: countNumber must be a positive integer, not {number!r}")
    unit = sel.get("countUnit")
    if count_type in SINCE_COUNT_TYPES and unit != "days":
        problems.append(f"{label}: countType {count_type} needs countUnit 'days', not {unit!r}")
    if count_type == "imageCountMoreThan" and "countUnit" in sel:
        problems.append(f"{label}: countUnit is not allowed with imageCountMoreThan")
    if (
        count_type == "sinceImageTransitioned"
        and _is_int(number)
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
        if _is_int(priority):
            seen[priority] = seen.get(priority, 0) + 1
    return [
        f"rule {p}: rulePriority {p} is used by {n} rules; priorities must be unique"
        for p, n in sorted(seen.items())
        if n > 1
    ]


def _storage_class_group_problems(rules: list[Any]) -> list[str]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for rule in rules:
        if isinstance(rule, Mapping) and _is_int(rule.get("rulePriority")):
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


# --------------------------------------------------------------------------- evaluate


@dataclass(frozen=True)
class Image:
    """One image as DescribeImages reports it. ``storage_class`` is 'standard' or 'archive'
    (any case). ``archived_at`` is ``lastArchivedAt``; ``activated_at`` is ``lastActivatedAt``
    (set when an archived image was restored). All datetimes must share one awareness."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    last_pulled_at: datetime | None = None
    size_bytes: int = 0
    storage_class: str = "standard"
    archived_at: datetime | None = None
    activated_at: datetime | None = None


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule does: the images it expires or transitions, oldest push first."""

    priority: int
    action: str
    target_storage_class: str | None
    digests: tuple[str, ...]
    size_bytes: int


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`: one outcome per rule, in priority order."""

    outcomes: tuple[RuleOutcome, ...]

    @property
    def expired(self) -> tuple[str, ...]:
        return tuple(d for o in self.outcomes if o.action == "expire" for d in o.digests)

    @property
    def transitioned(self) -> tuple[str, ...]:
        return tuple(d for o in self.outcomes if o.action == "transition" for d in o.digests)

    @property
    def expired_bytes(self) -> int:
        return sum(o.size_bytes for o in self.outcomes if o.action == "expire")

    @property
    def transitioned_bytes(self) -> int:
        return sum(o.size_bytes for o in self.outcomes if o.action == "transition")

    def action_for(self, digest: str) -> str | None:
        """'expire', 'transition', or None when no rule acts on the image."""
        return next((o.action for o in self.outcomes if digest in o.digests), None)


def evaluate(
    policy: str | Mapping[str, Any], images: Iterable[Image], *, now: datetime
) -> Evaluation:
    """Which images each rule expires or transitions, following ECR's documented algorithm.

    Rules are evaluated together and applied by priority (lowest number first). A rule
    *identifies* the images matching its tag status, tag list and storage class, and *marks* some
    of them by its count type. It may act only on marked images that no higher-priority rule
    identified, so an image is acted on by at most one rule, and an image a higher rule selects
    (even one it keeps) is protected from every later rule. Pure and deterministic; the
    manifest-list guard (an image referenced by an index is kept) is not modelled. Raises
    ``ValueError`` if the policy has problems (length aside).
    """
    doc = _parse(policy)
    problems = _document_problems(doc)
    if problems:
        raise ValueError("; ".join(problems))
    pool = tuple(images)
    protected: set[str] = set()
    outcomes = []
    for rule in sorted(doc["rules"], key=lambda r: r["rulePriority"]):
        identified = [img for img in pool if _selects(rule["selection"], img)]
        marked = _marked(rule["selection"], identified, now)
        acted = sorted((img for img in marked if img.digest not in protected), key=_push_order)
        protected.update(img.digest for img in identified)
        outcomes.append(
            RuleOutcome(
                priority=rule["rulePriority"],
                action=rule["action"]["type"],
                target_storage_class=rule["action"].get("targetStorageClass"),
                digests=tuple(img.digest for img in acted),
                size_bytes=sum(img.size_bytes for img in acted),
            )
        )
    return Evaluation(outcomes=tuple(outcomes))


def _push_order(img: Image) -> tuple[datetime, str]:
    return (img.pushed_at, img.digest)


def _selects(sel: Mapping[str, Any], img: Image) -> bool:
    if img.storage_class.lower() != sel.get("storageClass", "standard"):
        return False
    status = sel["tagStatus"]
    if status == "any":
        return True
    if status == "untagged":
        return not img.tags
    if not img.tags:
        return False
    if "tagPrefixList" in sel:
        return all(any(t.startswith(p) for t in img.tags) for p in sel["tagPrefixList"])
    # every pattern must match at least one of the image's tags (the doc's "all ... any")
    return all(any(_pattern(p).fullmatch(t) for t in img.tags) for p in sel["tagPatternList"])


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def _marked(sel: Mapping[str, Any], identified: Sequence[Image], now: datetime) -> list[Image]:
    count_type, number = sel["countType"], sel["countNumber"]
    if count_type == "imageCountMoreThan":
        archive = sel.get("storageClass") == "archive"
        newest_first = sorted(identified, key=lambda i: _count_order(i, archive), reverse=True)
        return newest_first[number:]
    cutoff = now - timedelta(days=number)
    reference = {
        "sinceImagePushed": lambda i: i.pushed_at,
        "sinceImagePulled": _last_pull,
        "sinceImageTransitioned": lambda i: i.archived_at,
    }[count_type]
    return [i for i in identified if (t := reference(i)) is not None and t < cutoff]


def _count_order(img: Image, archive: bool) -> tuple[datetime, str]:
    # "ordered by pushed_at_time or transitioned_at_time ... If an image was archived and then
    # restored ..., last_activated_at is used instead of pushed_at_time" (evaluation rules)
    if archive:
        return (img.archived_at or img.pushed_at, img.digest)
    return (img.activated_at or img.pushed_at, img.digest)


def _last_pull(img: Image) -> datetime:
    # the last pull; pushed_at if never pulled; last_activated_at if restored and not pulled since
    if img.activated_at is not None and (
        img.last_pulled_at is None or img.last_pulled_at < img.activated_at
    ):
        return img.activated_at
    return img.last_pulled_at or img.pushed_at
