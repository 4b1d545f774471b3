"""A lost response of every mutating call apply (and prune) makes: the first run still exits 0,
the next plan is empty, and nothing is duplicated.

AWS sometimes applies a call and the client never hears back; botocore then retries and meets
the effect. ``tests/lossy_proxy.py`` stands between ecrcache (through its CLI and the global
``--endpoint-url``) and ``ecrcache sandbox serve`` running as its own process (the cases that
simulate pulls use moto's ThreadedMotoServer in this process), lets the server apply one chosen
operation and closes the connection instead of answering. Each case runs twice from an empty
account: once cleanly, once with the loss; the two accounts must then hold the same objects in
the same numbers (IAM policy versions, secret versions, rules, templates, repositories and
their images, registry policy statements).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
import tomli_w

from ecrcache import aws as ecrcache_aws
from ecrcache.aws import Clients
from ecrcache.cli.app import run
from ecrcache.config.loading import parse_config
from ecrcache.errors import ApplyError
from ecrcache.reconcile.apply import ApplyContext
from ecrcache.reconcile.apply import run as run_plan
from ecrcache.reconcile.credentials import SourceReader
from ecrcache.reconcile.planning import make_plan
from lossy_proxy import LossyProxy

REGION = "af-south-1"
ACCOUNT = "123456789012"
TOKEN = "dckr_pat_0123456789abcdefTOKEN"
NODE = f"arn:aws:iam::{ACCOUNT}:role/eks-node"


@dataclass
class Endpoint:
    """The sandbox over HTTP (``direct``) and the lossy proxy in front of it."""

    direct: str
    proxy: LossyProxy
    clients: dict[str, Any] = field(default_factory=dict)

    def reset(self) -> None:
        urllib.request.urlopen(
            urllib.request.Request(f"{self.direct}/moto-api/reset", method="POST"), timeout=10
        ).close()
        self.proxy.reset()
        # A new account as the sandbox starts one: the puller role NODE names exists (ECR
        # refuses a registry policy naming a principal IAM does not know).
        from ecrcache.sandbox.seed import seed

        seed(self.client("iam"))

    def client(self, service: str) -> Any:
        """A plain boto3 client on the server itself (no proxy, no ecrcache)."""
        if service not in self.clients:
            session = boto3.session.Session(region_name=REGION)
            self.clients[service] = session.client(service, endpoint_url=self.direct)
        return self.clients[service]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """One ``ecrcache sandbox serve`` for the module, as a real process, with the lossy proxy in
    front. Its ListSecrets does not lag (``ECRCACHE_SANDBOX_LISTSECRETS_LAG=0``): each command
    here stands for one run "minutes later" (the lag has its own tests), and a set-up secret
    must be listed for prune to find it."""
    from serve_support import served_sandbox

    root = tmp_path_factory.mktemp("lost-responses-serve")
    with served_sandbox(
        root / "sandbox.state",
        log_dir=root,
        env={"ECRCACHE_SANDBOX_LISTSECRETS_LAG": "0"},
    ) as served:
        proxy = LossyProxy(served.endpoint).start()
        try:
            yield Endpoint(served.endpoint, proxy)
        finally:
            proxy.stop()


@pytest.fixture(scope="module")
def inproc_endpoint() -> Iterator[Endpoint]:
    """moto's ThreadedMotoServer with ecrcache's extension, in this process: for the cases
    whose set-up simulates pulls (``sandbox.pulls`` writes moto's backends directly, which a
    ``sandbox serve`` process does not share)."""
    from moto.server import ThreadedMotoServer

    from ecrcache.sandbox.ecr_extension import install

    install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    proxy = LossyProxy(f"http://{host}:{port}").start()
    try:
        yield Endpoint(f"http://{host}:{port}", proxy)
    finally:
        proxy.stop()
        server.stop()


@pytest.fixture(autouse=True)
def fast_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts, so a response that never comes fails in seconds, not minutes; botocore's
    retries stay as ecrcache configures them (their first back-off is under a second)."""
    monkeypatch.setattr(
        ecrcache_aws,
        "BOTO_CONFIG",
        ecrcache_aws.BOTO_CONFIG.merge(botocore.config.Config(connect_timeout=2, read_timeout=10)),
    )


# --- the cases --------------------------------------------------------------------------------

QUAY = {"quay": {"upstream": "quay"}}


def docker_hub(secret: str = "ecr-pullthroughcache/docker-hub") -> dict[str, Any]:
    return {
        "docker-hub": {
            "upstream": "docker-hub",
            "credentials": {"secret": secret, "username": "bot", "token": {"env": "TOK"}},
        }
    }


