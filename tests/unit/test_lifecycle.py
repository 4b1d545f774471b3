"""ecrcache.policy.lifecycle against ECR's documented lifecycle policy examples and rules.

Examples are transcribed from "Examples of lifecycle policies in Amazon ECR",
https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html, in two
versions: the current page (tag pattern lists; a stored copy under "All content copied from
https://docs.aws.amazon.com/") and the earlier one in awsdocs/amazon-ecr-user-guide
doc_source/lifecycle_policy_examples.md at 9df4699f (tag prefix lists). "Pushed: N days ago" is
transcribed as days; images the page lists later are taken as pushed later on a tie (the
"Filtering on all images" Example B needs that: D and E are both "1 day ago" and D is expired).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecrcache.policy.lifecycle import (
    Image,
    check_policy,
    compile_rules,
    evaluate,
    normalise,
)
from ecrcache.policy.lifecycle.compile import MAX_POLICY_CHARS

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def rule(
    priority: int,
    status: str,
    count_type: str,
    number: int,
    *,
    patterns: list[str] | None = None,
    prefixes: list[str] | None = None,
    unit: str | None = None,
    storage: str | None = None,
    action: str = "expire",
) -> dict[str, Any]:
    selection: dict[str, Any] = {"tagStatus": status}
    if patterns is not None:
        selection["tagPatternList"] = patterns
    if prefixes is not None:
        selection["tagPrefixList"] = prefixes
    if storage is not None:
        selection["storageClass"] = storage
    selection |= {"countType": count_type, "countNumber": number}
    if unit is not None:
        selection["countUnit"] = unit
    act: dict[str, Any] = {"type": action}
    if action == "transition":
        act["targetStorageClass"] = "archive"
    return {
        "rulePriority": priority,
        "description": f"Rule {priority}",
        "selection": selection,
        "action": act,
    }


def repo(*images: tuple[str, list[str], int]) -> list[Image]:
    """(name, tags, pushed days ago) in the page's order; later entries win ties by a second."""
    return [
        Image(
            digest=name,
            tags=tuple(tags),
            pushed_at=NOW - timedelta(days=days) + timedelta(seconds=i),
            size_bytes=100 * (i + 1),
        )
        for i, (name, tags, days) in enumerate(images)
    ]


MULTI_RULES_REPO = repo(
    ("A", ["beta-1", "prod-1"], 10), ("B", ["beta-2", "prod-2"], 9), ("C", ["beta-3"], 8)
)
MULTI_TAGS_A_REPO = repo(
    ("A", ["alpha-1"], 12),
    ("B", ["beta-1"], 11),
    ("C", ["alpha-2", "beta-2"], 10),
    ("D", ["alpha-3"], 4),
    ("E", ["beta-3"], 3),
    ("F", ["alpha-4", "beta-4"], 2),
)
MULTI_TAGS_B_REPO = repo(
    ("A", ["alpha-1", "beta-1", "gamma-1"], 10),
    ("B", ["alpha-2", "beta-2"], 9),
    ("C", ["alpha-3", "beta-3", "gamma-2"], 8),
)
ALL_A_REPO = repo(("A", ["alpha-1"], 4), ("B", ["beta-1"], 3), ("C", [], 2), ("D", ["alpha-2"], 1))
ALL_B_REPO = repo(
    ("A", ["alpha-1", "beta-1"], 4),
    ("B", [], 3),
    ("C", ["alpha-2"], 2),
    ("D", ["git hash"], 1),
    ("E", [], 1),
)
IMAGE_COUNT = "imageCountMoreThan"
PUSHED = "sinceImagePushed"

