"""Suite-wide check: every AWS call ecrcache makes is granted by the CI policy ecrcache
generates for the config the call was made with.

A pytest plugin (registered by tests/conftest.py). It observes the clients ecrcache builds
(``ecrcache.aws.CALL_OBSERVERS``: the tests' own seeding clients are plain boto3 and are not
seen), and for each call works out what IAM authorizes: the action, the resource ARN, and the
request's condition keys (the repository's tags at that moment, read from moto's backend, the
tags and tag keys in the request, the service a role is passed to). The config is the nearest
``Config`` on the calling stack (CLI command, make_plan, a test helper), else the last one this
test used (inventory reads in worker threads). Each call is then evaluated against
``ci_policy_for(config)`` with all operations of the table, by ecrcache's own evaluator.

Denied calls are listed at the end of the session, with their tests, and fail it (exit status
1) even when every test passed. ``-x`` and ``-k`` runs check the calls their tests made; under
pytest-xdist each worker checks its own and hands its findings to the controller
(``workeroutput``), which reports and fails. A call whose config cannot be found is counted,
not checked.

Exempt, as the table says: ``sts:GetCallerIdentity`` ("No permissions are required to perform
this operation", STS API reference). No other call is exempt: the table's operations cover
doctor, test-pull and cost-report too, and the CI policy holds every operation by default.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
import pytest

from ecrcache.aws import CALL_OBSERVERS, Clients
from ecrcache.config.ci_policy import ci_policy_for
from ecrcache.config.schema import Config
from ecrcache.config.upstreams import partition
from ecrcache.policy.iam import ContextValue, evaluate
from ecrcache.policy.permissions import operations

MONITORING_SERVICES = frozenset({"events", "sns", "logs", "budgets"})
MOTO_ACCOUNT = "123456789012"  # moto's default account, and the sandbox's
FREE = frozenset({"sts:GetCallerIdentity"})
# The services a passed role is handed to (see ecrcache.policy.policies): a rule's upstream
# role is assumed by ECR's pull-through cache, a template's role by ECR itself.
RULE_ROLE_SERVICE = "pullthroughcache.ecr.amazonaws.com"
TEMPLATE_ROLE_SERVICE = "ecr.amazonaws.com"


@dataclass(frozen=True)
class Check:
    """One authorization AWS makes for a call."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Denied:
    test: str
    call: str
    check: Check


# ------------------------------------------------------------------ what AWS authorizes


def _ecr_repo(account: str, region: str, name: str) -> str:
    return f"arn:{partition(region)}:ecr:{region}:{account}:repository/{name}"


# Calls to ``sandbox serve`` over HTTP: the state is in the server's process, so lookups ask it
# through a plain boto3 client (not ecrcache's: not observed). In-process, moto's backends.
_REMOTE = threading.local()
_PLAIN_CLIENTS: dict[tuple[int, str, str], Any] = {}


def _plain(service: str) -> Any:
    remote = getattr(_REMOTE, "clients", None)
    if remote is None or not remote.endpoint_url:
        return None
    key = (id(remote.session), remote.endpoint_url, service)
    if key not in _PLAIN_CLIENTS:
        _PLAIN_CLIENTS[key] = remote.session.client(
            service, endpoint_url=remote.endpoint_url, region_name=remote.region
        )
    return _PLAIN_CLIENTS[key]


def _repo_tags(account: str, region: str, arn_or_name: str) -> dict[str, str] | None:
    """The repository's tags now; None when it does not exist."""
    from moto.ecr.models import ecr_backends

    name = arn_or_name.split(":repository/", 1)[-1]
    client = _plain("ecr")
    if client is not None:
        try:
            found = client.list_tags_for_resource(resourceArn=_ecr_repo(account, region, name))
        except botocore.exceptions.ClientError:
            return None
        return {t["Key"]: t["Value"] for t in found.get("tags", [])}
    backend = ecr_backends[account][region]
    repo = backend.repositories.get(name)
    if repo is None:
        return None
    listed = backend.tagger.list_tags_for_resource(repo.arn).get("tags", [])
    return {t["Key"]: t["Value"] for t in listed}