def cfg(rules: dict[str, Any] = QUAY, **top: Any) -> dict[str, Any]:
    return {"version": 1, "region": REGION, "rules": rules, **top}


def repo(**settings: Any) -> dict[str, Any]:
    return {"repositories": {"acme/api": settings}}


def ci(*operations: str) -> dict[str, Any]:
    return {"ci_policy": {"operations": list(operations)}} if operations else {"ci_policy": {}}


LIFECYCLE = {"keep_last": 10}
TEMPLATE = {"templates": {"quay": {"description": "quay cache", "lifecycle": LIFECYCLE}}}
BACKFILL = {
    "templates": {"quay": {"backfill": True, "tag_mutability": "IMMUTABLE", "lifecycle": LIFECYCLE}}
}
SCANNING = {
    "scanning": {"type": "BASIC", "rules": [{"frequency": "SCAN_ON_PUSH", "filters": ["*"]}]}
}
PRUNE = ("--prune", "--force")
STALE = ("--older-than", "90", "--yes", "--force")


def delete_secret_directly(ep: Endpoint) -> None:
    ep.client("secretsmanager").delete_secret(
        SecretId="ecr-pullthroughcache/docker-hub", RecoveryWindowInDays=7
    )


def untag_secret(ep: Endpoint) -> None:
    ep.client("secretsmanager").untag_resource(
        SecretId="ecr-pullthroughcache/docker-hub", TagKeys=["managed-by"]
    )


def ci_arn() -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/ecrcache-ci"


def four_more_versions(ep: Endpoint) -> None:
    """Fill the CI policy up to IAM's five versions, so the update must delete one first."""
    iam = ep.client("iam")
    for i in range(4):
        doc = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": f"ecr:Describe{i}", "Resource": "*"}],
        }
        iam.create_policy_version(PolicyArn=ci_arn(), PolicyDocument=json.dumps(doc))


def second_version(ep: Endpoint) -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:X", "Resource": "*"}],
    }
    ep.client("iam").create_policy_version(PolicyArn=ci_arn(), PolicyDocument=json.dumps(doc))


def untag_policy(ep: Endpoint) -> None:
    ep.client("iam").untag_policy(PolicyArn=ci_arn(), TagKeys=["managed-by"])


def cache_repository(ep: Endpoint) -> None:
    """A repository a pull through ``quay`` made before any template existed."""
    ep.client("ecr").create_repository(repositoryName="quay/org/app")


def stale_images(ep: Endpoint) -> None:
    """Two cached repositories, one pulled 100 days ago (stale at 90), one pulled now."""
    from ecrcache.sandbox.pulls import simulate_pull

    now = datetime.now(UTC)
    for name, when in (("quay/org/old", now - timedelta(days=100)), ("quay/org/new", now)):
        for tag in ("v1", "v2"):
            simulate_pull(
                account_id=ACCOUNT,
                region=REGION,
                repository=name,
                tag=tag,
                layer_sizes=(1000 + len(tag),),
                pulled_at=when,
            )


@dataclass(frozen=True)
class Case:
    lose: tuple[str, str]  # (service, operation) whose first response is lost
    after: dict[str, Any]  # the config the lossy run applies
    before: dict[str, Any] | None = None  # applied cleanly first, if given
    prepare: Callable[[Endpoint], None] | None = None  # then changed directly, if given
    flags: tuple[str, ...] = ()
    command: str = "apply"
    token_before: str = TOKEN
    id: str = ""
    env: dict[str, str] = field(default_factory=dict)
    in_process: bool = False  # set-up that simulates pulls: the in-process server


