"""The canonical form of policy documents: tables of equivalent and different pairs.

Cases marked "apeq N" are hashicorp/awspolicyequivalence's own (aws_policy_equivalence_test.go,
policyTestNa/b), shortened to the part that differs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecrcache.policy import (
    canonical_document,
    canonical_statement_text,
    canonical_text,
    equivalent,
)

ROLE = "arn:aws:iam::123456789012:role/"


def doc(**statement: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}


SPOT = {"Service": "spotfleet.amazonaws.com"}

EQUIVALENT = [
    # apeq 2: a single-item Action array is the string
    (
        "action string vs one-item list",
        doc(Principal=SPOT, Action="sts:AssumeRole"),
        doc(Principal=SPOT, Action=["sts:AssumeRole"]),
    ),
    # apeq 4: NotAction mixed string and array
    (
        "NotAction string vs list",
        doc(Action="sts:AssumeRole", NotAction=["sts:GetSessionToken"]),
        doc(Action="sts:AssumeRole", NotAction="sts:GetSessionToken"),
    ),
    # apeq 6: principal in a one-item array vs a string
    (
        "principal string vs one-item list",
        doc(Principal={"Service": "spotfleet.amazonaws.com"}, Action="sts:AssumeRole"),
        doc(Principal={"Service": ["spotfleet.amazonaws.com"]}, Action="sts:AssumeRole"),
    ),
    # apeq 15: a condition value as a string vs a one-item list
    (
        "condition string vs list",
        doc(Action="s3:PutObject", Condition={"StringEquals": {"s3:x-amz-acl": "public-read"}}),
        doc(Action="s3:PutObject", Condition={"StringEquals": {"s3:x-amz-acl": ["public-read"]}}),
    ),
    # apeq 20: the case of Effect
    (
        "Effect case",
        doc(Action="sts:AssumeRole"),
        {"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "sts:AssumeRole"}]},
    ),
    # apeq 21: a single Statement object vs a list of one
    (
        "Statement object vs list",
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}},
        doc(Action=["sts:AssumeRole"]),
    ),
    # apeq 22-25: empty principal sets and a missing Principal have the same effect
    ("empty Principal", doc(Principal={}, Action="a:B"), doc(Action="a:B")),
    (
        "empty principal types",
        doc(Principal={"Service": [], "AWS": []}, Action="a:B"),
        doc(Action="a:B"),
    ),
    (
        "empty principal sets of different types",
        doc(Principal={"Service": []}, Action="a:B"),
        doc(Principal={"AWS": []}, Action="a:B"),
    ),
    # apeq 26-29: an account ID principal is the account's root ARN
    (
        "string account principal",
        doc(Principal="123456789012", Action="*"),
        doc(Principal="arn:aws:iam::123456789012:root", Action="*"),
    ),
    (
        "map account principal",
        doc(Principal={"AWS": "123456789012"}, Action="*"),
        doc(Principal={"AWS": "arn:aws:iam::123456789012:root"}, Action="*"),
    ),
    (
        "account principal in a list of several",
        doc(Principal={"AWS": ["123456789012", "arn:aws:iam::999999999999:root"]}, Action="*"),
        doc(
            Principal={"AWS": ["arn:aws:iam::123456789012:root", "arn:aws:iam::999999999999:root"]},
            Action="*",
        ),
    ),
    # apeq 34: principal order does not matter
    (
        "principal order",
        doc(Principal={"AWS": [ROLE + "franz", ROLE + "morgan", ROLE + "built"]}, Action="*"),
        doc(Principal={"AWS": [ROLE + "morgan", ROLE + "built", ROLE + "franz"]}, Action="*"),
    ),
    # apeq 35-37: booleans and numbers in conditions, quoted or not
    (
        "boolean condition",
        doc(Action="s3:PutObject", Condition={"Bool": {"aws:MultiFactorAuthPresent": True}}),
        doc(Action="s3:PutObject", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
    ),
    (
        "numeric condition",
        doc(Action="a:B", Condition={"NumericEquals": {"aws:MultiFactorAuthAge": [100.01, 200]}}),
        doc(
            Action="a:B", Condition={"NumericEquals": {"aws:MultiFactorAuthAge": ["200", "100.01"]}}
        ),
    ),
    # apeq 18: statements in another order, keys in another order, whitespace
    (
        "statement order",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"},
                {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "*"},
            ],
        },
        {
            "Statement": [
                {"Resource": ["*"], "Action": "s3:ListAllMyBuckets", "Effect": "Allow"},
                {"Resource": "arn:aws:s3:::b", "Effect": "Allow", "Action": "s3:ListBucket"},
            ],
            "Version": "2012-10-17",
        },
    ),
    # apeq 40: numbers in a Resource list, reordered
    (
        "numbers in a list",
        doc(Action="a:B", Resource=[42, 86]),
        doc(Action="a:B", Resource=[86, 42]),
    ),
    # ecrcache: lists are sets (awspolicyequivalence compares lengths too)
    (
        "duplicates",
        doc(Action=["ecr:A", "ecr:B", "ecr:A"], Resource="*"),
        doc(Action=["ecr:B", "ecr:A"], Resource="*"),
    ),
    ("empty Sid", doc(Sid="", Action="a:B"), doc(Action="a:B")),
    ("empty Action list", doc(Action="a:B", NotResource=[]), doc(Action="a:B")),
]

DIFFERENT = [
    # apeq 3, 5, 7, 10, 11, 12, 14, 19, 34c
    ("another action", doc(Action="sts:AssumeRole"), doc(Action=["sts:GetSessionToken"])),
    (
        "NotAction on one side",
        doc(Action="sts:AssumeRole"),
        doc(Action="sts:AssumeRole", NotAction="sts:GetSessionToken"),
    ),
    (
        "another principal",
        doc(Principal={"Service": "ec2.amazonaws.com"}, Action="a:B"),
        doc(Principal={"Service": ["spotfleet.amazonaws.com"]}, Action="a:B"),
    ),
    (
        "another NotPrincipal",
        doc(NotPrincipal={"Service": "ec2.amazonaws.com"}, Action="a:B"),
        doc(NotPrincipal={"Service": ["spotfleet.amazonaws.com"]}, Action="a:B"),
    ),
    (
        "another Version",
        doc(Action="a:B"),
        {"Version": "2012-06-17", "Statement": [{"Effect": "Allow", "Action": "a:B"}]},
    ),
    (
        "missing Version",
        doc(Action="a:B"),
        {"Statement": [{"Effect": "Allow", "Action": "a:B"}]},
    ),
    (
        "another Effect",
        doc(Action="a:B"),
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "a:B"}]},
    ),
    (
        "another condition operator",
        doc(Action="a:B", Condition={"StringEquals": {"s3:x-amz-acl": ["public-read"]}}),
        doc(Action="a:B", Condition={"StringNotEquals": {"s3:x-amz-acl": ["public-read"]}}),
    ),
    (
        "a statement missing",
        doc(Action="a:B"),
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "a:B"},
                {"Effect": "Allow", "Action": "c:D"},
            ],
        },
    ),
    (
        "one principal replaced",
        doc(Principal={"AWS": [ROLE + "a", ROLE + "b"]}, Action="*"),
        doc(Principal={"AWS": [ROLE + "a", ROLE + "c"]}, Action="*"),
    ),
    # as awspolicyequivalence: "*" is not {"AWS": "*"}, action names keep their case
    (
        "star vs AWS star",
        doc(Principal="*", Action="a:B"),
        doc(Principal={"AWS": "*"}, Action="a:B"),
    ),
    ("action case", doc(Action="ecr:BatchGetImage"), doc(Action="ecr:batchgetimage")),
    (
        "account root in another account",
        doc(Principal={"AWS": "123456789012"}, Action="*"),
        doc(Principal={"AWS": "arn:aws:iam::210987654321:root"}, Action="*"),
    ),
    (
        "account root in another partition",
        doc(Principal={"AWS": "123456789012"}, Action="*"),
        doc(Principal={"AWS": "arn:aws-cn:iam::123456789012:root"}, Action="*"),
    ),
    (
        "a condition key with [] vs none",
        doc(Action="a:B", Condition={"ArnEquals": {"aws:SourceArn": []}}),
        doc(Action="a:B", Condition={"ArnEquals": {}}),
    ),
    ("a role vs its account", doc(Principal={"AWS": ROLE + "x"}, Action="*"), doc(Action="*")),
]


@pytest.mark.parametrize(("name", "a", "b"), EQUIVALENT, ids=[c[0] for c in EQUIVALENT])
def test_equivalent_pairs(name: str, a: dict[str, Any], b: dict[str, Any]) -> None:
    assert equivalent(a, b, partition="aws")
    assert equivalent(json.dumps(a, indent=4), json.dumps(b), partition="aws")
    assert canonical_text(a, partition="aws") == canonical_text(b, partition="aws")


@pytest.mark.parametrize(("name", "a", "b"), DIFFERENT, ids=[c[0] for c in DIFFERENT])
def test_different_pairs(name: str, a: dict[str, Any], b: dict[str, Any]) -> None:
    assert not equivalent(a, b, partition="aws")
    assert canonical_text(a, partition="aws") != canonical_text(b, partition="aws")


def test_the_canonical_form_holds_sorted_lists_and_root_arns() -> None:
    got = canonical_document(
        doc(
            Principal={"AWS": ["210987654321", ROLE + "b", ROLE + "a", ROLE + "a"]},
            Action="ecr:CreateRepository",
        ),
        partition="aws-cn",
    )
    (st,) = got["Statement"]
    assert st["Action"] == ["ecr:CreateRepository"]
    assert st["Principal"] == {
        "AWS": ["arn:aws-cn:iam::210987654321:root", ROLE + "a", ROLE + "b"]  # sorted, one each
    }


def test_the_text_collapses_one_element_lists_and_never_grows() -> None:
    # The CI policy's own form: a Resource list of one is written as a string, so the text
    # IAM measures is no longer than the document it came from.
    original = doc(Sid="X", Action=["ecr:A", "ecr:A"], Resource=["arn:aws:ecr:r:1:repository/x"])
    text = canonical_text(original, partition="aws")
    assert json.loads(text)["Statement"][0]["Resource"] == "arn:aws:ecr:r:1:repository/x"
    assert json.loads(text)["Statement"][0]["Action"] == "ecr:A"
    assert len(text) <= len(json.dumps(original, separators=(",", ":")))
    # ...and reads back to the same canonical form.
    assert canonical_text(text, partition="aws") == text


def test_statement_text_is_the_documents_statement() -> None:
    st = {"Sid": "ecrcache-x", "Effect": "Allow", "Principal": {"AWS": "123456789012"}}
    wrapped = json.loads(canonical_text({"Statement": [st]}, partition="aws"))["Statement"][0]
    assert json.loads(canonical_statement_text(st, partition="aws")) == wrapped
    assert wrapped["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_what_is_no_policy_is_left_alone() -> None:
    # Nested lists in a Resource (apeq 33) only ever equal themselves.
    odd = doc(Action="a:B", Resource=[[42]])
    assert canonical_document(odd, partition="aws")["Statement"][0]["Resource"] == [[42]]
    assert canonical_document({"Version": "2012-10-17", "Statement": 42}, partition="aws") == {
        "Version": "2012-10-17",
        "Statement": 42,
    }
    assert canonical_document("[]", partition="aws") == []
