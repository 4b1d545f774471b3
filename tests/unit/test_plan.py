"""diff(): pure plan semantics, ordering, safety and checksums."""

from __future__ import annotations

import json

import pytest

from ecrcache.reconcile.plan import Action, Safety, diff
from ecrcache.reconcile.resources import MANAGED_TAGS, Rule, Secret, SecretValue, State

DH = "ecr-pullthroughcache/docker-hub"


def rule(prefix: str = "docker-hub", **kw: object) -> Rule:
    base: dict[str, object] = {
        "upstream": "docker-hub",
        "url": "registry-1.docker.io",
        "credential": DH,
    }
    base.update(kw)
    return Rule(prefix=prefix, **base)  # type: ignore[arg-type]


def secret(value: str | None = "v1", **kw: object) -> Secret:
    return Secret(DH, value=SecretValue.of(value) if value else None, tags=MANAGED_TAGS, **kw)  # type: ignore[arg-type]


def live_secret(value: str = "v1", tags: tuple[tuple[str, str], ...] = MANAGED_TAGS) -> Secret:
    return Secret(
        DH, value=SecretValue.digest_of(value), tags=tags, arn=f"arn:x:secret:{DH}-AbCdEf"
    )


def test_empty_account_creates_secret_before_rule() -> None:
    plan = diff(State.of(secrets=(secret(),), rules=(rule(),)), State())
    assert [(c.address, c.action) for c in plan.changes] == [
        (f"secret.{DH}", Action.CREATE),
        ("rule.docker-hub", Action.CREATE),
    ]
    assert plan.summary() == {"add": 2, "change": 0, "replace": 0, "destroy": 0}


def test_same_state_is_empty() -> None:
    desired = State.of(secrets=(secret(),), rules=(rule(),))
    live = State.of(secrets=(live_secret(),), rules=(rule(),))
    assert diff(desired, live).empty


@pytest.mark.parametrize(
    ("field", "value", "action", "force"),
    [
        ("credential", "ecr-pullthroughcache/other", Action.UPDATE, False),
        ("url", "mirror.example.com", Action.REPLACE, True),
        ("upstream", "quay", Action.REPLACE, True),
        ("upstream_prefix", "team", Action.REPLACE, True),
        ("credential", None, Action.REPLACE, True),  # an ARN cannot be cleared by update
    ],
)
def test_rule_update_or_replace(field: str, value: object, action: Action, force: bool) -> None:
    live = State.of(rules=(rule(),))
    desired = State.of(rules=(rule(**{field: value}),))
    (change,) = diff(desired, live).changes
    assert change.action is action
    assert change.needs_force is force
    assert [f.name for f in change.fields] == [field]
    if action is Action.REPLACE:
        assert change.reason and field in change.reason


def test_changed_secret_value_is_an_update_shown_as_sensitive() -> None:
    live = State.of(secrets=(live_secret("old"),), rules=(rule(),))
    desired = State.of(secrets=(secret("new"),), rules=(rule(),))
    (change,) = diff(desired, live).changes
    assert (change.address, change.action) == (f"secret.{DH}", Action.UPDATE)
    doc = json.dumps(change.to_dict())
    assert "(sensitive)" in doc and "new" not in doc
    assert SecretValue.of("new").digest not in doc  # not even the digest is shown


def test_unknown_value_is_left_alone() -> None:
    live = State.of(secrets=(live_secret("whatever"),))
    assert diff(State.of(secrets=(secret(None),)), live).empty


def test_referenced_only_secret_is_never_touched() -> None:
    live = State.of(secrets=(live_secret("x", tags=()),))
    assert diff(State.of(secrets=(Secret(DH),)), live).empty


def test_missing_referenced_secret_is_a_problem() -> None:
    plan = diff(State.of(secrets=(Secret(DH),)), State())
    assert plan.empty and plan.problems


OLD = "ecr-pullthroughcache/old"
OLD_ARN = f"arn:x:secret:{OLD}-AbCdEf"


