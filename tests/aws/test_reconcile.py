"""plan/apply against moto with ecrcache's ECR extension: round trips for every upstream kind,
idempotency counted in API calls, update vs replace, prune, and the secret-propagation race."""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest
from reconcile_support import ACCOUNT, REGION, TOKEN, apply, clients, config, cred, plan

from ecrcache.errors import ApplyError, CredentialSourceError, WrongAccountError
from ecrcache.reconcile.credentials import SourceReader
from ecrcache.reconcile.plan import Action
from ecrcache.reconcile.planning import make_plan

# One rule per upstream kind ECR supports.
RULES_BY_KIND: dict[str, dict[str, Any]] = {
    "docker-hub": {"upstream": "docker-hub", "credentials": cred("docker-hub")},
    "ecr-public": {"upstream": "ecr-public"},
    "quay": {"upstream": "quay"},
    "k8s": {"upstream": "k8s"},
    "github": {"upstream": "github-container-registry", "credentials": cred("github")},
    "gitlab": {"upstream": "gitlab-container-registry", "credentials": cred("gitlab")},
    "azure": {
        "upstream": "azure-container-registry",
        "url": "acmeregistry.azurecr.io",
        "credentials": cred("azure"),
    },
    "chainguard": {"upstream": "chainguard", "credentials": cred("chainguard")},
    "mirror": {
        "upstream": "ecr",
        "url": "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/ecr-ptc-upstream",
        "upstream_prefix": "team-a",
    },
    "ROOT": {"upstream": "quay"},
}


@pytest.mark.parametrize("prefix", sorted(RULES_BY_KIND))
def test_apply_then_plan_is_empty_for_every_upstream(
    aws: boto3.session.Session, prefix: str
) -> None:
    cfg = config({prefix: RULES_BY_KIND[prefix]})
    c = clients(aws)
    first = apply(cfg, c)
    assert not first.plan.empty
    assert plan(cfg, c).plan.empty
    live = c.ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    assert [r["ecrRepositoryPrefix"] for r in live] == [prefix]
    assert live[0]["upstreamRegistry"] == RULES_BY_KIND[prefix]["upstream"]


def test_all_kinds_together_and_second_apply_makes_no_mutating_call(
    aws: boto3.session.Session,
) -> None:
    cfg = config(RULES_BY_KIND)
    c = clients(aws)
    apply(cfg, c)
    assert len(c.mutating_calls) == 5 + len(RULES_BY_KIND)  # 5 secrets, then every rule
    c2 = clients(aws)
    second = apply(cfg, c2)
    assert second.plan.empty
    assert c2.mutating_calls == []
    assert c2.calls  # it did read the account


def test_secret_gets_the_keys_ecr_reads_and_the_managed_tag(aws: boto3.session.Session) -> None:
    import json

    c = clients(aws)
    apply(config({"docker-hub": RULES_BY_KIND["docker-hub"]}), c)
    sm = aws.client("secretsmanager", region_name=REGION)
    desc = sm.describe_secret(SecretId="ecr-pullthroughcache/docker-hub")
    assert {"Key": "managed-by", "Value": "ecrcache"} in desc["Tags"]
    body = json.loads(sm.get_secret_value(SecretId=desc["ARN"])["SecretString"])
    assert body == {"username": "bot", "accessToken": TOKEN}
    rule = c.ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]
    assert rule["credentialArn"] == desc["ARN"]


def test_changing_the_token_updates_the_secret_in_place(aws: boto3.session.Session) -> None:
    cfg = config({"docker-hub": RULES_BY_KIND["docker-hub"]})
    c = clients(aws)
    apply(cfg, c)
    result = plan(cfg, c, {"TOK": "a-new-token"})
    assert [(ch.address, ch.action) for ch in result.plan.changes] == [
        ("secret.ecr-pullthroughcache/docker-hub", Action.UPDATE)
    ]
    c2 = clients(aws)
    apply(cfg, c2, {"TOK": "a-new-token"})
    assert c2.mutating_calls == ["secretsmanager.PutSecretValue"]
    assert plan(cfg, c, {"TOK": "a-new-token"}).plan.empty