def _kept_monitoring(account: str, region: str) -> tuple[str, ...]:
    """ecrcache's (tagged) EventBridge rules on the default bus now: once [monitoring] is
    removed, the CI policy plan generates keeps granting on them (planning.kept_monitoring)."""
    from moto.events.models import events_backends

    client = _plain("events")
    if client is not None:
        rules = client.list_rules().get("Rules", [])
        tagged = [
            r["Name"]
            for r in rules
            if {"Key": "managed-by", "Value": "ecrcache"}
            in client.list_tags_for_resource(ResourceARN=r["Arn"]).get("Tags", [])
        ]
        return tuple(sorted(tagged))
    backend = events_backends[account][region]
    bus = backend.event_buses.get("default")
    return tuple(
        sorted(
            name
            for name, rule in (bus.rules.items() if bus is not None else ())
            if {"Key": "managed-by", "Value": "ecrcache"}
            in backend.tagger.list_tags_for_resource(rule.arn).get("Tags", [])
        )
    )


def _resource_tag_context(tags: Mapping[str, str] | None) -> dict[str, ContextValue]:
    return {f"aws:ResourceTag/{k}": v for k, v in (tags or {}).items()}


def _request_tag_context(tags: list[dict[str, str]]) -> dict[str, ContextValue]:
    out: dict[str, ContextValue] = {f"aws:RequestTag/{t['Key']}": t["Value"] for t in tags}
    out["aws:TagKeys"] = [t["Key"] for t in tags]
    return out


def _secret_arn(account: str, region: str, secret_id: str) -> str:
    from moto.secretsmanager.models import secretsmanager_backends

    if secret_id.startswith("arn:"):
        return secret_id
    client = _plain("secretsmanager")
    if client is not None:
        with contextlib.suppress(botocore.exceptions.ClientError):
            return str(client.describe_secret(SecretId=secret_id)["ARN"])
    found = None if client else secretsmanager_backends[account][region].secrets.get(secret_id)
    if found is not None:
        return str(found.arn)
    # not created yet: IAM sees the ARN it will have, six random characters at the end
    return f"arn:{partition(region)}:secretsmanager:{region}:{account}:secret:{secret_id}-AbCdEf"


def _ecr_checks(op: str, params: dict[str, Any], account: str, region: str) -> list[Check]:
    action = f"ecr:{op}"
    checks: list[Check] = []
    if op in ("TagResource", "UntagResource", "ListTagsForResource"):
        arn = params["resourceArn"]
        context = _resource_tag_context(_repo_tags(account, region, arn))
        if op == "TagResource":
            context |= _request_tag_context(params.get("tags", []))
        elif op == "UntagResource":
            context["aws:TagKeys"] = list(params.get("tagKeys", []))
        return [Check(action, arn, context)]
    names = params.get("repositoryNames") or (
        [params["repositoryName"]] if "repositoryName" in params else []
    )
    if not names:
        # registry-level actions, and DescribeRepositories of the whole registry
        checks.append(Check(action, "*"))
    for name in names:
        arn = _ecr_repo(account, region, name)
        if op == "CreateRepository":
            # tags in the create request are authorized on CreateRepository itself (ECR user
            # guide, "Using Tag-Based Access Control")
            context = _request_tag_context(params.get("tags", []))
        else:
            context = _resource_tag_context(_repo_tags(account, region, name))
        checks.append(Check(action, arn, context))
    role = params.get("customRoleArn")
    if role:  # passing a role to ECR: rules (ECR upstream) and creation templates
        service = RULE_ROLE_SERVICE if "PullThroughCacheRule" in op else TEMPLATE_ROLE_SERVICE
        checks.append(Check("iam:PassRole", role, {"iam:PassedToService": service}))
    return checks


def _secrets_checks(op: str, params: dict[str, Any], account: str, region: str) -> list[Check]:
    action = f"secretsmanager:{op}"
    secret_id = params.get("SecretId") or params.get("Name")
    if secret_id is None:
        return [Check(action, "*")]  # ListSecrets
    context: dict[str, ContextValue] = {}
    if op == "CreateSecret" or op == "TagResource":
        context = _request_tag_context(params.get("Tags", []))
    return [Check(action, _secret_arn(account, region, secret_id), context)]


_IAM_NAMED = {"RoleName": "role", "UserName": "user", "GroupName": "group"}


def _iam_checks(op: str, params: dict[str, Any], account: str, region: str) -> list[Check]:
    action = f"iam:{op}"
    part = partition(region)
    if "PolicyArn" in params:
        return [Check(action, params["PolicyArn"])]
    if op == "CreatePolicy":
        path = params.get("Path", "/")
        arn = f"arn:{part}:iam::{account}:policy{path}{params['PolicyName']}"
        return [Check(action, arn, _request_tag_context(params.get("Tags", [])))]
    for key, kind in _IAM_NAMED.items():
        if key in params:
            return [Check(action, f"arn:{part}:iam::{account}:{kind}/{params[key]}")]
    return [Check(action, "*")]


