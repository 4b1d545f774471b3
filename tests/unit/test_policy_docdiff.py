"""Changed policies and lifecycle policies shown as nested diffs (docdiff + render), with
documents of real size: the CI policy for 50 rules is about 5,000 characters on one line
(application repositories are scoped by ecrcache's tag, not listed: the rules' cache prefixes
are the ARNs that differ)."""

from __future__ import annotations

import io
import json
from typing import Any

from ecrcache.policy import canonical_text, diff, lifecycle
from ecrcache.policy.permissions import operations
from ecrcache.policy.policies import ci_policy
from ecrcache.reconcile.changes import Action, Change, FieldChange, Plan
from ecrcache.render.console import document_diff_lines, render_plan

ACCOUNT, REGION = "123456789012", "af-south-1"
APPS = [f"team{i:02d}/service" for i in range(50)]  # cache prefixes, one per rule


def ci(prefixes: list[str]) -> dict[str, Any]:
    doc = ci_policy(
        partition="aws",
        account_id=ACCOUNT,
        region=REGION,
        cache_prefixes=prefixes,
        app_repositories=["acme/api"],
        operations=operations(),
    )
    return json.loads(canonical_text(doc, partition="aws"))  # type: ignore[no-any-return]


def rendered(change: Change) -> str:
    out = io.StringIO()
    render_plan(Plan(changes=(change,)).to_dict(), out, account_id=ACCOUNT, region=REGION)
    return out.getvalue()


def arn(name: str) -> str:
    # a cache prefix's repositories, in any region (the region is a condition of the statement)
    return f"arn:aws:ecr:*:{ACCOUNT}:repository/{name}/*"


def test_a_ci_policy_differing_in_one_arn_shows_a_few_lines() -> None:
    before, after = ci(APPS), ci([*APPS[:-1], "team99/service"])
    assert len(json.dumps(before)) > 5000
    text = rendered(
        Change(
            "iam-policy", "ecrcache-ci", Action.UPDATE, (FieldChange("document", before, after),)
        )
    )
    lines = text.splitlines()
    assert f'- "{arn("team49/service")}"' in text
    assert f'+ "{arn("team99/service")}"' in text
    assert 'Sid = "EcrcacheCacheRepositories"' in text  # the changed statement, named
    assert "# (49 unchanged elements hidden)" in text  # its other resources
    assert "# (3 unchanged attributes hidden)" in text  # its Effect, Action and Condition
    assert any("unchanged elements hidden" in ln for ln in lines if "49" not in ln)  # statements
    assert arn("team00/service") not in text
    assert len(lines) < 25 and max(len(ln) for ln in lines) < 120


def test_json_keeps_both_full_documents() -> None:
    before, after = ci(APPS), ci([*APPS[:-1], "team99/service"])
    change = Change(
        "iam-policy", "ecrcache-ci", Action.UPDATE, (FieldChange("document", before, after),)
    )
    (field,) = Plan(changes=(change,)).to_dict()["changes"][0]["fields"]
    assert field["before"] == before and field["after"] == after


def test_a_lifecycle_rule_change_names_the_rule_and_the_value() -> None:
    before = lifecycle.compile_rules(expire_untagged_after_days=7, keep_last=30)
    after = lifecycle.compile_rules(expire_untagged_after_days=7, keep_last=5)
    lines = [text for _, text in document_diff_lines(before, after)]
    joined = "\n".join(lines)
    assert "~ countNumber = 30 -> 5" in joined
    assert "rulePriority = " in joined  # which rule
    assert "unchanged element" in joined  # the untagged rule, hidden
    assert "expire" not in joined  # its action is unchanged and hidden


def test_a_statement_added_to_the_registry_policy_is_shown_whole() -> None:
    ours = {"Sid": "ecrcache-a", "Effect": "Allow", "Action": "ecr:CreateRepository"}
    new = {"Sid": "ecrcache-b", "Effect": "Allow", "Action": "ecr:BatchImportUpstreamImage"}
    marks = [(style, text) for style, text in document_diff_lines([ours], [ours, new])]
    assert ("green", "    + {") in marks
    assert any('"Sid": "ecrcache-b"' in text for _, text in marks)
    assert not any("ecrcache-a" in text for _, text in marks)  # unchanged: counted only
    assert any("1 unchanged element hidden" in text for _, text in marks)


def test_a_document_removed_or_added_whole_on_update() -> None:
    after = lifecycle.compile_rules(keep_last=5)
    lines = document_diff_lines(None, after)
    assert lines[0] == ("green", "+ {") and all(style == "green" for style, _ in lines)
    assert document_diff_lines(after, None)[0] == ("red", "- {")


def test_short_values_keep_the_one_line_form() -> None:
    text = rendered(
        Change(
            "template",
            "quay",
            Action.UPDATE,
            (FieldChange("resource_tags", {"team": "a"}, {"team": "b"}),),
        )
    )
    assert 'resource_tags: {"team": "a"} → {"team": "b"}' in text


def test_markup_in_documents_is_printed_as_text() -> None:
    before = {"Statement": [{"Sid": "x", "Resource": ["[bold]a[/bold]" + "x" * 100]}]}
    after = {"Statement": [{"Sid": "x", "Resource": ["[red]b" + "x" * 100]}]}
    text = rendered(
        Change("iam-policy", "p", Action.UPDATE, (FieldChange("document", before, after),))
    )
    assert "[bold]a[/bold]" in text and "[red]b" in text


# --- the structure ------------------------------------------------------------------------------


def test_statements_are_matched_by_sid() -> None:
    a = {"Sid": "A", "Action": ["x:1", "x:2"]}
    b = {"Sid": "B", "Action": "x:3"}
    d = diff([a, b], [b, {**a, "Action": ["x:1", "x:3"]}])
    assert d.kind == "nested"
    (changed,) = [c for c in d.children if c.kind == "nested"]
    assert changed.identity == ("Sid", "A")
    (action,) = [c for c in changed.children if c.key == "Action"]
    assert [(c.kind, c.before or c.after) for c in action.children if c.kind != "same"] == [
        ("removed", "x:2"),
        ("added", "x:3"),
    ]
    assert d.count("same") == 1


def test_items_without_an_identity_pair_up_by_position_after_equal_ones() -> None:
    d = diff([{"a": 1}, {"b": 1}], [{"b": 1}, {"a": 2}])
    kinds = sorted(c.kind for c in d.children)
    assert kinds == ["nested", "same"]


def test_a_string_is_a_one_element_list() -> None:
    # The canonical text collapses one-element lists: growing one to two is an added element.
    d = diff({"AWS": "arn:a"}, {"AWS": ["arn:a", "arn:b"]}).children[0]
    assert d.kind == "nested"
    assert [(c.kind, c.after) for c in d.children] == [("added", "arn:b"), ("same", "arn:a")]
    assert diff({"AWS": "arn:a"}, {"AWS": ["arn:a"]}).kind == "same"  # differ as JSON only


def test_equal_documents_are_the_same() -> None:
    assert diff(ci(APPS), ci(APPS)).kind == "same"
    assert diff({"a": 1}, {"a": "1"}).children[0].kind == "changed"