DOCUMENTED = [
    # "Filtering on multiple rules", Example A: "Result: Image A is expired."
    pytest.param(
        [
            rule(1, "tagged", IMAGE_COUNT, 1, patterns=["prod*"]),
            rule(2, "tagged", IMAGE_COUNT, 1, patterns=["beta*"]),
        ],
        MULTI_RULES_REPO,
        {"A"},
        id="multiple-rules-A-patterns",
    ),
    pytest.param(  # same, earlier page (tagPrefixList)
        [
            rule(1, "tagged", IMAGE_COUNT, 1, prefixes=["prod"]),
            rule(2, "tagged", IMAGE_COUNT, 1, prefixes=["beta"]),
        ],
        MULTI_RULES_REPO,
        {"A"},
        id="multiple-rules-A-prefixes",
    ),
    # "Filtering on multiple rules", Example B: "Result: Images A and B are expired."
    pytest.param(
        [
            rule(1, "tagged", IMAGE_COUNT, 1, patterns=["beta*"]),
            rule(2, "tagged", IMAGE_COUNT, 1, patterns=["prod*"]),
        ],
        MULTI_RULES_REPO,
        {"A", "B"},
        id="multiple-rules-B-patterns",
    ),
    pytest.param(
        [
            rule(1, "tagged", IMAGE_COUNT, 1, prefixes=["beta"]),
            rule(2, "tagged", IMAGE_COUNT, 1, prefixes=["prod"]),
        ],
        MULTI_RULES_REPO,
        {"A", "B"},
        id="multiple-rules-B-prefixes",
    ),
    # "Filtering on multiple tags in a single rule", Example A: "Result: Image C is expired."
    pytest.param(
        [rule(1, "tagged", PUSHED, 5, patterns=["alpha*", "beta*"], unit="days")],
        MULTI_TAGS_A_REPO,
        {"C"},
        id="multiple-tags-A-patterns",
    ),
    pytest.param(
        [rule(1, "tagged", PUSHED, 5, prefixes=["alpha", "beta"], unit="days")],
        MULTI_TAGS_A_REPO,
        {"C"},
        id="multiple-tags-A-prefixes",
    ),
    # "Filtering on multiple tags in a single rule", Example B: "Images A and B are expired."
    pytest.param(
        [rule(1, "tagged", IMAGE_COUNT, 1, patterns=["alpha*", "beta*"])],
        MULTI_TAGS_B_REPO,
        {"A", "B"},
        id="multiple-tags-B-patterns",
    ),
    pytest.param(
        [rule(1, "tagged", IMAGE_COUNT, 1, prefixes=["alpha", "beta"])],
        MULTI_TAGS_B_REPO,
        {"A", "B"},
        id="multiple-tags-B-prefixes",
    ),
    # "Filtering on all images", Example A: "Result: Images A, B, and C are expired."
    pytest.param(
        [rule(1, "any", IMAGE_COUNT, 1)],
        ALL_A_REPO,
        {"A", "B", "C"},
        id="all-images-A",
    ),
    # "Filtering on all images", Example B: "Result: Images A, B, and D are expired."
    pytest.param(
        [
            rule(1, "tagged", IMAGE_COUNT, 1, patterns=["alpha*"]),
            rule(2, "untagged", PUSHED, 1, unit="days"),
            rule(3, "any", IMAGE_COUNT, 1),
        ],
        ALL_B_REPO,
        {"A", "B", "D"},
        id="all-images-B-patterns",
    ),
    pytest.param(
        [
            rule(1, "tagged", IMAGE_COUNT, 1, prefixes=["alpha"]),
            rule(2, "untagged", PUSHED, 1, unit="days"),
            rule(3, "any", IMAGE_COUNT, 1),
        ],
        ALL_B_REPO,
        {"A", "B", "D"},
        id="all-images-B-prefixes",
    ),
]


@pytest.mark.parametrize(("rules", "images", "expected"), DOCUMENTED)
def test_documented_examples_expire_what_the_page_says(
    rules: list[dict[str, Any]], images: list[Image], expected: set[str]
) -> None:
    policy = {"rules": rules}
    assert check_policy(policy) == ()
    result = evaluate(policy, images, now=NOW)
    assert set(result.expired) == expected
    assert result.transitioned == ()
    assert len(result.expired) == len(set(result.expired)), "an image is acted on at most once"


# Syntax examples from the current page (no repository given): each must be a valid policy.
SYNTAX_EXAMPLES = [
    pytest.param([rule(1, "tagged", PUSHED, 14, patterns=["prod*"], unit="days")], id="image-age"),
    pytest.param(
        [rule(1, "any", "sinceImagePulled", 90, unit="days", action="transition")],
        id="last-pulled-time",
    ),
    pytest.param(
        [rule(1, "any", "sinceImageTransitioned", 365, unit="days", storage="archive")],
        id="archive-transition-time",
    ),
    pytest.param([rule(1, "untagged", IMAGE_COUNT, 1)], id="image-count"),
    pytest.param(
        [rule(1, "tagged", PUSHED, 30, patterns=["prod*"], unit="days", action="transition")],
        id="archive-older-than",
    ),
    pytest.param(  # "Combining archive and expire rules": two 'any' rules, one per storage class
        [
            rule(1, "any", PUSHED, 30, unit="days", action="transition"),
            rule(2, "any", "sinceImageTransitioned", 365, unit="days", storage="archive"),
        ],
        id="combining-archive-and-expire",
    ),
]


@pytest.mark.parametrize("rules", SYNTAX_EXAMPLES)
def test_documented_syntax_examples_are_valid(rules: list[dict[str, Any]]) -> None:
    assert check_policy({"rules": rules}) == ()