# Budgets' API calls are authorized as two actions (Service Authorization Reference, AWS
# Budgets): ViewBudget for the reads, ModifyBudget for the writes.
_BUDGETS_ACTION = {
    "DescribeBudget": "ViewBudget",
    "DescribeNotificationsForBudget": "ViewBudget",
    "DescribeSubscribersForNotification": "ViewBudget",
    "CreateBudget": "ModifyBudget",
    "UpdateBudget": "ModifyBudget",
    "DeleteBudget": "ModifyBudget",
    "CreateNotification": "ModifyBudget",
    "DeleteNotification": "ModifyBudget",
}


def _monitoring_checks(
    service: str, op: str, params: dict[str, Any], account: str, region: str
) -> list[Check] | None:
    """[monitoring]'s calls: EventBridge rules, SNS topics, log groups, budgets by ARN; a call
    that carries tags is authorized for the service's TagResource too. None: not one of them."""
    part = partition(region)
    if service == "events":
        name = params.get("Name") or params.get("Rule")
        arn = params.get("ResourceARN") or f"arn:{part}:events:{region}:{account}:rule/{name}"
        checks = [Check(f"events:{op}", arn)]
        if op == "PutRule" and params.get("Tags"):
            checks.append(Check("events:TagResource", arn))
        return checks
    if service == "sns":
        arn = params.get("TopicArn") or params.get("ResourceArn")
        if arn is None and "Name" in params:
            arn = f"arn:{part}:sns:{region}:{account}:{params['Name']}"
        checks = [Check(f"sns:{op}", arn or "*")]
        if op == "CreateTopic" and params.get("Tags"):
            checks.append(Check("sns:TagResource", arn or "*"))
        return checks
    if service == "logs":
        group = params.get("logGroupName")
        if group is None and "resourceArn" in params:
            arn = params["resourceArn"]
        elif group is not None:
            arn = f"arn:{part}:logs:{region}:{account}:log-group:{group}"
        else:
            arn = "*"  # DescribeLogGroups, the *ResourcePolicy actions
        checks = [Check(f"logs:{op}", arn)]
        if op == "CreateLogGroup" and params.get("tags"):
            checks.append(Check("logs:TagResource", arn))
        return checks
    if service == "budgets":
        body = params.get("Budget") or params.get("NewBudget") or {}
        name = params.get("BudgetName") or body.get("BudgetName")
        arn = (
            params.get("ResourceARN") or f"arn:{part}:budgets::{params['AccountId']}:budget/{name}"
        )
        checks = [Check(f"budgets:{_BUDGETS_ACTION.get(op, op)}", arn)]
        if op == "CreateBudget" and params.get("ResourceTags"):
            checks.append(Check("budgets:TagResource", arn))
        return checks
    return None


def authorizations(
    service: str, op: str, params: dict[str, Any], *, account: str, region: str
) -> list[Check]:
    """What IAM authorizes for one API call (resource ARNs, condition keys)."""
    if service == "ecr":
        return _ecr_checks(op, params, account, region)
    if service == "secretsmanager":
        return _secrets_checks(op, params, account, region)
    if service == "iam":
        return _iam_checks(op, params, account, region)
    monitoring = _monitoring_checks(service, op, params, account, region)
    if monitoring is not None:
        return monitoring
    if service == "kms" and str(params.get("KeyId", "")).startswith("arn:"):
        return [Check(f"kms:{op}", params["KeyId"])]
    if service == "resourcegroupstaggingapi":
        # IAM's prefix for the Resource Groups Tagging API is ``tag``; GetResources has no
        # resource types (Service Authorization Reference): "*"
        return [Check(f"tag:{op}", "*")]
    return [Check(f"{service}:{op}", "*")]  # sts, ce: no resource-level permissions


# ------------------------------------------------------------------ the recorder


def _config_on_stack() -> Config | None:
    frame = sys._getframe(2)
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, Config):
                return value
        frame = frame.f_back
    return None


