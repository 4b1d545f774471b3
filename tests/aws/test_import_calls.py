"""import finds ecrcache's repositories through the tagging listing (tag:GetResources), not one
ListTagsForResource per repository: its calls do not grow with the repositories ecrcache does
not manage, and the config it writes is the one the per-repository path wrote.

Calls are counted through ``Clients.calls`` (a botocore ``before-call`` hook on every client
ecrcache builds). 200 repositories: 10 application repositories ecrcache made (two with tags
and settings of their own), 20 cache repositories, 170 other teams' (half tagged by them).
"""

from __future__ import annotations

import tomllib
from collections import Counter

import boto3
import pytest
from reconcile_support import REGION, apply, clients, config

from ecrcache.reconcile.import_toml import to_toml
from ecrcache.reconcile.importer import build_document, read_account
from ecrcache.sandbox.pulls import simulate_pull

APPS = [f"app/svc-{i:02d}" for i in range(10)]
CACHE = [f"quay/org/img-{i:02d}" for i in range(20)]
RULES = {"quay": {"upstream": "quay"}}
# Per application repository, whatever the account holds: its tags (read again, the listing
# may lag), its lifecycle policy and its images.
PER_APP = ("ecr.ListTagsForResource", "ecr.GetLifecyclePolicy", "ecr.ListImages")


def _other_teams(session: boto3.session.Session, start: int, count: int) -> None:
    ecr = session.client("ecr", region_name=REGION)  # plain boto3: not ecrcache's
    for i in range(start, start + count):
        tags = [{"Key": "team", "Value": "b"}] if i % 2 else []
        ecr.create_repository(repositoryName=f"team/r-{i:03d}", tags=tags)


@pytest.fixture
def account(aws: boto3.session.Session) -> boto3.session.Session:
    repositories: dict[str, dict[str, object]] = {name: {} for name in APPS}
    repositories[APPS[0]] = {"tags": {"team": "platform"}, "lifecycle": {"keep_last": 10}}
    repositories[APPS[1]] = {"tag_mutability": "IMMUTABLE", "scan_on_push": True}
    apply(config(RULES, repositories=repositories), clients(aws))
    for name in CACHE:
        simulate_pull(account_id="123456789012", region=REGION, repository=name, tag="1")
    _other_teams(aws, 0, 170)
    return aws


def _read(session: boto3.session.Session, *, tag_listing: bool) -> tuple[str, Counter[str]]:
    c = clients(session)
    account = read_account(c, ci_policy_name="ecrcache-ci", tag_listing=tag_listing)
    result = build_document(account, account_id=c.account_id, region=REGION)
    return to_toml(result), Counter(c.calls)


def test_import_writes_the_same_toml_as_the_per_repository_path(
    account: boto3.session.Session,
) -> None:
    new, new_calls = _read(account, tag_listing=True)
    old, old_calls = _read(account, tag_listing=False)
    assert new == old
    assert sorted(tomllib.loads(new)["repositories"]) == APPS
    # the old path read the tags of all 180 repositories outside the cache prefix
    assert old_calls["ecr.ListTagsForResource"] == 180
    assert new_calls["ecr.ListTagsForResource"] == len(APPS)
    # one listing page more than the old path (which lists only EventBridge rules by tag)
    gr = "resourcegroupstaggingapi.GetResources"
    assert new_calls[gr] == old_calls[gr] + 1


def test_import_calls_do_not_grow_with_unmanaged_repositories(
    account: boto3.session.Session,
) -> None:
    _, before = _read(account, tag_listing=True)
    _other_teams(account, 170, 330)  # 500 other teams' repositories now
    _, after = _read(account, tag_listing=True)
    assert after == before
    for op in PER_APP:
        assert before[op] == len(APPS), op
    # listing pages and fixed reads: the same handful whatever the registry holds
    assert sum(before.values()) - len(PER_APP) * len(APPS) < 20, before
