"""Plan and apply cost what the config manages, not what the account holds (issue 14).

Calls are counted through ``Clients.calls`` (a botocore ``before-call`` hook on every client
ecrcache builds), at a size that runs in seconds: 300 cache repositories a backfill template
reaches, 300 other teams' repositories, 10 application repositories and 2 repositories ecrcache
made that the config no longer declares. Any per-repository call coming back for the
repositories ecrcache does not manage fails these tests.
"""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from typing import Any

import boto3
import pytest
from reconcile_support import ACCOUNT, REGION, apply, clients, config, plan

from ecrcache.errors import EXIT_INTERRUPTED, ApplyError, Interrupted
from ecrcache.reconcile.apply import ApplyContext, run
from ecrcache.reconcile.bounded import CONCURRENCY
from ecrcache.sandbox.pulls import simulate_pull

CACHE, PLAIN, APPS, OLD = 300, 300, 10, 2
KEEP_5 = {"keep_last": 5}
RULES = {"quay": {"upstream": "quay"}}
APP_NAMES = [f"app/svc-{i:02d}" for i in range(APPS)]
OLD_NAMES = [f"app/old-{i}" for i in range(OLD)]
CACHE_NAMES = [f"quay/org/img-{i:03d}" for i in range(CACHE)]
# Calls a plan makes whatever the account holds: caller identity, ListSecrets, rules, templates.
FIXED = Counter(
    {
        "sts.GetCallerIdentity": 1,
        "secretsmanager.ListSecrets": 1,
        "ecr.DescribePullThroughCacheRules": 1,
        "ecr.DescribeRepositoryCreationTemplates": 1,
    }
)


def scale_config(*, backfill: bool = True, apps: list[str] = APP_NAMES) -> Any:
    return config(
        RULES,
        templates={"quay": {"lifecycle": KEEP_5, "backfill": backfill}},
        repositories={name: {} for name in apps},
    )


def other_teams(session: boto3.session.Session, count: int = PLAIN) -> None:
    ecr = session.client("ecr", region_name=REGION)  # not through ecrcache: other teams'
    for i in range(count):
        tags = [{"Key": "team", "Value": "b"}] if i % 2 else []
        ecr.create_repository(repositoryName=f"team/r-{i:03d}", tags=tags)


def pull_all(names: list[str]) -> None:
    for name in names:
        simulate_pull(account_id=ACCOUNT, region=REGION, repository=name, tag="1")


@pytest.fixture
def account(aws: boto3.session.Session) -> boto3.session.Session:
    """Everything applied (the cache repositories pulled after their template): no-op plans."""
    apply(scale_config(apps=APP_NAMES + OLD_NAMES), clients(aws))
    pull_all(CACHE_NAMES)
    other_teams(aws)
    return aws


def calls_of(cfg: Any, session: boto3.session.Session, **kw: Any) -> tuple[Counter[str], Any]:
    c = clients(session)
    result = plan(cfg, c, **kw)
    return Counter(c.calls), result


def test_no_op_plan_reads_per_repository_only_what_backfill_and_the_config_manage(
    account: boto3.session.Session,
) -> None:
    calls, result = calls_of(scale_config(), account)
    assert result.plan.empty
    assert {u.address for u in result.plan.unmanaged} >= {f"repository.{n}" for n in OLD_NAMES}
    pages = Counter({"ecr.DescribeRepositories": 1, "resourcegroupstaggingapi.GetResources": 1})
    per_repository = Counter(
        {
            # backfill's reads, then each application repository's lifecycle policy
            "ecr.GetLifecyclePolicy": CACHE + APPS + OLD,
            # the config's own repositories: read directly (the listing lags)
            "ecr.ListTagsForResource": APPS,
            # ecrcache's repositories the config dropped: counted before a prune may delete
            "ecr.ListImages": OLD,
        }
    )
    assert calls == FIXED + pages + per_repository
    # the bound: pages + backfill reads + 2 per application repository
    assert calls.total() <= FIXED.total() + pages.total() + CACHE + 2 * (APPS + OLD)


def test_no_op_plan_without_backfill_makes_fewer_than_100_calls(
    account: boto3.session.Session,
) -> None:
    calls, result = calls_of(scale_config(backfill=False), account)
    assert result.plan.empty
    assert calls["ecr.GetLifecyclePolicy"] == APPS + OLD  # no cache repository is read
    assert calls["ecr.ListTagsForResource"] == APPS
    assert calls.total() < 100


