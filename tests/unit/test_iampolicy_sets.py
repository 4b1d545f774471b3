"""ecrcache.policy.iam: multivalued context keys (aws:TagKeys) and the set operators
ForAllValues/ForAnyValue, as the IAM User Guide defines them:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
"""

from __future__ import annotations

from typing import Any

import pytest

from ecrcache.policy.iam import ContextValue, Outcome, evaluate

REPO = "arn:aws:ecr:eu-west-1:111122223333:repository/team/app"
ALLOW, NONE = Outcome.ALLOW, Outcome.IMPLICIT_DENY


def policy(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "ecr:TagResource",
                "Resource": "*",
                "Condition": condition,
            }
        ],
    }


KEYS = ["managed-by", "team"]
CASES: list[tuple[str, dict[str, ContextValue], Outcome]] = [
    # ForAllValues: every request value must be one of the policy's
    ("ForAllValues:StringEquals", {"aws:TagKeys": ["managed-by"]}, ALLOW),
    ("ForAllValues:StringEquals", {"aws:TagKeys": ["managed-by", "team"]}, ALLOW),
    ("ForAllValues:StringEquals", {"aws:TagKeys": ["managed-by", "owner"]}, NONE),
    # ... and holds when the key is absent or empty (why it never stands alone)
    ("ForAllValues:StringEquals", {}, ALLOW),
    ("ForAllValues:StringEquals", {"aws:TagKeys": []}, ALLOW),
    # ForAnyValue: one request value is enough; an absent key fails
    ("ForAnyValue:StringEquals", {"aws:TagKeys": ["owner", "team"]}, ALLOW),
    ("ForAnyValue:StringEquals", {"aws:TagKeys": ["owner"]}, NONE),
    ("ForAnyValue:StringEquals", {}, NONE),
    # negated operators test each value against none of the policy's
    ("ForAllValues:StringNotEquals", {"aws:TagKeys": ["owner"]}, ALLOW),
    ("ForAllValues:StringNotEquals", {"aws:TagKeys": ["owner", "team"]}, NONE),
    ("ForAnyValue:StringNotEquals", {"aws:TagKeys": ["owner", "team"]}, ALLOW),
    ("ForAllValues:StringLike", {"aws:TagKeys": ["managed-by", "teams"]}, ALLOW),
    # a single string in the context is a set of one
    ("ForAllValues:StringEquals", {"aws:TagKeys": "team"}, ALLOW),
]


@pytest.mark.parametrize(("operator", "context", "outcome"), CASES)
def test_set_operators(operator: str, context: dict[str, ContextValue], outcome: Outcome) -> None:
    keys: Any = ["managed-by", "team*"] if operator.endswith("StringLike") else KEYS
    decision = evaluate(
        "ecr:TagResource",
        REPO,
        identity_policies=[policy({operator: {"aws:TagKeys": keys}})],
        context=context,
    )
    assert decision.outcome is outcome
    assert decision.certain and decision.unknown == ()


def test_tag_on_create_pattern_needs_the_request_tag_and_only_declared_keys() -> None:
    """The pattern ecrcache's CI policy uses: the managed-by tag must be in the request and no
    other tag key than the declared ones; ForAllValues alone would pass a request without tags."""
    doc = policy(
        {
            "StringEquals": {"aws:RequestTag/managed-by": "ecrcache"},
            "ForAllValues:StringEquals": {"aws:TagKeys": KEYS},
        }
    )

    def outcome(context: dict[str, ContextValue]) -> Outcome:
        return evaluate("ecr:TagResource", REPO, identity_policies=[doc], context=context).outcome

    tags = {"aws:RequestTag/managed-by": "ecrcache", "aws:TagKeys": ["managed-by"]}
    assert outcome(tags) is ALLOW
    assert outcome({}) is NONE
    assert outcome({**tags, "aws:TagKeys": ["managed-by", "owner"]}) is NONE
    assert outcome({**tags, "aws:RequestTag/managed-by": "someone-else"}) is NONE


def test_a_multivalued_key_under_a_single_valued_operator_is_unknown() -> None:
    doc = policy({"StringEquals": {"aws:TagKeys": "team"}})
    decision = evaluate(
        "ecr:TagResource", REPO, identity_policies=[doc], context={"aws:TagKeys": ["team"]}
    )
    assert decision.outcome is NONE and not decision.certain
