"""ownership.py: the template marker round trip, which rules are ecrcache's, and the CI policy's
grants for the prune of [monitoring] resources left after the section was removed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ecrcache.config.ci_policy import ci_policy_for, policy_chars
from ecrcache.policy.iam import evaluate
from ecrcache.policy.policies import MANAGED_POLICY_MAX_CHARS
from ecrcache.reconcile.ownership import (
    TEMPLATE_MARKER,
    marked_description,
    rule_is_ours,
    split_description,
    template_is_ours,
)
from ecrcache.reconcile.resources import MANAGED_TAGS, Rule, Secret

sys.path.insert(0, str(Path(__file__).parent))
from test_ci_policy_size import ACCOUNT, REALISTIC, REGION, big_config


@pytest.mark.parametrize(
    "text",
    [None, "cache", "two  spaces ", f"ends in the marker {TEMPLATE_MARKER}", TEMPLATE_MARKER],
)
def test_the_users_text_round_trips_through_the_marker(text: str | None) -> None:
    raw = marked_description(text)
    assert raw.endswith(TEMPLATE_MARKER) and template_is_ours(raw)
    assert split_description(raw) == (text or None, True)


@pytest.mark.parametrize(
    "raw",
    [None, "", "cache", f"cache{TEMPLATE_MARKER}", f"{TEMPLATE_MARKER} cache", "[managed-by=x]"],
)
def test_without_the_marker_a_template_is_not_ecrcaches(raw: str | None) -> None:
    assert not template_is_ours(raw)
    assert split_description(raw) == (raw or None, False)


ARN = "arn:aws:secretsmanager:af-south-1:123456789012:secret:ecr-pullthroughcache/dh-AbCdEf"


def _rule(credential: str | None = "ecr-pullthroughcache/dh", arn: str | None = ARN) -> Rule:
    return Rule(
        "dh", "docker-hub", "registry-1.docker.io", credential=credential, credential_arn=arn
    )


@pytest.mark.parametrize(
    ("rule", "secret", "ours"),
    [
        (_rule(), Secret("ecr-pullthroughcache/dh", tags=MANAGED_TAGS, arn=ARN), True),
        (_rule(), Secret("ecr-pullthroughcache/dh", tags=(("team", "b"),), arn=ARN), False),
        (_rule(), None, False),  # the secret is not known: nothing proves it
        (
            _rule(arn=ARN[:-6] + "ZzZzZz"),
            Secret("ecr-pullthroughcache/dh", tags=MANAGED_TAGS, arn=ARN),
            False,
        ),
        (_rule(credential=None, arn=None), None, False),  # no credential: never provable
    ],
)
def test_a_rule_is_ecrcaches_when_it_holds_ecrcaches_secret(
    rule: Rule, secret: Secret | None, ours: bool
) -> None:
    secrets = {secret.name: secret} if secret is not None else {}
    assert rule_is_ours(rule, secrets) is ours


def _allowed(doc: dict[str, object], action: str, arn: str) -> bool:
    context = {"aws:RequestedRegion": REGION}
    return evaluate(action, arn, identity_policies=[doc], context=context).allowed


RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/"
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/events/"


def test_monitoring_left_behind_keeps_its_prune_grants_and_nothing_wider() -> None:
    cfg = big_config(REALISTIC)  # no [monitoring]
    bare = ci_policy_for(cfg, account_id=ACCOUNT, region=REGION)
    assert not _allowed(bare, "events:DeleteRule", RULE_ARN + "ecrcache-pull-through-cache")
    kept = ci_policy_for(
        cfg, account_id=ACCOUNT, region=REGION, kept_monitoring=["ecrcache-pull-through-cache"]
    )
    for action, arn in (
        ("events:DeleteRule", RULE_ARN + "ecrcache-pull-through-cache"),
        ("events:RemoveTargets", RULE_ARN + "ecrcache-pull-through-cache"),
        ("sns:DeleteTopic", f"arn:aws:sns:{REGION}:{ACCOUNT}:ecrcache-pull-through-cache"),
        ("logs:DeleteLogGroup", GROUP_ARN + "ecrcache-pull-through-cache"),
        ("budgets:ModifyBudget", f"arn:aws:budgets::{ACCOUNT}:budget/ecrcache-ecr-monthly"),
        ("logs:DeleteResourcePolicy", "*"),
    ):
        assert _allowed(kept, action, arn), action
    # only under those names: another team's rule or log group stays out of reach
    assert not _allowed(kept, "events:DeleteRule", RULE_ARN + "team-b-alerts")
    assert not _allowed(kept, "logs:DeleteLogGroup", GROUP_ARN + "team-b")
    # the largest realistic config still fits IAM's limit with them
    assert policy_chars(kept) <= MANAGED_POLICY_MAX_CHARS