def test_changing_a_rules_credential_is_an_update(aws: boto3.session.Session) -> None:
    c = clients(aws)
    apply(config({"docker-hub": RULES_BY_KIND["docker-hub"]}), c)
    moved = {"upstream": "docker-hub", "credentials": cred("docker-hub-2")}
    result = plan(config({"docker-hub": moved}), c)
    actions = [(ch.address, ch.action) for ch in result.plan.changes]
    assert actions == [
        ("secret.ecr-pullthroughcache/docker-hub-2", Action.CREATE),
        ("rule.docker-hub", Action.UPDATE),
    ]
    assert not result.plan.unsafe_reasons(result.safety)
    c2 = clients(aws)
    apply(config({"docker-hub": moved}), c2)
    assert "ecr.UpdatePullThroughCacheRule" in c2.mutating_calls
    assert "ecr.DeletePullThroughCacheRule" not in c2.mutating_calls
    rule = c.ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]
    assert ":secret:ecr-pullthroughcache/docker-hub-2-" in rule["credentialArn"]
    # The old secret is ecrcache's and unused now: reported, and pruned only with --prune, once
    # ListSecrets shows it (the listing lags: secrets_consistency).
    from ecrcache.sandbox import secrets_consistency

    secrets_consistency.settle()
    after = plan(config({"docker-hub": moved}), c)
    assert [u.address for u in after.plan.unmanaged] == ["secret.ecr-pullthroughcache/docker-hub"]
    assert any("may not reflect changes from the last five minutes" in w for w in after.warnings)


def test_changing_the_upstream_url_is_a_replace_that_needs_force(
    aws: boto3.session.Session,
) -> None:
    c = clients(aws)
    apply(config({"azure": RULES_BY_KIND["azure"]}), c)
    moved = {**RULES_BY_KIND["azure"], "url": "otherregistry.azurecr.io"}
    result = plan(config({"azure": moved}), c)
    (change,) = result.plan.changes
    assert change.action is Action.REPLACE and change.needs_force
    assert "url cannot be updated in place" in (change.reason or "")
    assert result.plan.unsafe_reasons(result.safety)
    c2 = clients(aws)
    apply(config({"azure": moved}), c2)
    assert c2.mutating_calls == ["ecr.DeletePullThroughCacheRule", "ecr.CreatePullThroughCacheRule"]
    rule = c.ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]
    assert rule["upstreamRegistryUrl"] == "otherregistry.azurecr.io"


def test_prune_deletes_only_what_it_should(aws: boto3.session.Session) -> None:
    c = clients(aws)
    apply(config(RULES_BY_KIND), c)
    # A secret someone made by hand, under the same prefix, must survive any prune.
    sm = aws.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name="ecr-pullthroughcache/by-hand", SecretString='{"username":"a"}')
    from ecrcache.sandbox import secrets_consistency

    secrets_consistency.settle()  # five minutes later: ListSecrets shows them all
    keep = {k: RULES_BY_KIND[k] for k in ("docker-hub", "quay", "k8s")}
    without = plan(config(keep), c)
    assert without.plan.empty
    assert {u.address for u in without.plan.unmanaged} >= {"rule.github", "rule.mirror"}
    pruned = plan(config(keep), c, prune=True)
    deleted = {ch.address for ch in pruned.plan.changes if ch.action is Action.DELETE}
    # Only rules holding a secret ecrcache made are provably its own (ownership.py): the rules
    # with no credential (ecr-public, ROOT) or a role only (mirror) stay, reported.
    assert deleted == {
        "rule.github",
        "rule.gitlab",
        "rule.azure",
        "rule.chainguard",
        "secret.ecr-pullthroughcache/github",
        "secret.ecr-pullthroughcache/gitlab",
        "secret.ecr-pullthroughcache/azure",
        "secret.ecr-pullthroughcache/chainguard",
    }
    assert {(u.address, u.ours) for u in pruned.plan.unmanaged} == {
        ("rule.ecr-public", False),
        ("rule.mirror", False),
        ("rule.ROOT", False),
    }
    apply(config(keep), clients(aws), prune=True)
    live = c.ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    assert sorted(r["ecrRepositoryPrefix"] for r in live) == [
        "ROOT",
        "docker-hub",
        "ecr-public",
        "k8s",
        "mirror",
        "quay",
    ]
    assert "DeletedDate" not in sm.describe_secret(SecretId="ecr-pullthroughcache/by-hand")
    assert plan(config(keep), c, prune=True).plan.empty


def test_secret_propagation_race_is_retried(aws: boto3.session.Session) -> None:
    from ecrcache.sandbox import ecr_extension

    c = clients(aws)
    ecr_extension.inject_secret_not_found(2)
    apply(config({"docker-hub": RULES_BY_KIND["docker-hub"]}), c)
    assert c.sleeps == [1.0, 2.0]  # type: ignore[attr-defined]
    assert c.mutating_calls.count("ecr.CreatePullThroughCacheRule") == 3
    assert plan(config({"docker-hub": RULES_BY_KIND["docker-hub"]}), c).plan.empty