def test_prune_confirms_the_listed_repositories_it_would_delete(
    account: boto3.session.Session,
) -> None:
    """The tagging listing is eventually consistent: before a delete, tags are read directly."""
    calls, result = calls_of(scale_config(), account, prune=True)
    assert {c.address for c in result.plan.changes} == {f"repository.{n}" for n in OLD_NAMES}
    assert calls["ecr.ListTagsForResource"] == APPS + OLD
    # one listing of ecrcache's repositories, one of its EventBridge rules (a prune without
    # [monitoring] looks for what that section made: reconcile/live_monitoring.py)
    assert calls["resourcegroupstaggingapi.GetResources"] == 2


def test_the_listing_is_skipped_when_no_repository_could_be_ecrcache_s(
    aws: boto3.session.Session,
) -> None:
    """Only cache repositories backfill does not reach: nothing needs the tagging listing."""
    cfg = config(RULES, templates={"quay": {"lifecycle": KEEP_5}})
    apply(cfg, clients(aws))
    pull_all(CACHE_NAMES[:20])
    calls, result = calls_of(cfg, aws)
    assert result.plan.empty
    assert "resourcegroupstaggingapi.GetResources" not in calls
    assert calls == FIXED + Counter({"ecr.DescribeRepositories": 1})


def test_a_repository_ecrcache_tagged_is_never_backfilled(aws: boto3.session.Session) -> None:
    """Found by the tagging listing, not by reading every candidate's tags."""
    apply(config({}, repositories={"quay/tools": {}}), clients(aws))
    apply(config(RULES), clients(aws))
    pull_all(CACHE_NAMES[:5])
    calls, result = calls_of(scale_config(apps=[]), aws)
    settings = {c.key for c in result.plan.changes if c.kind == "repository-settings"}
    assert settings == set(CACHE_NAMES[:5])  # pulled before the template; not quay/tools
    assert "repository.quay/tools" in {u.address for u in result.plan.unmanaged}
    assert calls["ecr.GetLifecyclePolicy"] == 5 + 1  # the 5 cache repositories, quay/tools
    assert calls["ecr.ListTagsForResource"] == 0


# --- apply: backfill writes on the bounded pool -----------------------------------------------


@pytest.fixture
def unbackfilled(aws: boto3.session.Session) -> boto3.session.Session:
    """Cache repositories pulled before their template: backfill has CACHE repositories to set."""
    apply(config(RULES), clients(aws))
    pull_all(CACHE_NAMES)
    other_teams(aws, 20)
    return aws