def test_combined_archive_and_expire_act_on_their_own_storage_class() -> None:
    # The "Combining archive and expire rules" policy on a repository of our own: an old standard
    # image is archived, an image archived 400 days ago is expired, the rest are left alone.
    policy = {
        "rules": [
            rule(1, "any", PUSHED, 30, unit="days", action="transition"),
            rule(2, "any", "sinceImageTransitioned", 365, unit="days", storage="archive"),
        ]
    }
    images = [
        Image("old", ("v1",), NOW - timedelta(days=40), size_bytes=7),
        Image("new", ("v2",), NOW - timedelta(days=2)),
        Image(
            "cold",
            ("v0",),
            NOW - timedelta(days=900),
            storage_class="ARCHIVE",
            archived_at=NOW - timedelta(days=400),
            size_bytes=11,
        ),
        Image(
            "thawing",
            ("v00",),
            NOW - timedelta(days=900),
            storage_class="archive",
            archived_at=NOW - timedelta(days=100),
        ),
    ]
    result = evaluate(policy, images, now=NOW)
    assert result.transitioned == ("old",)
    assert result.expired == ("cold",)
    assert (result.transitioned_bytes, result.expired_bytes) == (7, 11)
    assert result.action_for("new") is None
    assert result.outcomes[0].target_storage_class == "archive"


@pytest.mark.parametrize(
    ("pulled_days_ago", "activated_days_ago", "archived"),
    [
        (None, None, True),  # never pulled: pushed_at (100 days) counts
        (5, None, False),  # pulled recently
        (120, None, True),  # pulled long ago
        (120, 60, True),  # restored 60 days ago, not pulled since: last_activated_at counts
        (120, 10, False),  # restored 10 days ago, not pulled since
        (3, 60, False),  # pulled after the restore
    ],
)
def test_since_image_pulled_uses_the_documented_fallbacks(
    pulled_days_ago: int | None, activated_days_ago: int | None, archived: bool
) -> None:
    # "If an image was never pulled, the image's pushed_at_time is used ... If an image was
    # archived and then restored ... but never pulled since ..., last_activated_at is used"
    def ago(days: int | None) -> datetime | None:
        return None if days is None else NOW - timedelta(days=days)

    image = Image(
        "x",
        ("t",),
        NOW - timedelta(days=100),
        last_pulled_at=ago(pulled_days_ago),
        activated_at=ago(activated_days_ago),
    )
    policy = {"rules": [rule(1, "any", "sinceImagePulled", 30, unit="days", action="transition")]}
    assert (evaluate(policy, [image], now=NOW).transitioned == ("x",)) is archived


@pytest.mark.parametrize(
    ("pattern", "tag", "matches"),
    [
        ("prod*", "prod", True),
        ("prod*", "production-team1", True),
        ("prod*", "repo-prod", False),
        ("*prod*", "repo-production", True),
        ("*prod*", "prod-team", True),
        ("v1.*", "v1x2", False),
        ("v1.*", "v1.2", True),
        ("latest", "latest", True),
        ("latest", "latest2", False),
        ("*test*1*2*3", "xtestA1B2C3", True),
    ],
)
def test_tag_pattern_wildcards(pattern: str, tag: str, matches: bool) -> None:
    # examples from the "tagPatternList" evaluation rule (prod*, *prod*) and literal dots
    policy = {"rules": [rule(1, "tagged", IMAGE_COUNT, 1, patterns=[pattern])]}
    images = [Image("old", (tag,), NOW - timedelta(days=2)), Image("new", (tag,), NOW)]
    assert (evaluate(policy, images, now=NOW).expired == ("old",)) is matches


def _mutate(path: tuple[str | int, ...], value: Any, *, delete: bool = False) -> dict[str, Any]:
    doc = {
        "rules": [
            rule(1, "tagged", IMAGE_COUNT, 5, patterns=["prod*"]),
            rule(2, "untagged", PUSHED, 7, unit="days"),
            rule(3, "any", IMAGE_COUNT, 50),
        ]
    }
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