CASES: list[Case] = [
    # Secrets Manager
    Case(("secretsmanager", "CreateSecret"), cfg(docker_hub())),
    Case(
        ("secretsmanager", "PutSecretValue"),
        cfg(docker_hub()),
        cfg(docker_hub()),
        token_before="old-token",
    ),
    Case(
        ("secretsmanager", "RestoreSecret"),
        cfg(docker_hub()),
        cfg(docker_hub()),
        delete_secret_directly,
    ),
    Case(("secretsmanager", "TagResource"), cfg(docker_hub()), cfg(docker_hub()), untag_secret),
    Case(("secretsmanager", "DeleteSecret"), cfg(), cfg({**QUAY, **docker_hub()}), flags=PRUNE),
    # ECR: rules
    Case(("ecr", "CreatePullThroughCacheRule"), cfg()),
    Case(
        ("ecr", "UpdatePullThroughCacheRule"),
        cfg(docker_hub("ecr-pullthroughcache/docker-hub-2")),
        cfg(docker_hub()),
    ),
    Case(("ecr", "DeletePullThroughCacheRule"), cfg(), cfg({**QUAY, **docker_hub()}), flags=PRUNE),
    Case(
        ("ecr", "CreatePullThroughCacheRule"),
        cfg({"quay": {"upstream": "k8s"}}),
        cfg(),
        flags=("--force",),
        id="replace",
    ),
    # ECR: creation templates
    Case(("ecr", "CreateRepositoryCreationTemplate"), cfg(**TEMPLATE), cfg()),
    Case(
        ("ecr", "UpdateRepositoryCreationTemplate"),
        cfg(templates={"quay": {"description": "changed"}}),
        cfg(**TEMPLATE),
    ),
    Case(("ecr", "DeleteRepositoryCreationTemplate"), cfg(), cfg(**TEMPLATE), flags=PRUNE),
    # ECR: application repositories
    Case(("ecr", "CreateRepository"), cfg(**repo(tags={"team": "a"}))),
    Case(("ecr", "PutLifecyclePolicy"), cfg(**repo(lifecycle=LIFECYCLE))),
    Case(("ecr", "DeleteLifecyclePolicy"), cfg(**repo()), cfg(**repo(lifecycle=LIFECYCLE))),
    Case(("ecr", "PutImageTagMutability"), cfg(**repo(tag_mutability="IMMUTABLE")), cfg(**repo())),
    Case(("ecr", "PutImageScanningConfiguration"), cfg(**repo(scan_on_push=True)), cfg(**repo())),
    Case(("ecr", "TagResource"), cfg(**repo(tags={"team": "b"})), cfg(**repo(tags={"team": "a"}))),
    Case(
        ("ecr", "UntagResource"),
        cfg(**repo(tags={"team": "a"})),
        cfg(**repo(tags={"team": "a", "x": "y"})),
    ),
    Case(("ecr", "DeleteRepository"), cfg(), cfg(**repo()), flags=PRUNE),
    # ECR: backfill of a cache repository
    Case(("ecr", "PutLifecyclePolicy"), cfg(**BACKFILL), cfg(), cache_repository, id="backfill"),
    Case(("ecr", "PutImageTagMutability"), cfg(**BACKFILL), cfg(), cache_repository, id="backfill"),
    # ECR: registry settings
    Case(("ecr", "PutRegistryScanningConfiguration"), cfg(**SCANNING)),
    Case(("ecr", "PutRegistryPolicy"), cfg(pullers={"principals": [NODE]})),
    Case(
        ("ecr", "DeleteRegistryPolicy"),
        cfg(pullers={"principals": []}),
        cfg(pullers={"principals": [NODE]}),
    ),
    # IAM: the CI policy
    Case(("iam", "CreatePolicy"), cfg(**ci())),
    Case(("iam", "CreatePolicyVersion"), cfg(**ci("plan", "push")), cfg(**ci("plan"))),
    Case(
        ("iam", "DeletePolicyVersion"),
        cfg(**ci("plan", "push")),
        cfg(**ci("plan")),
        four_more_versions,
    ),
    Case(("iam", "TagPolicy"), cfg(**ci("plan")), cfg(**ci("plan")), untag_policy),
    Case(("iam", "DeletePolicy"), cfg(), cfg(**ci("plan")), second_version, flags=PRUNE),
    Case(
        ("iam", "DeletePolicyVersion"),
        cfg(),
        cfg(**ci("plan")),
        second_version,
        flags=PRUNE,
        id="delete",
    ),
    # prune: stale cached images, and whole repositories
    Case(
        ("ecr", "BatchDeleteImage"),
        cfg(),
        cfg(),
        stale_images,
        STALE,
        command="prune",
        in_process=True,
    ),
    Case(
        ("ecr", "DeleteRepository"),
        cfg(),
        cfg(),
        stale_images,
        (*STALE, "--whole-repositories"),
        command="prune",
        id="prune",
        in_process=True,
    ),
]


def case_id(c: Case) -> str:
    return f"{c.lose[0]}.{c.lose[1]}" + (f"-{c.id}" if c.id else "")


# --- running a case -----------------------------------------------------------------------------