def lifecycle_of(session: boto3.session.Session, name: str) -> str | None:
    ecr = session.client("ecr", region_name=REGION)
    try:
        return str(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        return None


def run_plan(session: boto3.session.Session, result: Any, **ctx: Any) -> Any:
    c = clients(session)
    report = run(
        result.plan,
        ApplyContext(clients=c, account_id=result.account_id, region=REGION, **ctx),
    )
    return c, report


def test_backfill_writes_every_repository_once(unbackfilled: boto3.session.Session) -> None:
    cfg = config(RULES, templates={"quay": {"lifecycle": KEEP_5, "backfill": True}})
    result = plan(cfg, clients(unbackfilled))
    settings = [c for c in result.plan.changes if c.kind == "repository-settings"]
    assert len(settings) == CACHE
    events: list[tuple[str, str]] = []
    c, report = run_plan(unbackfilled, result, on_event=lambda e, ch: events.append((e, ch.key)))
    assert Counter(c.mutating_calls) == Counter(
        {"ecr.CreateRepositoryCreationTemplate": 1, "ecr.PutLifecyclePolicy": CACHE}
    )
    assert {a.address for a in report.applied} == {c.address for c in result.plan.changes}
    assert sorted(k for e, k in events if e == "done" and k in CACHE_NAMES) == CACHE_NAMES
    assert all(lifecycle_of(unbackfilled, n) is not None for n in CACHE_NAMES)
    assert plan(cfg, clients(unbackfilled)).plan.empty


def test_a_failure_that_would_repeat_stops_the_pool(unbackfilled: boto3.session.Session) -> None:
    """Every write after the 100th would fail the same way (the repositories went away since
    the plan): apply stops at the first, lists exactly what it did, and does not try the rest."""
    cfg = config(RULES, templates={"quay": {"lifecycle": KEEP_5, "backfill": True}})
    result = plan(cfg, clients(unbackfilled))
    ecr = unbackfilled.client("ecr", region_name=REGION)
    gone = CACHE_NAMES[100:]
    for name in gone:
        ecr.delete_repository(repositoryName=name, force=True)
    c = clients(unbackfilled)
    with pytest.raises(ApplyError) as caught:
        run(result.plan, ApplyContext(clients=c, account_id=result.account_id, region=REGION))
    err = caught.value
    assert "RepositoryNotFoundException" in err.message
    applied = {a.split(" ", 1)[1] for a in err.applied}
    backfilled = {f"repository-settings.{n}" for n in CACHE_NAMES[:100]}
    assert applied == {"template.quay"} | backfilled
    assert all(lifecycle_of(unbackfilled, n) is not None for n in CACHE_NAMES[:100])
    tried = Counter(c.calls)["ecr.PutLifecyclePolicy"]
    assert tried <= 100 + 2 * CONCURRENCY  # not 200 failures: the queue is cancelled
    assert err.hint is not None and "101 changes" in err.hint  # counted, not 101 names


def test_ctrl_c_stops_the_pool_and_reports_what_was_done(
    unbackfilled: boto3.session.Session,
) -> None:
    """A real SIGINT to this process half-way: the calls in flight finish, the rest never start,
    and what finished is reported as applied (exit 130)."""
    cfg = config(RULES, templates={"quay": {"lifecycle": KEEP_5, "backfill": True}})
    result = plan(cfg, clients(unbackfilled))
    done: list[str] = []

    def on_event(event: str, change: Any) -> None:
        if event == "done":
            done.append(change.address)
            if len(done) == 50:
                os.kill(os.getpid(), signal.SIGINT)

    c = clients(unbackfilled)
    with pytest.raises(Interrupted) as caught:
        run(
            result.plan,
            ApplyContext(clients=c, account_id=result.account_id, region=REGION, on_event=on_event),
        )
    err = caught.value
    assert err.exit_code == EXIT_INTERRUPTED
    assert "interrupted" in err.message
    applied = {a.split(" ", 1)[1] for a in err.applied}
    assert applied == set(done)
    have = {f"repository-settings.{n}" for n in CACHE_NAMES if lifecycle_of(unbackfilled, n)}
    assert have == applied - {"template.quay"}
    assert 50 <= len(have) < CACHE


def test_access_denied_on_the_first_write_stops_the_pool(
    unbackfilled: boto3.session.Session,
) -> None:
    """The credentials may not PutLifecyclePolicy (moto's IAM enforcement, a real evaluation of
    the user's policy): every one of the CACHE writes would fail alike. Apply stops after at
    most the calls in flight and queued, and reports the one change applied before."""
    from moto import settings
    from moto.core import set_initial_no_auth_action_count

    iam = unbackfilled.client("iam")
    iam.create_user(UserName="ci")
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ecr:PutLifecyclePolicy", "Resource": "*"},
        ],
    }
    iam.put_user_policy(UserName="ci", PolicyName="no-lifecycle", PolicyDocument=json.dumps(deny))
    key = iam.create_access_key(UserName="ci")["AccessKey"]
    ci = boto3.session.Session(
        region_name=REGION,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    cfg = config(RULES, templates={"quay": {"lifecycle": KEEP_5, "backfill": True}})

    @set_initial_no_auth_action_count(10**9)  # restores moto's settings afterwards
    def as_ci() -> tuple[ApplyError, Counter[str]]:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0  # every request from here is authorized
        c = clients(ci)
        result = plan(cfg, c)
        with pytest.raises(ApplyError) as caught:
            run(result.plan, ApplyContext(clients=c, account_id=ACCOUNT, region=REGION))
        return caught.value, Counter(c.calls)

    err, calls = as_ci()
    assert "AccessDenied" in err.message and "ecr:PutLifecyclePolicy" in err.message
    assert err.applied == ("create template.quay",)
    assert 1 <= calls["ecr.PutLifecyclePolicy"] <= 2 * CONCURRENCY  # not CACHE failures
    assert all(lifecycle_of(unbackfilled, n) is None for n in CACHE_NAMES)