BAD = [
    (_mutate(("rules",), []), "non-empty 'rules'"),
    (_mutate(("rules", 0, "rulePriority"), 0), "rule #1 (no valid rulePriority): rulePriority"),
    (_mutate(("rules", 1, "rulePriority"), 1), "rule 1: rulePriority 1 is used by 2 rules"),
    (_mutate(("rules", 0, "rulePriority"), "1"), "must be a positive integer"),
    (_mutate(("rules", 2, "rulePriority"), 0.5), "rulePriority must be a positive integer"),
    (_mutate(("rules", 0, "selection", "tagStatus"), "TAGGED"), "rule 1: tagStatus must be"),
    (
        _mutate(("rules", 0, "selection", "tagPatternList"), None, delete=True),
        "rule 1: tagStatus 'tagged' needs a tagPatternList or a tagPrefixList",
    ),
    (_mutate(("rules", 0, "selection", "tagPrefixList"), ["prod"]), "not both"),
    (
        _mutate(("rules", 0, "selection", "tagPatternList"), ["a*b*c*d*e*f"]),
        "more than 4 wildcards",
    ),
    (_mutate(("rules", 0, "selection", "tagPatternList"), []), "non-empty list"),
    (_mutate(("rules", 1, "selection", "tagPrefixList"), ["x"]), "rule 2: tagPatternList and"),
    (_mutate(("rules", 2, "rulePriority"), 0), "rule #3"),
    (
        _mutate(("rules", 0, "rulePriority"), 9),
        "rule 3: a tagStatus 'any' rule must have the highest rulePriority of the standard-class "
        "rules, but rule 9 comes after it",
    ),
    (_mutate(("rules", 0, "selection", "tagStatus"), "untagged"), "only one standard-class"),
    (_mutate(("rules", 0, "selection", "countType"), "sinceImageAccessed"), "countType must be"),
    (_mutate(("rules", 0, "selection", "countNumber"), 0), "countNumber must be a positive"),
    (_mutate(("rules", 0, "selection", "countUnit"), "days"), "countUnit is not allowed"),
    (_mutate(("rules", 1, "selection", "countUnit"), "hours"), "needs countUnit 'days'"),
    (_mutate(("rules", 1, "selection", "countUnit"), None, delete=True), "needs countUnit 'days'"),
    (_mutate(("rules", 1, "selection", "storageClass"), "archive"), "only works with storageClass"),
    (_mutate(("rules", 1, "selection", "storageClass"), "glacier"), "storageClass must be"),
    (
        _mutate(("rules", 1, "selection", "countType"), "sinceImageTransitioned"),
        "needs storageClass 'archive'",
    ),
    (
        _mutate(("rules", 1, "selection", "countType"), "sinceImagePulled"),
        "sinceImagePulled can only transition",
    ),
    (_mutate(("rules", 1, "action"), {"type": "transition"}), "needs targetStorageClass"),
    (
        _mutate(("rules", 1, "action"), {"type": "expire", "targetStorageClass": "archive"}),
        "only allowed with a transition",
    ),
    (_mutate(("rules", 1, "action"), {"type": "delete"}), "action type must be"),
    (_mutate(("rules", 1, "action"), None, delete=True), "needs an 'action' object"),
    (_mutate(("rules", 1, "selection"), None, delete=True), "needs a 'selection' object"),
    (_mutate(("rules", 1, "selection", "tagPrefix"), ["x"]), "'tagPrefix' is not a selection"),
    (_mutate(("rules", 1, "priority"), 1), "'priority' is not a rule field"),
    (_mutate(("Version",), "2012-10-17"), "'Version' is not a lifecycle policy field"),
    (
        _mutate(("rules", 1), rule(2, "tagged", IMAGE_COUNT, 3, patterns=["prod*"])),
        "selects the same tags as rule 1",
    ),
]


@pytest.mark.parametrize(("policy", "expected"), BAD)
def test_check_policy_names_each_problem(policy: dict[str, Any], expected: str) -> None:
    problems = check_policy(policy)
    assert any(expected in p for p in problems), problems


def test_check_policy_accepts_the_base_policy() -> None:
    assert check_policy(_mutate(("rules", 0, "description"), "ok")) == ()


def test_check_policy_rejects_bad_json_and_non_objects() -> None:
    assert check_policy("{rules: [}")[0].startswith("the policy is not valid JSON")
    assert check_policy("[1, 2]") == ("the policy must be a JSON object with a 'rules' list",)


def test_sinceimagetransitioned_needs_ninety_days() -> None:
    policy = {
        "rules": [rule(1, "any", "sinceImageTransitioned", 89, unit="days", storage="archive")]
    }
    assert any("countNumber >= 90" in p for p in check_policy(policy))
    policy["rules"][0]["selection"]["countNumber"] = 90
    assert check_policy(policy) == ()