def write(tmp_path: Path, name: str, doc: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(tomli_w.dumps(doc))
    return str(path)


def ecrcache(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    """``ecrcache --endpoint-url URL ARGS`` in-process: (exit code, stdout, stderr)."""
    code = run(["--endpoint-url", url, "--no-color", *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_case(
    case: Case,
    ep: Endpoint,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    lossy: bool,
) -> dict[str, Any]:
    """From an empty account: set up, run the command (through the proxy, losing ``case.lose``
    if ``lossy``), check the outcome; return a snapshot of the account."""
    ep.reset()
    after = write(tmp_path, "after.toml", case.after)
    if case.before is not None:
        monkeypatch.setenv("TOK", case.token_before)
        before = write(tmp_path, "before.toml", case.before)
        code, out, err = ecrcache(capsys, ep.direct, "apply", "--yes", "-c", before)
        assert code == 0, err
    if case.prepare is not None:
        case.prepare(ep)
    monkeypatch.setenv("TOK", TOKEN)
    if lossy:
        ep.proxy.lose_next(*case.lose)
    code, out, err = ecrcache(capsys, ep.proxy.url, case.command, "-c", after, *_yes(case))
    assert code == 0, err
    assert ep.proxy.lost == ([case.lose] if lossy else [])
    assert case.lose in ep.proxy.seen, "the case must make the call it is about"
    if case.command == "apply":
        code, out, err = ecrcache(capsys, ep.direct, "plan", "--detailed-exitcode", "-c", after)
        assert code == 0, out + err  # 0: no changes
    else:
        code, out, err = ecrcache(
            capsys, ep.direct, "--output", "json", case.command, "-c", after, *case.flags[:2]
        )
        assert code == 0, err
        assert json.loads(out)["data"]["plan"]["deletions"] == []
    return snapshot(ep)


def _yes(case: Case) -> tuple[str, ...]:
    return ("--yes", *case.flags) if case.command == "apply" else case.flags


def snapshot(ep: Endpoint) -> dict[str, Any]:
    """What a duplicate would show in: every object, with its versions and images counted."""
    iam, sm, ecr = ep.client("iam"), ep.client("secretsmanager"), ep.client("ecr")
    out: dict[str, Any] = {}
    for p in iam.list_policies(Scope="Local")["Policies"]:
        versions = iam.list_policy_versions(PolicyArn=p["Arn"])["Versions"]
        out[f"iam-policy {p['PolicyName']}"] = len(versions)
    arns = {}
    for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]:
        ids = sm.list_secret_version_ids(SecretId=s["ARN"], IncludeDeprecated=True)["Versions"]
        out[f"secret {s['Name']}"] = (len(ids), "DeletedDate" in s, len(s.get("Tags", [])))
        arns[s["ARN"]] = s["Name"]
    # a rule names its secret by ARN, whose random suffix differs from run to run
    out["rules"] = sorted(
        (r["ecrRepositoryPrefix"], r["upstreamRegistry"], arns.get(r.get("credentialArn", ""), ""))
        for r in ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    )
    out["templates"] = sorted(
        t["prefix"]
        for t in ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    )
    for r in ecr.describe_repositories()["repositories"]:
        name = r["repositoryName"]
        out[f"repository {name}"] = len(ecr.list_images(repositoryName=name)["imageIds"])
    try:
        text = ecr.get_registry_policy()["policyText"]
        out["registry-policy statements"] = len(json.loads(text)["Statement"])
    except ecr.exceptions.RegistryPolicyNotFoundException:
        pass
    return out


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_lost_response_is_harmless(
    case: Case,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint: Endpoint = request.getfixturevalue(
        "inproc_endpoint" if case.in_process else "endpoint"
    )
    clean = run_case(case, endpoint, tmp_path, capsys, monkeypatch, lossy=False)
    lost = run_case(case, endpoint, tmp_path, capsys, monkeypatch, lossy=True)
    assert lost == clean
    if case.lose == ("iam", "CreatePolicyVersion"):
        # sent once: read back after the lost response, not retried
        assert endpoint.proxy.seen.count(case.lose) == 1


# --- the read-back paths that no clean run takes --------------------------------------------------


def plan_via(ep_url: str, doc: dict[str, Any], env: dict[str, str]) -> tuple[Any, Clients]:
    sleeps: list[float] = []
    c = Clients(boto3.session.Session(region_name=REGION), REGION, endpoint_url=ep_url)
    c.sleep = sleeps.append
    c.sleeps = sleeps  # type: ignore[attr-defined]
    return make_plan(parse_config(doc), c, reader=SourceReader(environ=env)), c


def apply_plan(result: Any, c: Clients) -> None:
    secret_arns = {s.name: s.arn for s in result.live.secrets.values() if s.arn}
    run_plan(result.plan, ApplyContext(c, result.account_id, REGION, secret_arns))


def test_a_policy_version_whose_request_was_lost_is_created_once_more(
    endpoint: Endpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CreatePolicyVersion goes out without botocore's retries; when it fails in a way that may
    hide an applied call, apply reads the default version back and creates only if absent."""
    endpoint.reset()
    code, _, err = ecrcache(
        capsys,
        endpoint.direct,
        "apply",
        "--yes",
        "-c",
        write(tmp_path, "a.toml", cfg(**ci("plan"))),
    )
    assert code == 0, err
    result, c = plan_via(endpoint.proxy.url, cfg(**ci("plan", "push")), {})
    endpoint.proxy.lose_next("iam", "CreatePolicyVersion", before=True)
    apply_plan(result, c)
    op = ("iam", "CreatePolicyVersion")
    assert endpoint.proxy.lost == [op] and endpoint.proxy.seen.count(op) == 2
    assert c.sleeps == [1.0]  # type: ignore[attr-defined]
    versions = endpoint.client("iam").list_policy_versions(PolicyArn=ci_arn())["Versions"]
    assert sorted(v["VersionId"] for v in versions) == ["v1", "v2"]
    assert plan_via(endpoint.direct, cfg(**ci("plan", "push")), {})[0].plan.empty


def test_an_object_made_meanwhile_with_other_settings_fails_in_one_line(
    endpoint: Endpoint,
) -> None:
    """ "Already exists" is done only when what exists is what the plan wanted."""
    endpoint.reset()
    result, c = plan_via(endpoint.direct, cfg(**TEMPLATE), {})
    endpoint.client("ecr").create_repository_creation_template(
        prefix="quay", appliedFor=["PULL_THROUGH_CACHE"], description="someone else's"
    )
    with pytest.raises(ApplyError) as exc:
        apply_plan(result, c)
    assert exc.value.message == (
        "create template.quay failed: cannot create template quay: it already exists with "
        "other settings (TemplateAlreadyExistsException)"
    )
    assert "Run apply again" in (exc.value.hint or "")  # the next plan shows the update
    template = endpoint.client("ecr").describe_repository_creation_templates(prefixes=["quay"])
    assert template["repositoryCreationTemplates"][0]["description"] == "someone else's"


def test_a_secret_made_meanwhile_with_another_value_is_not_overwritten(
    endpoint: Endpoint,
) -> None:
    endpoint.reset()
    result, c = plan_via(endpoint.direct, cfg(docker_hub()), {"TOK": TOKEN})
    sm = endpoint.client("secretsmanager")
    sm.create_secret(Name="ecr-pullthroughcache/docker-hub", SecretString="someone else's")
    with pytest.raises(ApplyError, match="already exists with other settings"):
        apply_plan(result, c)
    ids = sm.list_secret_version_ids(SecretId="ecr-pullthroughcache/docker-hub")["Versions"]
    assert len(ids) == 1  # no PutSecretValue over someone else's secret
    assert (
        sm.get_secret_value(SecretId="ecr-pullthroughcache/docker-hub")["SecretString"]
        == "someone else's"
    )


def test_secrets_manager_ignores_a_repeat_with_the_same_token(endpoint: Endpoint) -> None:
    """What apply relies on for CreateSecret and PutSecretValue (Secrets Manager API reference,
    ClientRequestToken: "If a version with this value already exists and the version
    SecretString and SecretBinary values are the same as those in the request, then the request
    is ignored"; a different value with the same token fails, ResourceExistsException)."""
    endpoint.reset()
    sm = endpoint.client("secretsmanager")
    token = "0123456789abcdef0123456789abcdef"
    name = "ecr-pullthroughcache/x"
    first = sm.create_secret(Name=name, SecretString="v", ClientRequestToken=token)
    again = sm.create_secret(Name=name, SecretString="v", ClientRequestToken=token)
    assert again["ARN"] == first["ARN"] and again["VersionId"] == token
    put = "fedcba9876543210fedcba9876543210"
    sm.put_secret_value(SecretId=name, SecretString="w", ClientRequestToken=put)
    sm.put_secret_value(SecretId=name, SecretString="w", ClientRequestToken=put)
    assert len(sm.list_secret_version_ids(SecretId=name)["Versions"]) == 2
    with pytest.raises(sm.exceptions.ResourceExistsException):
        sm.put_secret_value(SecretId=name, SecretString="other", ClientRequestToken=put)
