"""An assumed role's credentials are got again before they expire, so a run longer than the
role's session goes on: botocore's refreshable credentials, with one fake clock for botocore and
for moto's STS (which dates each session's Expiration from its own now), so the credentials
really expire and the new ones are really valid (STS's shortest session is 900 s: too long to
wait for in a test)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from ecrcache.aws import Clients, assume_role_session
from ecrcache.config.targets import expand_targets
from ecrcache.reconcile.credentials import SourceReader
from ecrcache.reconcile.planning import make_plan
from ecrcache.secrecy import redact
from targets_support import make_target_role

ACCOUNT = "222222222222"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecrcache"


class Clock:
    """botocore's and moto's now, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime.datetime.now(datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.now

    def naive(self) -> datetime.datetime:  # moto's utcnow(): naive UTC
        return self.now.replace(tzinfo=None)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    import moto.sts.models

    c = Clock()
    monkeypatch.setattr(moto.sts.models, "utcnow", c.naive)
    return c


@pytest.fixture
def assumed(aws: Any) -> list[dict[str, Any]]:
    """The parameters of every AssumeRole call made with the tests' default credentials."""
    make_target_role(aws, ACCOUNT, external_id="ext-1")
    calls: list[dict[str, Any]] = []
    aws.events.register("before-call.sts.AssumeRole", lambda params, **_: calls.append(params))
    return calls


def _session(aws: Any, clock: Clock) -> Any:
    return assume_role_session(
        aws,
        role_arn=ROLE,
        session_name="ecrcache-ci",
        external_id="ext-1",
        region="eu-west-1",
        clock=clock,
    )


def _frozen(session: Any) -> Any:
    return session.get_credentials().get_frozen_credentials()


def test_expired_credentials_are_refreshed_and_the_run_goes_on(
    aws: Any, assumed: list[dict[str, Any]], clock: Clock
) -> None:
    session = _session(aws, clock)
    assert len(assumed) == 1  # the first AssumeRole is made at once, not at the first request
    first = _frozen(session)
    ecr = session.client("ecr", region_name="eu-west-1")
    assert ecr.describe_registry()["registryId"] == ACCOUNT
    assert len(assumed) == 1  # still fresh: no second call

    clock.now += datetime.timedelta(hours=2)  # past the 1 h session: expired
    assert ecr.describe_registry()["registryId"] == ACCOUNT  # refreshed, then signed
    assert len(assumed) == 2
    assert ecr.describe_registry()["registryId"] == ACCOUNT
    assert len(assumed) == 2  # the new credentials are good for another session
    second = _frozen(session)
    assert second.access_key != first.access_key
    # The refresh is the same AssumeRole: external id and session name kept.
    for params in assumed:
        assert params["body"]["ExternalId"] == "ext-1"
        assert params["body"]["RoleSessionName"] == "ecrcache-ci"
    # The refreshed secrets are registered too: redacted wherever they would be printed.
    said = f"{second.secret_key} {second.token}"
    assert redact(said) == "(redacted) (redacted)"


def test_a_plan_after_the_session_expired_still_reads_the_target(
    aws: Any, assumed: list[dict[str, Any]], clock: Clock
) -> None:
    doc = {
        "region": "eu-west-1",
        "rules": {"quay": {"upstream": "quay"}},
        "targets": {"stage": {"role_arn": ROLE, "external_id": "ext-1"}},
    }
    (target,) = expand_targets(doc)
    clients = Clients(_session(aws, clock), "eu-west-1")
    before = make_plan(target.config, clients, reader=SourceReader(environ={}))
    clock.now += datetime.timedelta(hours=2)
    after = make_plan(target.config, clients, reader=SourceReader(environ={}))
    assert before.account_id == after.account_id == ACCOUNT
    assert after.plan.summary()["add"] == before.plan.summary()["add"] >= 1
    assert len(assumed) == 2