def test_length_limits() -> None:
    # 30,720 characters at most (service quota and botocore LifecyclePolicyText max), 100 at least
    # for PutLifecyclePolicy (botocore min); a creation template allows shorter text.
    short = (
        '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":'
        '"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}'
    )
    assert check_policy(short) == ()
    assert any("needs at least 139" in p for p in check_policy(short, min_chars=len(short) + 1))
    tiny = '{"rules":[]}'
    assert any("needs at least 100" in p for p in check_policy(tiny))
    assert not any("characters" in p for p in check_policy(tiny, min_chars=0))
    long = {
        "rules": [rule(i, "tagged", IMAGE_COUNT, 1, patterns=[f"p{i}-*"]) for i in range(1, 400)]
    }
    assert len(normalise(long)) > MAX_POLICY_CHARS
    assert any("at most 30720" in p for p in check_policy(long))


def test_normalise_is_canonical_and_idempotent() -> None:
    compiled = compile_rules(keep_last=20, expire_untagged_after_days=7)
    # what AWS might hand back: pretty-printed, keys and rules in another order
    rules = list(reversed(compiled["rules"]))
    read_back = json.dumps({"rules": [dict(reversed(list(r.items()))) for r in rules]}, indent=4)
    assert read_back != json.dumps(compiled)
    assert normalise(read_back) == normalise(compiled)
    assert normalise(normalise(compiled)) == normalise(compiled)
    assert '": ' not in normalise(compiled) and '", "' not in normalise(compiled)
    with pytest.raises(ValueError, match="not valid JSON"):
        normalise("{")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"keep_last": 10},
        {"expire_untagged_after_days": 1},
        {"archive_unpulled_after_days": 90},
        {"expire_archived_after_days": 90},
        {"keep_last": 30, "expire_untagged_after_days": 7, "expire_archived_after_days": 365},
        {
            "archive_unpulled_after_days": 60,
            "expire_untagged_after_days": 3,
            "expire_archived_after_days": 180,
            "keep_last_tag_patterns": {"v*": 5, "latest": 1},
        },
        {"keep_last_tag_patterns": {"release-*": 3}},
    ],
)
def test_compiled_policies_are_valid(kwargs: dict[str, Any]) -> None:
    policy = compile_rules(**kwargs)
    assert check_policy(policy) == ()
    priorities = [r["rulePriority"] for r in policy["rules"]]
    assert priorities == list(range(1, len(priorities) + 1))


def test_compiled_policy_behaves_as_its_settings_say() -> None:
    policy = compile_rules(
        keep_last=2, expire_untagged_after_days=7, keep_last_tag_patterns={"release-*": 1}
    )
    images = [
        Image("r-old", ("release-1",), NOW - timedelta(days=50)),
        Image("r-new", ("release-2",), NOW - timedelta(days=40)),
        Image("u-old", (), NOW - timedelta(days=8)),
        Image("u-new", (), NOW - timedelta(days=1)),
        Image("t1", ("sha-1",), NOW - timedelta(days=30)),
        Image("t2", ("sha-2",), NOW - timedelta(days=20)),
        Image("t3", ("sha-3",), NOW - timedelta(days=10)),
    ]
    result = evaluate(policy, images, now=NOW)
    # release rule keeps r-new, expires r-old; untagged rule expires u-old (8 days) and keeps
    # u-new; keep_last keeps the 2 newest of all (u-new, u-old) and marks the rest, but may act
    # only on images no earlier rule selected: t1, t2, t3
    assert set(result.expired) == {"r-old", "u-old", "t1", "t2", "t3"}
    assert result.action_for("r-new") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "at least one setting"),
        ({"keep_last": 0}, "keep_last must be a positive integer"),
        ({"expire_untagged_after_days": True}, "positive integer"),
        ({"keep_last": 5, "archive_unpulled_after_days": 30}, "one or the other"),
        ({"expire_archived_after_days": 30}, "at least 90"),
        ({"keep_last_tag_patterns": {"a*b*c*d*e*": 1}}, "more than 4 wildcards"),
        ({"keep_last_tag_patterns": {"v*": -1}}, "keep_last_tag_patterns"),
    ],
)
def test_compile_rules_refuses_bad_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compile_rules(**kwargs)


def test_evaluate_refuses_an_invalid_policy() -> None:
    with pytest.raises(ValueError, match="tagStatus"):
        evaluate({"rules": [rule(1, "some", IMAGE_COUNT, 1)]}, [], now=NOW)


def test_image_count_keeps_the_newest_by_push_time_whatever_the_input_order() -> None:
    images = [Image(f"i{d}", ("t",), NOW - timedelta(days=d)) for d in (3, 9, 1, 7, 5)]
    result = evaluate({"rules": [rule(1, "any", IMAGE_COUNT, 2)]}, images, now=NOW)
    assert result.expired == ("i9", "i7", "i5")  # oldest push first