def test_failure_part_way_reports_what_was_applied(aws: boto3.session.Session) -> None:
    from ecrcache.sandbox import ecr_extension

    cfg = config({"docker-hub": RULES_BY_KIND["docker-hub"], "quay": RULES_BY_KIND["quay"]})
    c = clients(aws)
    ecr_extension.inject_secret_not_found(100)
    try:
        with pytest.raises(ApplyError) as info:
            apply(cfg, c)
    finally:
        ecr_extension.inject_secret_not_found(0)
    err = info.value
    assert err.applied == ("create secret.ecr-pullthroughcache/docker-hub",)
    assert "create rule.docker-hub failed" in err.message
    assert "SecretNotFoundException" in err.message
    assert TOKEN not in err.message and TOKEN not in (err.hint or "")
    # Running again finishes the job.
    apply(cfg, clients(aws))
    assert plan(cfg, c).plan.empty


def test_missing_token_for_a_new_secret_is_planned_unknown_and_refused_by_apply(
    aws: boto3.session.Session,
) -> None:
    # plan shows it "known after apply" (tests/cli/test_plan_unknown_values.py for the CLI);
    # apply is what refuses, before any change
    c = clients(aws)
    with pytest.raises(CredentialSourceError, match="TOK is not set"):
        apply(config({"docker-hub": RULES_BY_KIND["docker-hub"]}), c, env={})
    assert c.mutating_calls == []


def test_missing_token_for_an_existing_secret_leaves_it_alone(aws: boto3.session.Session) -> None:
    cfg = config({"docker-hub": RULES_BY_KIND["docker-hub"]})
    apply(cfg, clients(aws))
    result = plan(cfg, clients(aws), env={})
    assert result.plan.empty
    assert any("value not checked" in w for w in result.warnings)


def test_wrong_account_is_refused(aws: boto3.session.Session) -> None:
    cfg = config({"quay": RULES_BY_KIND["quay"]}, account_id="999999999999")
    with pytest.raises(WrongAccountError, match="credentials are for account 123456789012") as e:
        plan(cfg, clients(aws))
    assert e.value.exit_code == 3  # a credentials problem (the README's table), not an unsafe plan


def test_referenced_secret_must_exist(aws: boto3.session.Session) -> None:
    rule = {
        "upstream": "docker-hub",
        "credentials": {"secret": "ecr-pullthroughcache/made-elsewhere"},
    }
    with pytest.raises(CredentialSourceError, match="gives no token to create it"):
        plan(config({"docker-hub": rule}), clients(aws))
    sm = aws.client("secretsmanager", region_name=REGION)
    sm.create_secret(
        Name="ecr-pullthroughcache/made-elsewhere",
        SecretString='{"username":"u","accessToken":"t"}',
    )
    c = clients(aws)
    apply(config({"docker-hub": rule}), c)
    assert c.mutating_calls == ["ecr.CreatePullThroughCacheRule"]


def test_stdin_source_is_read_once(aws: boto3.session.Session) -> None:
    rule = {
        "upstream": "docker-hub",
        "credentials": {
            "secret": "ecr-pullthroughcache/docker-hub",
            "username": "bot",
            "token": {"stdin": True},
        },
    }
    reader = SourceReader(environ={}, stdin=io.StringIO(TOKEN + "\n"))
    result = make_plan(config({"docker-hub": rule}), clients(aws), reader=reader)
    assert result.plan.count(Action.CREATE) == 2


def test_prune_makes_room_at_the_rule_quota(aws: boto3.session.Session) -> None:
    # ecrcache's own rules (each holds the secret ecrcache made), so a prune may delete one
    dh = {"upstream": "docker-hub", "credentials": cred("docker-hub")}
    full = {f"q{i:02d}": dh for i in range(50)}
    apply(config(full), clients(aws))
    swapped = {**{k: v for k, v in full.items() if k != "q00"}, "k8s": {"upstream": "k8s"}}
    c = clients(aws)
    apply(config(swapped), c, prune=True)
    assert c.mutating_calls == ["ecr.DeletePullThroughCacheRule", "ecr.CreatePullThroughCacheRule"]
    assert plan(config(swapped), clients(aws), prune=True).plan.empty