def test_unmanaged_rules_are_reported_and_only_ecrcaches_pruned_with_prune() -> None:
    # ecrcache's own rule holds a secret ecrcache made (by its ARN); a rule with no credential,
    # or with somebody else's secret, is never provably ecrcache's (ownership.py).
    ours = rule("old", credential=OLD, credential_arn=OLD_ARN)
    theirs = rule("quay", upstream="quay", url="quay.io", credential=None)
    hand = rule("hand", credential=DH, credential_arn=f"arn:x:secret:{DH}-AbCdEf")
    secrets = (
        Secret(OLD, tags=MANAGED_TAGS, arn=OLD_ARN),
        Secret(DH, tags=(("team", "b"),), arn=f"arn:x:secret:{DH}-AbCdEf"),
    )
    live = State.of(secrets=secrets, rules=(rule(), ours, theirs, hand))
    desired = State.of(secrets=(Secret(DH), Secret(OLD, tags=MANAGED_TAGS)), rules=(rule(),))
    plan = diff(desired, live)
    assert plan.empty
    assert [(u.address, u.ours) for u in plan.unmanaged] == [
        ("rule.hand", False),
        ("rule.old", True),
        ("rule.quay", False),
    ]
    pruned = diff(desired, live, prune=True)
    (change,) = pruned.changes
    assert (change.address, change.action, change.needs_force) == ("rule.old", Action.DELETE, True)
    assert [u.address for u in pruned.unmanaged] == ["rule.hand", "rule.quay"]


def test_a_rule_holding_another_arn_than_ecrcaches_secret_is_not_ecrcaches() -> None:
    # Same name, other ARN: the secret ecrcache made was deleted and another made since.
    stale = rule("old", credential=OLD, credential_arn=f"arn:x:secret:{OLD}-ZzZzZz")
    live = State.of(secrets=(Secret(OLD, tags=MANAGED_TAGS, arn=OLD_ARN),), rules=(stale,))
    desired = State.of(secrets=(Secret(OLD, tags=MANAGED_TAGS),))
    assert diff(desired, live, prune=True).empty


def test_prune_deletes_only_templates_ecrcache_marked() -> None:
    from ecrcache.reconcile.ownership import marked_description
    from ecrcache.reconcile.resources import Template

    live = State.of(
        templates=(
            Template("ROOT", description="team b: everything"),
            Template("quay", description=marked_description("ours once")),
            Template("team-b"),
        )
    )
    pruned = diff(State(), live, prune=True)
    assert [(c.address, c.action) for c in pruned.changes] == [("template.quay", Action.DELETE)]
    assert [(u.address, u.ours) for u in pruned.unmanaged] == [
        ("template.ROOT", False),
        ("template.team-b", False),
    ]
    kept = diff(State(), live)
    assert kept.empty
    assert [(u.address, u.ours) for u in kept.unmanaged] == [
        ("template.ROOT", False),
        ("template.quay", True),
        ("template.team-b", False),
    ]


def test_a_declared_template_without_the_marker_is_adopted_by_an_update() -> None:
    from ecrcache.reconcile.ownership import marked_description
    from ecrcache.reconcile.resources import Template

    live = State.of(templates=(Template("quay", description="cache"),))
    desired = State.of(templates=(Template("quay", description=marked_description("cache")),))
    (change,) = diff(desired, live).changes
    assert change.action is Action.UPDATE
    assert [(f.name, f.before, f.after) for f in change.fields] == [
        ("description", "cache", "cache [managed-by=ecrcache]")
    ]
    assert change.reason and "adopted" in change.reason
    again = State.of(templates=(Template("quay", description=marked_description("cache")),))
    assert diff(desired, again).empty


def test_prune_deletes_only_secrets_ecrcache_manages() -> None:
    other = Secret("ecr-pullthroughcache/hand-made", tags=(("team", "x"),))
    ours = Secret("ecr-pullthroughcache/old", tags=MANAGED_TAGS)
    plan = diff(State(), State.of(secrets=(other, ours)), prune=True)
    assert [c.address for c in plan.changes] == ["secret.ecr-pullthroughcache/old"]


