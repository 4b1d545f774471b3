"""Values a plan cannot know yet ("known after apply"): how diff plans them, how they render in
JSON, and when a reviewed plan's checksum accepts the plan apply makes. Pure."""

from __future__ import annotations

import pytest

from ecrcache.reconcile.changes import MASKED_SETS_UPTO
from ecrcache.reconcile.plan import Action, Unknown, diff
from ecrcache.reconcile.resources import MANAGED_TAGS, Rule, Secret, SecretValue, State


def name(i: int) -> str:
    return f"ecr-pullthroughcache/hub-{i}"


def desired(values: dict[int, str | None]) -> State:
    """Secrets hub-N (value given, or None: its token source has no value now) and their rules."""
    return State.of(
        secrets=tuple(
            Secret(
                name(i),
                value=SecretValue.of(v) if v is not None else None,
                tags=MANAGED_TAGS,
                unavailable=None if v is not None else f"environment variable TOKEN_{i} is not set",
            )
            for i, v in values.items()
        ),
        rules=tuple(
            Rule(f"hub-{i}", "docker-hub", "registry-1.docker.io", credential=name(i))
            for i in values
        ),
    )


def test_a_new_secret_without_a_value_is_created_with_it_unknown() -> None:
    plan = diff(desired({1: None}), State())
    assert [(c.address, c.action) for c in plan.changes] == [
        (f"secret.{name(1)}", Action.CREATE),
        ("rule.hub-1", Action.CREATE),
    ]
    value = plan.changes[0].fields[0]
    assert value.name == "value"
    assert value.after == Unknown("environment variable TOKEN_1 is not set")
    assert value.to_dict() == {
        "name": "value",
        "before": None,
        "after": None,
        "sensitive": True,
        "after_unknown": True,
    }
    assert plan.problems == ()
    assert plan.missing_values() == (
        (f"secret.{name(1)}", "environment variable TOKEN_1 is not set"),
    )


def test_a_referenced_secret_that_is_missing_is_still_a_problem() -> None:
    plan = diff(State.of(secrets=(Secret(name(1)),)), State())
    assert plan.changes == () and plan.missing_values() == ()
    assert plan.problems and "gives no token to create it" in plan.problems[0]


def test_known_values_are_not_missing() -> None:
    plan = diff(desired({1: "a"}), State())
    assert plan.missing_values() == ()
    assert not any(f["after_unknown"] for c in plan.to_dict()["changes"] for f in c["fields"])


def test_unknown_reviewed_accepts_any_value_known_later() -> None:
    reviewed = diff(desired({1: None}), State()).checksum()
    for value in ("a", "b"):
        later = diff(desired({1: value}), State())
        assert later.checksum() != reviewed  # the two plans are told apart...
        assert later.accepts_checksum(reviewed)  # ...and compatible, as in Terraform


def test_a_known_value_must_stay_the_same() -> None:
    reviewed = diff(desired({1: "a"}), State()).checksum()
    assert diff(desired({1: "a"}), State()).accepts_checksum(reviewed)
    assert not diff(desired({1: "b"}), State()).accepts_checksum(reviewed)
    # known at review, unknown now: apply refuses that anyway (missing value); not accepted
    assert not diff(desired({1: None}), State()).accepts_checksum(reviewed)


def test_mixed_plans_compare_value_by_value() -> None:
    reviewed = diff(desired({1: "a", 2: None}), State()).checksum()
    assert diff(desired({1: "a", 2: "z"}), State()).accepts_checksum(reviewed)
    assert not diff(desired({1: "b", 2: "z"}), State()).accepts_checksum(reviewed)


def test_anything_else_changed_is_refused() -> None:
    reviewed = diff(desired({1: None}), State()).checksum()
    more = desired({1: "a", 2: "b"})
    assert not diff(more, State()).accepts_checksum(reviewed)
    assert not diff(desired({1: "a"}), State()).accepts_checksum("sha256:" + "0" * 64)


@pytest.mark.parametrize("n", [MASKED_SETS_UPTO + 1, MASKED_SETS_UPTO + 3])
def test_beyond_the_enumerated_sets_none_or_all(n: int) -> None:
    all_unknown = diff(desired(dict.fromkeys(range(n))), State()).checksum()
    known = diff(desired({i: f"v{i}" for i in range(n)}), State())
    assert known.accepts_checksum(all_unknown)
    assert known.accepts_checksum(known.checksum())
    one_known = diff(desired({i: "v0" if i == 0 else None for i in range(n)}), State()).checksum()
    assert not known.accepts_checksum(one_known)  # partial sets are not tried past the cap


def test_a_deleted_secret_recreated_without_its_value_points_the_rule_at_an_unknown_arn() -> None:
    arn = f"arn:aws:secretsmanager:af-south-1:123456789012:secret:{name(1)}-AbCdEf"
    live = State.of(
        rules=(
            Rule(
                "hub-1", "docker-hub", "registry-1.docker.io", credential=name(1),
                credential_arn=arn,
            ),
        )
    )  # fmt: skip
    plan = diff(desired({1: None}), live)
    assert [(c.address, c.action) for c in plan.changes] == [
        (f"secret.{name(1)}", Action.CREATE),
        ("rule.hub-1", Action.UPDATE),
    ]
    (field,) = plan.changes[1].fields
    assert (field.before, field.after) == (arn, Unknown())  # apply learns it: not missing
    assert plan.missing_values() == (
        (f"secret.{name(1)}", "environment variable TOKEN_1 is not set"),
    )