class CallRecorder:
    """Collects the calls of the session; ``isolated()`` keeps a test's own calls apart."""

    def __init__(self) -> None:
        self.denied: list[Denied] = []
        self.from_workers: list[str] = []  # report lines of pytest-xdist workers
        self.checked = 0
        self.unattributed: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._last_config: dict[str, Config] = {}
        self._policies: dict[tuple[int, tuple[str, ...]], tuple[Config, dict[str, Any]]] = {}
        self._kept_seen: dict[str, set[str]] = {}
        self._sink: list[list[tuple[str, Check, bool]]] = []

    # the observer, called by ecrcache.aws.Clients before each call
    def __call__(self, clients: Clients, service: str, op: str, params: dict[str, Any]) -> None:
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
        call = f"{service}:{op}"
        if call in FREE:
            return
        config = _config_on_stack()
        with self._lock:
            if config is None:
                config = self._last_config.get(test)
            else:
                self._last_config = {test: config}
        if config is None:
            self.unattributed[test] += 1
            return
        account = clients.__dict__.get("account_id") or config.account_id or MOTO_ACCOUNT
        region = clients.region
        _REMOTE.clients = clients
        try:
            checks = authorizations(service, op, params, account=account, region=region)
            # what plan keeps granting once [monitoring] is gone (only [monitoring]'s calls):
            # every rule seen in this test, as the policy applied while it existed still
            # grants it when the prune deletes the rule before its targets
            kept: tuple[str, ...] = ()
            if service in MONITORING_SERVICES and config.monitoring is None:
                with self._lock:
                    seen = self._kept_seen.setdefault(test, set())
                    seen.update(_kept_monitoring(account, region))
                    kept = tuple(sorted(seen))
        finally:
            _REMOTE.clients = None
        for check in checks:
            allowed = evaluate(
                check.action,
                check.resource,
                identity_policies=[self.policy(config, account, region, kept)],
                # global keys every request carries
                context={"aws:RequestedRegion": region, **check.context},
            ).allowed
            with self._lock:
                if self._sink:
                    self._sink[-1].append((call, check, allowed))
                    continue
                self.checked += 1
                if not allowed:
                    self.denied.append(Denied(test, call, check))

    def policy(
        self, config: Config, account: str, region: str, kept: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        key = (id(config), kept)
        cached = self._policies.get(key)
        if cached is None or cached[0] is not config:
            # every operation: a CI job may run any command (the config's [ci_policy]
            # operations narrow what the user grants, not what ecrcache needs)
            doc = ci_policy_for(
                config, account_id=account, region=region, ops=operations(), kept_monitoring=kept
            )
            cached = (config, doc)  # holding the config keeps its id from being reused
            self._policies[key] = cached
        return cached[1]

    @contextmanager
    def isolated(self) -> Iterator[list[tuple[str, Check, bool]]]:
        """The calls made inside, each with its check and verdict, kept out of the session's
        result (for the tests of this checker, which make denied calls on purpose)."""
        sink: list[tuple[str, Check, bool]] = []
        with self._lock:
            self._sink.append(sink)
        try:
            yield sink
        finally:
            with self._lock:
                self._sink.remove(sink)

    def report(self) -> list[str]:
        lines = list(self.from_workers)
        for d in self.denied:
            context = f" with {dict(d.check.context)}" if d.check.context else ""
            lines.append(
                f"{d.test}: {d.call} needs {d.check.action} on {d.check.resource}{context}"
            )
        return sorted(set(lines))


RECORDER = CallRecorder()


def pytest_configure(config: pytest.Config) -> None:
    CALL_OBSERVERS.append(RECORDER)


def pytest_unconfigure(config: pytest.Config) -> None:
    if RECORDER in CALL_OBSERVERS:
        CALL_OBSERVERS.remove(RECORDER)


@pytest.fixture
def ci_calls() -> CallRecorder:
    """The session's recorder (its ``isolated()`` for tests of the check itself)."""
    return RECORDER


_WORKER_KEY = "ecrcache_ci_policy_denied"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller reports
        workeroutput[_WORKER_KEY] = RECORDER.report()
        return
    if RECORDER.report() and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    RECORDER.from_workers.extend(getattr(node, "workeroutput", {}).get(_WORKER_KEY, []))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    tr = terminalreporter
    if getattr(tr.config, "workeroutput", None) is not None:
        return
    if RECORDER.report():
        tr.section("AWS calls the generated CI policy denies", red=True)
        for line in RECORDER.report():
            tr.line(line)
        tr.line(
            "grant them in src/ecrcache/policy/permissions.py (the table doctor and the CI policy "
            "share), or make ecrcache not call them"
        )
    elif RECORDER.checked or RECORDER.unattributed:
        unattributed = sum(RECORDER.unattributed.values())
        tr.line(
            f"CI policy check: {RECORDER.checked} authorizations of ecrcache's AWS calls "
            f"granted; {unattributed} calls without a config not checked"
        )
        if tr.config.option.verbose > 0:
            for test, count in RECORDER.unattributed.most_common():
                tr.line(f"  no config: {count} call(s) in {test}")