def test_deletes_run_after_creates_and_in_reverse_kind_order() -> None:
    old = Secret(OLD, tags=MANAGED_TAGS, arn=OLD_ARN)
    live = State.of(secrets=(old,), rules=(rule("old", credential=OLD, credential_arn=OLD_ARN),))
    desired = State.of(secrets=(secret(),), rules=(rule(),))
    order = [(c.action.value, c.address) for c in diff(desired, live, prune=True).changes]
    # Rule deletes come before rule creates (room under the 50-rule quota); the secret the old
    # rule used goes last, after every rule.
    assert order == [
        ("create", f"secret.{DH}"),
        ("delete", "rule.old"),
        ("create", "rule.docker-hub"),
        ("delete", "secret.ecr-pullthroughcache/old"),
    ]


def test_pending_deletion_secret_is_restored() -> None:
    live = State.of(secrets=(Secret(DH, tags=MANAGED_TAGS, pending_deletion=True),))
    (change,) = diff(State.of(secrets=(secret(),)), live).changes
    assert change.action is Action.UPDATE
    assert {f.name for f in change.fields} == {"pending_deletion", "value"}


def rules(n: int) -> tuple[Rule, ...]:
    return tuple(
        rule(f"q{i:02d}", upstream="quay", url="quay.io", credential=None) for i in range(n)
    )


def owned_rules(n: int) -> tuple[Rule, ...]:
    """Rules ecrcache made: each holds ecrcache's secret ``OWNED``."""
    return tuple(rule(f"d{i:02d}", credential=OLD, credential_arn=OLD_ARN) for i in range(n))


OWNED = Secret(OLD, tags=MANAGED_TAGS, arn=OLD_ARN)


def test_thresholds_apply_only_once_enough_exist() -> None:
    safety = Safety(update_threshold=0.3, delete_threshold=0.3, min_existing=10)
    live = State.of(secrets=(OWNED,), rules=owned_rules(12))
    keep = owned_rules(12)[:6]
    desired = State.of(secrets=(Secret(OLD, tags=MANAGED_TAGS),), rules=keep)
    plan = diff(desired, live, prune=True)
    reasons = plan.unsafe_reasons(safety)
    assert any("6 of 13 existing resources would be destroyed" in r for r in reasons)
    small = diff(
        State.of(secrets=(Secret(OLD, tags=MANAGED_TAGS),), rules=owned_rules(3)[:2]),
        State.of(secrets=(OWNED,), rules=owned_rules(3)),
        prune=True,
    )
    # Below min_existing only the always-force rule deletions are reasons, not the ratio.
    assert all("threshold" not in r for r in small.unsafe_reasons(safety))


def test_update_threshold() -> None:
    live = State.of(rules=rules(10))
    desired = State.of(
        rules=tuple(
            rule(r.prefix, upstream="quay", url="quay.io", credential=None, role_arn="arn:r")
            if i < 4
            else r
            for i, r in enumerate(rules(10))
        )
    )
    plan = diff(desired, live)
    assert plan.count(Action.UPDATE) == 4
    assert any("4 of 10" in r for r in plan.unsafe_reasons(Safety(0.3, 0.3, 10)))
    assert not plan.unsafe_reasons(Safety(0.5, 0.3, 10))


def test_checksum_is_stable_and_tracks_secret_values() -> None:
    live = State.of(secrets=(live_secret("old"),))
    a = diff(State.of(secrets=(secret("new"),)), live)
    b = diff(State.of(secrets=(secret("new"),)), live)
    c = diff(State.of(secrets=(secret("newer"),)), live)
    assert a.checksum() == b.checksum()
    assert a.checksum() != c.checksum()
    assert a.checksum().startswith("sha256:")


def test_secret_value_never_prints() -> None:
    v = SecretValue.of("hunter2")
    assert "hunter2" not in repr(v) and "hunter2" not in f"{v}"
    assert "hunter2" not in repr(Secret(DH, value=v))
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(v)
