"""Hub and spoke against moto with two accounts (reached through AssumeRole): apply the hub's
config and the spoke's, read back the registry policy, the template and the spoke's pull policy,
and evaluate a first pull by the spoke's node role with ecrcache's IAM evaluator."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ecrcache.aws import Clients
from ecrcache.cli.app import run as run_cli
from ecrcache.config.loading import parse_config
from ecrcache.config.schema import Config
from ecrcache.doctor.checks_hub import hub_first_pull
from ecrcache.doctor.context import build_context
from ecrcache.doctor.env import Env, MachinePaths
from ecrcache.doctor.fixes import Commands
from ecrcache.policy.hub import first_pull_steps
from ecrcache.reconcile.apply import ApplyContext, run
from ecrcache.reconcile.credentials import SourceReader
from ecrcache.reconcile.planning import PlanResult, make_plan
from ecrcache.sandbox.pulls import simulate_pull
from targets_support import make_target_role

HUB, SPOKE = "111111111111", "333333333333"
REGION = "af-south-1"
NODE_ROLE = "eks-node"
NODE = f"arn:aws:iam::{SPOKE}:role/{NODE_ROLE}"
ENV = {"TOK": "dckr_pat_0123456789abcdefTOKEN"}
RULES = """
[rules.docker-hub]
upstream = "docker-hub"
credentials = { secret = "ecr-pullthroughcache/docker-hub", username = "bot", token.env = "TOK" }
[rules.quay]
upstream = "quay"
"""
HUB_TOML = f"""
region = "{REGION}"
account_id = "{HUB}"
{RULES}
[templates.ROOT]
lifecycle = {{ keep_last = 10 }}
[hub]
spoke_accounts = ["{SPOKE}"]
[ci_policy]
"""
SPOKE_TOML = f"""
region = "{REGION}"
account_id = "{SPOKE}"
{RULES}
[pullers]
principals = ["{NODE}"]
[spoke]
hub_account_id = "{HUB}"
[ci_policy]
"""
# pull.first's calls as a kubelet makes them (ECR-FACTS §5)
NODE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def account(aws: boto3.session.Session, account_id: str) -> Clients:
    """Clients for ``account_id``: moto answers in the account of the assumed role (which must
    exist and trust the caller: the sandbox checks it as STS does)."""
    try:
        make_target_role(aws, account_id)
    except ClientError as exc:  # a second call for the same account
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    creds = aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/ecrcache", RoleSessionName="ecrcache"
    )["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )
    return Clients(session, REGION, sleep=lambda _s: None)


def plain(c: Clients, service: str) -> Any:
    """The test's own client in that account (not ecrcache's: the CI policy check skips it)."""
    return c.session.client(service, region_name=REGION)


def load(text: str) -> Config:
    return parse_config(tomllib.loads(text))


def apply(cfg: Config, c: Clients) -> PlanResult:
    result = make_plan(cfg, c, reader=SourceReader(environ=ENV))
    run(
        result.plan,
        ApplyContext(
            clients=c,
            account_id=result.account_id,
            region=REGION,
            secret_arns={s.name: s.arn for s in result.live.secrets.values() if s.arn},
        ),
    )
    return result


@pytest.fixture
def applied(aws: boto3.session.Session) -> dict[str, Any]:
    hub, spoke = account(aws, HUB), account(aws, SPOKE)
    plain(spoke, "iam").create_role(
        RoleName=NODE_ROLE, AssumeRolePolicyDocument=json.dumps(NODE_TRUST)
    )
    hub_result = apply(load(HUB_TOML), hub)
    spoke_result = apply(load(SPOKE_TOML), spoke)
    return {"hub": hub, "spoke": spoke, "hub_result": hub_result, "spoke_result": spoke_result}


def _read_back(hub: Clients, spoke: Clients) -> dict[str, Any]:
    registry = json.loads(hub.ecr.get_registry_policy()["policyText"])
    templates = hub.ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    arn = f"arn:aws:iam::{SPOKE}:policy/ecrcache-hub-pull"
    version = spoke.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    identity = spoke.iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"][
        "Document"
    ]
    return {"registry": registry, "templates": templates, "identity": identity, "arn": arn}


def test_the_hub_grants_its_spoke_and_the_spoke_creates_no_cache(applied: dict[str, Any]) -> None:
    hub, spoke = applied["hub"], applied["spoke"]
    back = _read_back(hub, spoke)
    spokes = next(s for s in back["registry"]["Statement"] if s["Sid"] == "ecrcache-hub-spokes")
    assert spokes["Principal"] == {"AWS": f"arn:aws:iam::{SPOKE}:root"}
    assert sorted(spokes["Action"]) == ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
    assert sorted(spokes["Resource"]) == [
        f"arn:aws:ecr:{REGION}:{HUB}:repository/docker-hub/*",
        f"arn:aws:ecr:{REGION}:{HUB}:repository/quay/*",
    ]
    (root,) = back["templates"]
    pull = json.loads(root["repositoryPolicy"])["Statement"]
    assert [s["Sid"] for s in pull] == ["ecrcache-hub-pull"]
    # the spoke's account holds none of the cache: no rule, template or upstream secret
    assert spoke.ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []
    assert spoke.ecr.describe_repository_creation_templates()["repositoryCreationTemplates"] == []
    assert spoke.secretsmanager.list_secrets()["SecretList"] == []
    assert len(hub.ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]) == 2
    notes = " ".join(applied["spoke_result"].notes)
    assert f"spoke of {HUB}" in notes and "no rules, templates or upstream secrets" in notes


def test_both_applies_are_idempotent(aws: boto3.session.Session, applied: dict[str, Any]) -> None:
    for text, account_id in ((HUB_TOML, HUB), (SPOKE_TOML, SPOKE)):
        c = account(aws, account_id)
        result = apply(load(text), c)
        assert result.plan.empty, [ch.address for ch in result.plan.changes]
        assert c.mutating_calls == []


def test_the_spokes_node_role_may_first_pull_with_the_policies_read_back(
    applied: dict[str, Any],
) -> None:
    hub, spoke = applied["hub"], applied["spoke"]
    back = _read_back(hub, spoke)
    repo_policy = json.loads(back["templates"][0]["repositoryPolicy"])

    def steps(identity: Any, registry: Any, repository: Any) -> list[Any]:
        return list(
            first_pull_steps(
                principal_arn=f"arn:aws:sts::{SPOKE}:assumed-role/{NODE_ROLE}/i-0abc",
                identity_policies=[identity] if identity else [],
                registry_policy=registry,
                repository_policy=repository,
                partition="aws",
                hub_account_id=HUB,
                hub_region=REGION,
                repository="docker-hub/library/nginx",
            )
        )

    assert all(s.decision.allowed for s in steps(back["identity"], back["registry"], repo_policy))
    for missing in range(3):
        docs = [back["identity"], back["registry"], repo_policy]
        docs[missing] = None
        assert not all(s.decision.allowed for s in steps(*docs)), missing


def test_a_pull_through_the_hub_creates_the_repository_with_the_spokes_pull_policy(
    applied: dict[str, Any],
) -> None:
    hub = applied["hub"]
    simulate_pull(account_id=HUB, region=REGION, repository="quay/prometheus/node-exporter")
    text = plain(hub, "ecr").get_repository_policy(repositoryName="quay/prometheus/node-exporter")[
        "policyText"
    ]
    (statement,) = json.loads(text)["Statement"]
    assert statement["Sid"] == "ecrcache-hub-pull"
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{SPOKE}:root"}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_cli(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _doctor_env(spoke: Clients, hub: Clients | None) -> Env:
    live = None
    context = build_context(
        clients=spoke,
        live=live,
        region=REGION,
        region_source="test",
        profile=None,
        config_path="ecrcache.toml",
    )
    return Env(
        context=context,
        commands=Commands(region=REGION),
        paths=MachinePaths(docker_config=Path("/nonexistent/config.json")),
        config=load(SPOKE_TOML),
        clients=spoke,
        hub_clients=hub,
    )


def test_doctor_says_what_the_node_role_lacks_then_passes(applied: dict[str, Any]) -> None:
    hub, spoke = applied["hub"], applied["spoke"]
    finding = hub_first_pull.func(_doctor_env(spoke, hub))
    assert finding.kind == "problem"
    assert f"{NODE} may not" in finding.text
    assert finding.fix is not None
    attach = next(c for c in finding.fix.commands if "attach-role-policy" in c)
    assert f"--role-name {NODE_ROLE}" in attach and "ecrcache-hub-pull" in attach
    assert "spoke_accounts" not in finding.fix.summary  # the hub's side is fine
    plain(spoke, "iam").attach_role_policy(
        RoleName=NODE_ROLE, PolicyArn=_read_back(hub, spoke)["arn"]
    )
    finding = hub_first_pull.func(_doctor_env(spoke, hub))
    assert finding.kind == "pass", finding


def test_doctor_without_the_hubs_clients_says_what_it_cannot_see(applied: dict[str, Any]) -> None:
    hub, spoke = applied["hub"], applied["spoke"]
    plain(spoke, "iam").attach_role_policy(
        RoleName=NODE_ROLE, PolicyArn=_read_back(hub, spoke)["arn"]
    )
    finding = hub_first_pull.func(_doctor_env(spoke, None))
    assert finding.kind == "warn"
    assert "could not be read" in finding.text


def test_doctor_names_the_hub_side_when_the_hub_does_not_grant(
    aws: boto3.session.Session, applied: dict[str, Any]
) -> None:
    hub, spoke = applied["hub"], applied["spoke"]
    plain(spoke, "iam").attach_role_policy(
        RoleName=NODE_ROLE, PolicyArn=_read_back(hub, spoke)["arn"]
    )
    plain(hub, "ecr").delete_registry_policy()
    finding = hub_first_pull.func(_doctor_env(spoke, hub))
    assert finding.kind == "problem"
    assert "CreateRepository" in finding.text and "spoke_accounts" in finding.fix.summary
    assert not any("attach-role-policy" in c for c in finding.fix.commands)
    assert "the hub's registry policy does not allow it" in " ".join(finding.details)


def test_outputs_rewrite_and_login_of_a_spoke_name_the_hubs_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ecrcache.toml"
    path.write_text(SPOKE_TOML.replace("[ci_policy]\n", ""))
    host = f"{HUB}.dkr.ecr.{REGION}.amazonaws.com"
    code, out, err = cli(capsys, "--sandbox", "outputs", "-c", str(path), "--output", "json")
    assert code == 0, err
    assert json.loads(out)["data"]["registry"] == host
    code, out, err = cli(capsys, "rewrite", "-c", str(path), "nginx:1.27")
    assert code == 0, err
    assert out.strip() == f"{host}/docker-hub/library/nginx:1.27"
    code, out, err = cli(
        capsys,
        "--sandbox",
        "login",
        "-c",
        str(path),
        "--write-config",
        "--docker-config",
        str(tmp_path / "docker.json"),
        "--output",
        "json",
    )
    assert code == 0, err
    assert json.loads(out)["data"]["registries"] == [host]
    assert host in (tmp_path / "docker.json").read_text()


def test_test_pull_of_a_spoke_is_refused_in_the_one_account_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ecrcache.toml"
    path.write_text(SPOKE_TOML.replace("[ci_policy]\n", ""))
    code, out, err = cli(capsys, "--sandbox", "test-pull", "-c", str(path), "nginx:1.27")
    assert code != 0 and out == ""
    assert "a spoke cannot pull through a hub there" in err
