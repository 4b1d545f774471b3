"""Real-AWS behaviours moto lacks, one test each, each naming its source in a comment.

The sandbox (ecrcache's moto extension, src/ecrcache/sandbox/) behaves as these say, so every
other test runs against an account that answers as AWS does, not more kindly. Sections follow
the items of the issue "Trust: safe and exact against a real AWS account".
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import botocore.session
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from reconcile_support import ACCOUNT, REGION, apply, clients, config, cred, make_roles, plan

from ecrcache.aws import Clients
from ecrcache.config.loading import parse_config
from ecrcache.config.partitions import partitions
from ecrcache.config.upstreams import dns_suffix, partition, registry_host
from ecrcache.errors import ApplyError
from ecrcache.policy import equivalent, lifecycle
from ecrcache.reconcile.iam_propagation import IAM_PROPAGATION_DELAYS
from ecrcache.reconcile.live_secrets import list_secrets
from ecrcache.reconcile.plan import Action, Unknown
from ecrcache.sandbox import image_status, principal_validation, secrets_consistency
from ecrcache.sandbox.pulls import simulate_pull

# ================================================================================================
# 1. backfill reaches only what a cache rule could have created
# How ECR picks the creation template for a repository a pull creates, and that a template
# leaves earlier repositories alone: what backfill's reach rests on. One test per behaviour, each
# naming its source; the sandbox (ecrcache's extension) must behave so.
# ================================================================================================


def template_lifecycle(keep: int) -> dict[str, object]:
    return {"lifecycle": {"keep_last": keep}}


def kept(session: boto3.session.Session, name: str) -> int | None:
    """The keep_last count of a repository's lifecycle policy (None: no policy)."""
    ecr = clients(session).ecr
    try:
        text = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        return None
    for keep in range(1, 100):
        if lifecycle.normalise(text) == lifecycle.normalise(
            lifecycle.compile_rules(keep_last=keep)
        ):
            return keep
    raise AssertionError(text)


def pull(name: str) -> None:
    simulate_pull(account_id=ACCOUNT, region=REGION, repository=name, tag="1")


def test_the_repository_name_picks_the_template_not_the_rule(aws: boto3.session.Session) -> None:
    # Source: CreateRepositoryCreationTemplate, prefix: "All repositories created using this
    # namespace prefix will have the settings defined in this template applied ... ROOT [for]
    # all repositories ... that don't have an associated creation template."
    # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepositoryCreationTemplate.html
    c = config(
        {"ROOT": {"upstream": "ecr-public"}},
        templates={"ROOT": template_lifecycle(5), "bitnami": template_lifecycle(7)},
    )
    apply(c, clients(aws))
    pull("bitnami/redis")  # through the ROOT rule
    pull("library/nginx")
    assert kept(aws, "bitnami/redis") == 7
    assert kept(aws, "library/nginx") == 5


def test_the_most_specific_template_prefix_wins(aws: boto3.session.Session) -> None:
    # Source: as above: "a prefix of prod/team would apply to all repositories beginning with
    # prod/team/" (while prod applies to the rest of prod/).
    c = config(
        {"quay": {"upstream": "quay"}},
        templates={"quay": template_lifecycle(5), "quay/prometheus": template_lifecycle(7)},
    )
    apply(c, clients(aws))
    pull("quay/prometheus/node-exporter")
    pull("quay/org/app")
    assert kept(aws, "quay/prometheus/node-exporter") == 7
    assert kept(aws, "quay/org/app") == 5


def test_a_template_applies_only_to_its_scenarios(aws: boto3.session.Session) -> None:
    # Source: RepositoryCreationTemplate.appliedFor: "the repository creation scenarios that this
    # template will apply towards" (PULL_THROUGH_CACHE, REPLICATION, CREATE_ON_PUSH).
    # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_RepositoryCreationTemplate.html
    c = config(
        {"quay": {"upstream": "quay"}},
        templates={
            "ROOT": template_lifecycle(5),
            "quay": {**template_lifecycle(7), "applied_for": ["CREATE_ON_PUSH"]},
        },
    )
    apply(c, clients(aws))
    pull("quay/org/app")
    assert kept(aws, "quay/org/app") == 5


def test_a_template_does_not_touch_repositories_created_before_it(
    aws: boto3.session.Session,
) -> None:
    # Source: "Once the repository creation template is created, all new repositories created
    # will have the settings applied. This doesn't have any effect on any previously created
    # repositories." https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create.html
    rules = {"quay": {"upstream": "quay"}}
    apply(config(rules), clients(aws))
    pull("quay/org/old")
    c = config(rules, templates={"quay": template_lifecycle(5)})
    apply(c, clients(aws))
    assert kept(aws, "quay/org/old") is None
    # which is what backfill is for: it sets the template ECR would have applied
    with_backfill = config(rules, templates={"quay": {**template_lifecycle(5), "backfill": True}})
    apply(with_backfill, clients(aws))
    assert kept(aws, "quay/org/old") == 5
    assert plan(with_backfill, clients(aws)).plan.empty


def test_backfill_sets_the_template_ecr_would_have_applied_under_a_root_rule(
    aws: boto3.session.Session,
) -> None:
    # Source: as in the first test; backfill's choice of template (backfill.BackfillScope) and
    # ECR's agree, so a repository pulled after the apply plans no change either.
    rules = {"ROOT": {"upstream": "ecr-public"}}
    apply(config(rules), clients(aws))
    pull("bitnami/redis")
    c = config(
        rules,
        templates={
            "ROOT": template_lifecycle(5),
            "bitnami": {
                **template_lifecycle(7),
                "backfill": True,
                "backfill_repositories": ["bitnami/*"],
            },
        },
    )
    apply(c, clients(aws))
    assert kept(aws, "bitnami/redis") == 7
    pull("bitnami/postgres")
    assert kept(aws, "bitnami/postgres") == 7
    assert plan(c, clients(aws)).plan.empty


# ================================================================================================
# 2. policies stored in AWS's own form
# Real-AWS behaviours of policy storage that moto lacks, one test each, with its source.
#
# The sandbox (ecrcache.sandbox.policy_storage) stores registry, repository and creation template
# policies as ECR does; these pin it, so the apply-then-plan tests exercise the canonical form.
# ================================================================================================


OTHER = "111122223333"


ROLES = [f"arn:aws:iam::{ACCOUNT}:role/{n}" for n in ("a-nodes", "b-ci", "c-batch", "d-web")]


@pytest.fixture
def canon_roles(aws: boto3.session.Session) -> None:
    make_roles(aws, ROLES)


def policy(principal: Any, action: Any = "ecr:CreateRepository", **extra: Any) -> str:
    statement = {
        "Sid": "Test",
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": action,
        "Resource": "*",
        **extra,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def statement(text: str) -> dict[str, Any]:
    return json.loads(text)["Statement"][0]  # type: ignore[no-any-return]


def registry_round_trip(session: boto3.session.Session, text: str) -> str:
    ecr = session.client("ecr")
    ecr.put_registry_policy(policyText=text)
    return ecr.get_registry_policy()["policyText"]  # type: ignore[no-any-return]


@pytest.mark.usefixtures("canon_roles")
def test_an_account_id_principal_reads_back_as_the_root_arn(aws: boto3.session.Session) -> None:
    # IAM user guide, "AWS account principals": an account ID and arn:aws:iam::ID:root "behave
    # the same way"; awspolicyequivalence's stringPrincipalsEqual: "Handle AWS converting
    # account ID principal to root IAM user ARN" (what ECR returns after PutRegistryPolicy).
    got = statement(registry_round_trip(aws, policy([OTHER, ROLES[0]])))
    assert sorted(got["Principal"]["AWS"]) == sorted([f"arn:aws:iam::{OTHER}:root", ROLES[0]])


@pytest.mark.usefixtures("canon_roles")
def test_principal_lists_come_back_in_another_order(aws: boto3.session.Session) -> None:
    # hashicorp/terraform-provider-aws#19365: "aws_ecr_repository_policy tries to enforce order
    # of principals when AWS insists on a different random ordering" (fixed by #22004, pinned
    # by the TestAccECRRepositoryPolicy_IAM_principalOrder acceptance test).
    sent = sorted(ROLES)
    got = statement(registry_round_trip(aws, policy(sent)))["Principal"]["AWS"]
    assert sorted(got) == sent and got != sent
    again = statement(registry_round_trip(aws, policy(list(reversed(sent)))))
    assert again["Principal"]["AWS"] == got  # ECR's own order, whatever order was sent


@pytest.mark.usefixtures("canon_roles")
def test_one_element_lists_come_back_as_strings(aws: boto3.session.Session) -> None:
    # hashicorp/awspolicyequivalence, PoliciesAreEquivalent: "treating single element string
    # arrays as equivalent to a string without an array, as the AWS endpoints do".
    text = policy([ROLES[0]], ["ecr:CreateRepository"], Resource=["*"])
    got = statement(registry_round_trip(aws, text))
    assert got["Principal"]["AWS"] == ROLES[0]
    assert got["Action"] == "ecr:CreateRepository" and got["Resource"] == "*"
    assert equivalent(text, registry_round_trip(aws, text), partition="aws")


@pytest.mark.usefixtures("canon_roles")
def test_a_repository_policy_is_stored_as_ecr_stores_it(aws: boto3.session.Session) -> None:
    # Same sources: SetRepositoryPolicy/GetRepositoryPolicy is where #19365 was seen.
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="acme/api")
    text = policy([OTHER], ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
    ecr.set_repository_policy(repositoryName="acme/api", policyText=text)
    got = ecr.get_repository_policy(repositoryName="acme/api")["policyText"]
    assert statement(got)["Principal"]["AWS"] == f"arn:aws:iam::{OTHER}:root"
    assert equivalent(text, got, partition="aws") and got != text


@pytest.mark.usefixtures("canon_roles")
def test_a_templates_repository_policy_is_stored_as_ecr_stores_it(
    aws: boto3.session.Session,
) -> None:
    # A template's repositoryPolicy becomes the repository policy of every repository it
    # creates: ECR stores it in the same form as SetRepositoryPolicy (sources above).
    ecr = aws.client("ecr")
    text = policy([OTHER, *ROLES], ["ecr:BatchGetImage"])
    ecr.create_repository_creation_template(
        prefix="quay", appliedFor=["PULL_THROUGH_CACHE"], repositoryPolicy=text
    )
    (t,) = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    got = statement(t["repositoryPolicy"])
    assert f"arn:aws:iam::{OTHER}:root" in got["Principal"]["AWS"]
    assert got["Action"] == "ecr:BatchGetImage"
    ecr.update_repository_creation_template(prefix="quay", repositoryPolicy=policy([OTHER]))
    (t,) = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    assert statement(t["repositoryPolicy"])["Principal"]["AWS"] == f"arn:aws:iam::{OTHER}:root"


@pytest.mark.usefixtures("canon_roles")
def test_the_root_arn_is_in_the_registrys_partition() -> None:
    # The root ARN is arn:PARTITION:iam::ID:root (awspolicyequivalence's comment, and the ARN
    # format of the IAM user guide): in China regions the partition is aws-cn.
    from moto import mock_aws

    from ecrcache.sandbox.ecr_extension import install

    install()
    with mock_aws():
        ecr = boto3.client("ecr", region_name="cn-north-1")
        ecr.put_registry_policy(policyText=policy(OTHER))
        got = statement(ecr.get_registry_policy()["policyText"])
    assert got["Principal"]["AWS"] == f"arn:aws-cn:iam::{OTHER}:root"


@pytest.mark.usefixtures("canon_roles")
def test_iam_returns_a_managed_policy_url_encoded_as_sent(aws: boto3.session.Session) -> None:
    # IAM API reference, GetPolicyVersion / PolicyVersion.Document: "The policy document
    # returned in this structure is URL-encoded compliant with RFC 3986"; IAM keeps the
    # document as sent (no principal rewriting in an identity policy). botocore decodes it
    # (handlers.json_decode_policies): moto 5.2 sent it unencoded, so a "%2F" in a document
    # came back as "/".
    iam = aws.client("iam")
    resource = "arn:aws:s3:::bucket/a%2Fb"
    st = {"Effect": "Allow", "Action": "a:B", "Resource": resource}
    text = json.dumps({"Version": "2012-10-17", "Statement": [st]})
    arn = iam.create_policy(PolicyName="p", PolicyDocument=text)["Policy"]["Arn"]
    raw: list[bytes] = []
    iam.meta.events.register(
        "before-parse.iam.GetPolicyVersion",
        lambda response_dict, **_: raw.append(response_dict["body"]),
    )
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"]
    assert got == json.loads(text) and got["Statement"][0]["Resource"] == resource
    assert quote(text).encode() in raw[0]
    created = iam.create_policy_version(PolicyArn=arn, PolicyDocument=text)["PolicyVersion"]
    assert "Document" not in created  # "not returned in the response to CreatePolicyVersion"


@pytest.mark.usefixtures("canon_roles")
def test_server_mode_stores_policies_as_ecr_does(aws: boto3.session.Session) -> None:
    # The same storage over HTTP (moto's ThreadedMotoServer, as `sandbox serve` uses it).
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        ecr = boto3.client("ecr", region_name=REGION, endpoint_url=f"http://{host}:{port}")
        ecr.put_registry_policy(policyText=policy([OTHER]))
        got = statement(ecr.get_registry_policy()["policyText"])
    finally:
        server.stop()
    assert got["Principal"]["AWS"] == f"arn:aws:iam::{OTHER}:root"


@pytest.mark.usefixtures("canon_roles")
@pytest.mark.parametrize("text", ["not json", "[]"])
def test_what_is_no_policy_document_is_still_refused(aws: boto3.session.Session, text: str) -> None:
    # Storage never hides moto's (and ECR's) validation of what was sent.
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        aws.client("ecr").put_registry_policy(policyText=text)


# ================================================================================================
# 4-5. secrets as AWS serves them; IAM propagation
# Real-AWS behaviours of secrets and IAM principals that moto lacks, one test each, each naming
# its source. The sandbox has them (sandbox/secrets_consistency.py, principal_validation.py).
# ================================================================================================


EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


NAME = "ecr-pullthroughcache/docker-hub"


DOCKER_HUB = {"docker-hub": {"upstream": "docker-hub", "credentials": cred("docker-hub")}}


NODE = f"arn:aws:iam::{ACCOUNT}:role/eks-node"


VALUE = json.dumps({"username": "bot", "accessToken": "by-hand"})


@pytest.fixture(autouse=True)
def _defaults() -> Iterator[None]:
    yield
    secrets_consistency.set_window(None)
    principal_validation.set_propagation(None)


def _rule_arn(aws: boto3.session.Session) -> str:
    ecr = aws.client("ecr", region_name=REGION)
    return str(ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]["credentialArn"])


def _registry_policy(principal: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "pull",
                    "Effect": "Allow",
                    "Principal": {"AWS": principal},
                    "Action": ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
                    "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/docker-hub/*",
                }
            ],
        }
    )


def test_a_plan_minutes_after_apply_does_not_depend_on_list_secrets(
    aws: boto3.session.Session,
) -> None:
    # Secrets Manager API reference, ListSecrets: "ListSecrets might not reflect changes from
    # the last five minutes. You can get more recent information for a specific secret by
    # calling DescribeSecret."
    secrets_consistency.set_window(300)
    cfg = parse_config(tomllib.loads(EXAMPLE.read_text()))
    aws.client("iam").create_role(RoleName="eks-node", AssumeRolePolicyDocument="{}")
    env = {"DOCKERHUB_TOKEN": "t1", "GHCR_TOKEN": "t2"}
    c = clients(aws)
    apply(cfg, c, env)
    assert list_secrets(c) == ()  # the listing does not show the two new secrets yet
    assert plan(cfg, clients(aws), env).plan.empty


def test_a_re_created_secret_has_a_new_arn_and_the_rule_is_pointed_at_it(
    aws: boto3.session.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    # Secrets Manager user guide ("Amazon Resource Name of a secret"): "Secrets Manager
    # automatically adds a hyphen and six random characters after the secret name at the end of
    # the ARN", so a secret re-created under the same name has another ARN; a pull-through cache
    # rule keeps the full ARN it was given (DescribePullThroughCacheRules credentialArn), and ECR
    # cannot read a secret that is gone.
    cfg = config(DOCKER_HUB)
    apply(cfg, clients(aws))
    old = _rule_arn(aws)
    sm = aws.client("secretsmanager", region_name=REGION)
    sm.delete_secret(SecretId=NAME, ForceDeleteWithoutRecovery=True)
    new = sm.create_secret(Name=NAME, SecretString=VALUE)["ARN"]
    assert new != old
    ecr = aws.client("ecr", region_name=REGION)
    assert not ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub")["isValid"]

    result = plan(cfg, clients(aws))
    (rule,) = [ch for ch in result.plan.changes if ch.kind == "rule"]
    assert rule.action is Action.UPDATE and not rule.needs_force
    assert [(f.name, f.before, f.after) for f in rule.fields] == [("credential_arn", old, new)]
    assert "the secret was re-created" in (rule.reason or "")
    assert f"suffix is now {new[-6:]}, the rule holds {old[-6:]}" in (rule.reason or "")

    c = clients(aws)
    apply(cfg, c)
    assert "ecr.UpdatePullThroughCacheRule" in c.mutating_calls
    assert "ecr.DeletePullThroughCacheRule" not in c.mutating_calls
    assert _rule_arn(aws) == new
    assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub")["isValid"]
    assert plan(cfg, clients(aws)).plan.empty


def test_the_plan_shows_the_old_and_new_secret_arn(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Same source as above; the plan names both ARNs and why the rule changes.
    from ecrcache.cli.app import run
    from ecrcache.sandbox.runtime import default_state_path, open_sandbox

    toml = tmp_path / "ecrcache.toml"
    toml.write_text(
        f'region = "{REGION}"\n[rules.docker-hub]\nupstream = "docker-hub"\n'
        f'[rules.docker-hub.credentials]\nsecret = "{NAME}"\nusername = "bot"\n'
        'token = { env = "TOK" }\n'
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOK", "t")
        assert run(["--sandbox", "-c", str(toml), "apply", "--yes"]) == 0
        with open_sandbox(region=REGION, state_path=default_state_path()) as s:
            sm = s.client("secretsmanager")
            old = sm.describe_secret(SecretId=NAME)["ARN"]
            sm.delete_secret(SecretId=NAME, ForceDeleteWithoutRecovery=True)
            new = sm.create_secret(
                Name=NAME, SecretString=VALUE, Tags=[{"Key": "managed-by", "Value": "ecrcache"}]
            )["ARN"]
        capsys.readouterr()
        assert run(["--sandbox", "-c", str(toml), "plan", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "~ rule.docker-hub" in out and "the secret was re-created" in out
    assert f'credential_arn: "{old}" → "{new}"' in " ".join(out.split())


def test_a_deleted_secret_is_re_created_and_the_rule_follows_its_new_arn(
    aws: boto3.session.Session,
) -> None:
    # Same source: the secret apply creates gets a new random suffix, known only after apply.
    cfg = config(DOCKER_HUB)
    apply(cfg, clients(aws))
    old = _rule_arn(aws)
    aws.client("secretsmanager", region_name=REGION).delete_secret(
        SecretId=NAME, ForceDeleteWithoutRecovery=True
    )
    result = plan(cfg, clients(aws))
    assert [(ch.address, ch.action) for ch in result.plan.changes] == [
        (f"secret.{NAME}", Action.CREATE),
        ("rule.docker-hub", Action.UPDATE),
    ]
    rule = result.plan.changes[1]
    assert [(f.before, f.after) for f in rule.fields] == [(old, Unknown())]  # known after apply
    assert rule.to_dict()["fields"][0]["after"] is None  # never a placeholder string
    apply(cfg, clients(aws))
    sm = aws.client("secretsmanager", region_name=REGION)
    assert _rule_arn(aws) == sm.describe_secret(SecretId=NAME)["ARN"] != old
    assert plan(cfg, clients(aws)).plan.empty


def test_a_secret_scheduled_for_deletion_is_restored_with_its_arn(
    aws: boto3.session.Session,
) -> None:
    # Secrets Manager API reference: DeleteSecret with a recovery window only schedules the
    # deletion (DescribeSecret shows DeletedDate); RestoreSecret "cancels the scheduled deletion
    # of a secret", which keeps its ARN, so the rule needs no change.
    cfg = config(DOCKER_HUB)
    apply(cfg, clients(aws))
    arn = _rule_arn(aws)
    sm = aws.client("secretsmanager", region_name=REGION)
    sm.delete_secret(SecretId=NAME, RecoveryWindowInDays=7)
    result = plan(cfg, clients(aws))
    (change,) = result.plan.changes
    assert (change.address, change.action) == (f"secret.{NAME}", Action.UPDATE)
    # (its value cannot be read while deletion is scheduled, so it is written again)
    assert [f.name for f in change.fields] == ["pending_deletion", "value"]
    c = clients(aws)
    apply(cfg, c)
    assert c.mutating_calls == ["secretsmanager.RestoreSecret", "secretsmanager.PutSecretValue"]
    assert "DeletedDate" not in sm.describe_secret(SecretId=NAME)
    assert _rule_arn(aws) == arn
    assert plan(cfg, clients(aws)).plan.empty


def test_ecr_rejects_a_policy_naming_a_principal_iam_does_not_know(
    aws: boto3.session.Session,
) -> None:
    # hashicorp/terraform-provider-aws#39064: SetRepositoryPolicy naming a role IAM does not
    # know yet fails with "InvalidParameterException: Invalid parameter at 'PolicyText' failed to
    # satisfy constraint: 'Principal not found'". Account IDs and root ARNs always resolve
    # (another account's roles are checked too: test_real_aws_behaviours_hub.py).
    ecr = aws.client("ecr", region_name=REGION)
    with pytest.raises(ClientError) as info:
        ecr.put_registry_policy(policyText=_registry_policy(NODE))
    err = info.value.response["Error"]
    assert err["Code"] == "InvalidParameterException"
    assert err["Message"] == principal_validation.PRINCIPAL_NOT_FOUND
    ecr.create_repository(repositoryName="app")
    with pytest.raises(ClientError) as info:
        ecr.set_repository_policy(
            repositoryName="app",
            policyText=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:user/ci"]},
                            "Action": "ecr:BatchGetImage",
                        }
                    ],
                }
            ),
        )
    assert "Principal not found" in info.value.response["Error"]["Message"]
    for accepted in (
        "111122223333",
        ACCOUNT,
        f"arn:aws:iam::{ACCOUNT}:root",
    ):
        ecr.put_registry_policy(policyText=_registry_policy(accepted))
    aws.client("iam").create_role(RoleName="eks-node", AssumeRolePolicyDocument="{}")
    ecr.put_registry_policy(policyText=_registry_policy(NODE))
    with pytest.raises(ClientError):  # the exact ARN, path included
        ecr.put_registry_policy(
            policyText=_registry_policy(f"arn:aws:iam::{ACCOUNT}:role/x/eks-node")
        )


class _Clock:
    """A fixed start plus whatever apply's injected back-off slept: no wall time passes."""

    def __init__(self, start: float) -> None:
        self.start, self.slept = start, 0.0

    def now(self) -> float:
        return self.start + self.slept

    def sleep(self, seconds: float) -> None:
        self.slept += seconds


def test_apply_retries_while_iam_propagates_a_new_puller_role(aws: boto3.session.Session) -> None:
    # Terraform's aws_ecr_repository_policy retries on this error "due to IAM eventual
    # consistency" for two minutes (resource_aws_ecr_repository_policy.go; repository_policy.go,
    # internal/service/ecr/consts.go propagationTimeout): a role created moments ago reaches ECR
    # a few seconds later (terraform-provider-aws#39064: "Running it a second time succeeds").
    from ecrcache.reconcile.apply import ApplyContext, run

    role = aws.client("iam").create_role(RoleName="eks-node", AssumeRolePolicyDocument="{}")
    # The clock starts where propagation starts, the role's creation, so the time it takes to
    # make clients (slow on a loaded machine) never eats into the 10 s window.
    clock = _Clock(role["Role"]["CreateDate"].timestamp())
    principal_validation.set_propagation(10, clock=clock.now)
    cfg = config({"quay": {"upstream": "quay"}}, pullers={"principals": [NODE]})
    c = clients(aws)
    c.sleep = clock.sleep
    result = plan(cfg, c)
    run(result.plan, ApplyContext(clients=c, account_id=ACCOUNT, region=REGION))
    assert c.mutating_calls.count("ecr.PutRegistryPolicy") == 5  # 1 + 2 + 4 + 8 > 10 seconds
    assert clock.slept == 15.0
    assert plan(cfg, clients(aws)).plan.empty


def test_apply_fails_naming_the_principal_iam_never_knows(aws: boto3.session.Session) -> None:
    # Same sources: after the retries, one line that names the principal, and a hint.
    cfg = config({"quay": {"upstream": "quay"}}, pullers={"principals": [NODE, "111122223333"]})
    c = clients(aws)
    with pytest.raises(ApplyError) as info:
        apply(cfg, c)
    err = info.value
    assert "registry-policy.registry failed" in err.message
    assert f"(Principal not found): IAM does not know {NODE}, or not yet" in err.message
    assert "\n" not in err.message
    assert "aws iam get-role --role-name eks-node" in (err.hint or "")
    assert c.sleeps == list(IAM_PROPAGATION_DELAYS)  # type: ignore[attr-defined]
    assert c.mutating_calls.count("ecr.PutRegistryPolicy") == len(IAM_PROPAGATION_DELAYS) + 1


# ================================================================================================
# 6. the smaller differences
# The smaller real-AWS differences (issue "Trust", item 6): one test per behaviour real ECR has and
# moto 5.2 lacks, each naming its source; the sandbox behaves so (src/ecrcache/sandbox/), and
# ecrcache handles it.
# ================================================================================================


QUAY = {"quay": {"upstream": "quay"}}


ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecr-templates"


MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "digest": "sha256:" + "1" * 64,
            "size": 1,
            "mediaType": "application/vnd.docker.container.image.v1+json",
        },
        "layers": [
            {
                "digest": "sha256:" + "2" * 64,
                "size": 10,
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            }
        ],
    }
)


def cfg(**sections: Any) -> Any:
    return config(QUAY, **sections)


def record_requests(c: Clients) -> list[tuple[str, dict[str, Any]]]:
    """Every ECR request ``c`` sends, as (operation, params): a botocore event, no mock."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append((model.name, json.loads(json.dumps(params))))

    c.ecr.meta.events.register("provide-client-params.ecr.*", hook)
    return seen


def empty_members(params: dict[str, Any]) -> list[str]:
    return [k for k, v in params.items() if v in ("", [], {})]


@pytest.fixture
def restore_takes_an_hour() -> Iterator[None]:
    image_status.set_restore_seconds(3600)
    yield
    image_status.set_restore_seconds(0)


def test_sandbox_lists_only_active_images_unless_asked(
    aws: boto3.session.Session, restore_takes_an_hour: None
) -> None:
    # Source: botocore ECR model, ListImagesFilter/DescribeImagesFilter.imageStatus ("If not
    # specified, only images with ACTIVE status are returned"), ImageDetail.imageStatus,
    # UpdateImageStorageClass (ARCHIVE / STANDARD; a restore is ACTIVATING first, ECR user guide
    # archive_restore_image.html).
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="acme/old")
    ecr.put_image(repositoryName="acme/old", imageManifest=MANIFEST, imageTag="v1")
    out = ecr.update_image_storage_class(
        repositoryName="acme/old", imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
    )
    assert out["imageStatus"] == "ARCHIVED"
    assert ecr.list_images(repositoryName="acme/old")["imageIds"] == []
    assert ecr.describe_images(repositoryName="acme/old")["imageDetails"] == []
    every = ecr.list_images(repositoryName="acme/old", filter={"imageStatus": "ANY"})
    assert [i["imageTag"] for i in every["imageIds"]] == ["v1"]
    (detail,) = ecr.describe_images(repositoryName="acme/old", filter={"imageStatus": "ARCHIVED"})[
        "imageDetails"
    ]
    assert detail["imageStatus"] == "ARCHIVED" and "lastArchivedAt" in detail
    with pytest.raises(ClientError, match="RepositoryNotEmptyException"):
        ecr.delete_repository(repositoryName="acme/old")  # archived images are still images
    restored = ecr.update_image_storage_class(
        repositoryName="acme/old", imageId={"imageTag": "v1"}, targetStorageClass="STANDARD"
    )
    assert restored["imageStatus"] == "ACTIVATING"
    assert ecr.list_images(repositoryName="acme/old")["imageIds"] == []
    activating = ecr.list_images(repositoryName="acme/old", filter={"imageStatus": "ACTIVATING"})
    assert len(activating["imageIds"]) == 1
    with pytest.raises(ClientError, match="ImageStorageClassUpdateNotSupportedException"):
        ecr.update_image_storage_class(
            repositoryName="acme/old", imageId={"imageTag": "v1"}, targetStorageClass="STANDARD"
        )


@pytest.mark.parametrize("restore", [False, True], ids=["archived", "activating"])
def test_archived_images_count_before_a_repository_is_deleted(
    aws: boto3.session.Session, restore_takes_an_hour: None, restore: bool
) -> None:
    # Source: botocore ECR model, ListImagesFilter.imageStatus: a plain ListImages shows only
    # ACTIVE images, so a repository holding only archived (or restoring) ones looked empty and
    # prune deleted it without --delete-images.
    apply(cfg(repositories={"acme/api": {}, "acme/old": {}}), clients(aws))
    ecr = aws.client("ecr")
    ecr.put_image(repositoryName="acme/old", imageManifest=MANIFEST, imageTag="v1")
    image = {"imageTag": "v1"}
    ecr.update_image_storage_class(
        repositoryName="acme/old", imageId=image, targetStorageClass="ARCHIVE"
    )
    if restore:
        ecr.update_image_storage_class(
            repositoryName="acme/old", imageId=image, targetStorageClass="STANDARD"
        )
    assert ecr.list_images(repositoryName="acme/old")["imageIds"] == []
    keep = cfg(repositories={"acme/api": {}})
    pruned = plan(keep, clients(aws), prune=True)
    assert pruned.plan.empty
    assert any("acme/old holds 1 image(s)" in p for p in pruned.plan.problems)
    forced = plan(keep, clients(aws), prune=True, delete_images=True)
    assert [(c.address, c.action) for c in forced.plan.changes] == [
        ("repository.acme/old", Action.DELETE)
    ]
    apply(keep, clients(aws), prune=True, delete_images=True)
    assert [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]] == [
        "acme/api"
    ]


KEY_ARN = re.compile(rf"^arn:aws:kms:{REGION}:{ACCOUNT}:key/[0-9a-f-]{{36}}$")


@pytest.mark.parametrize("encryption", ["KMS", "KMS_DSSE"])
def test_kms_repository_without_a_key_reads_back_with_the_aws_managed_key(
    aws: boto3.session.Session, encryption: str
) -> None:
    # Source: botocore ECR model, EncryptionConfiguration ("the default Amazon Web Services managed
    # KMS key for Amazon ECR"); the Terraform AWS provider's TestAccECRRepository_Encryption_kms
    # (a repository declared KMS alone reads back with a key/<uuid> ARN, "the default ECR service
    # KMS key"). moto invents a random ARN for KMS and none for KMS_DSSE.
    want = cfg(repositories={"acme/secure": {"encryption": encryption}})
    apply(want, clients(aws))
    (repo,) = aws.client("ecr").describe_repositories(repositoryNames=["acme/secure"])[
        "repositories"
    ]
    key = repo["encryptionConfiguration"]["kmsKey"]
    assert repo["encryptionConfiguration"]["encryptionType"] == encryption
    assert KEY_ARN.match(key)
    kms = aws.client("kms")
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyManager"] == "AWS"
    assert kms.describe_key(KeyId="alias/aws/ecr")["KeyMetadata"]["Arn"] == key
    again = plan(want, clients(aws))
    assert again.plan.empty and again.plan.problems == ()  # no perpetual "not planned" line


def test_import_writes_no_key_for_the_aws_managed_one(aws: boto3.session.Session) -> None:
    # Same source: import reads the AWS-managed key as "no key named", so the config it writes
    # plans empty instead of pinning the key's ARN.
    import tomllib

    from ecrcache.config.loading import parse_config
    from ecrcache.reconcile.import_toml import to_toml
    from ecrcache.reconcile.importer import import_config

    apply(cfg(repositories={"acme/secure": {"encryption": "KMS"}}), clients(aws))
    doc = tomllib.loads(to_toml(import_config(clients(aws), region=REGION)))
    assert doc["repositories"]["acme/secure"] == {"encryption": "KMS"}
    after = plan(parse_config(doc), clients(aws))
    assert after.plan.empty and after.plan.problems == ()


def test_kms_repository_with_a_customer_key_still_reports_the_difference(
    aws: boto3.session.Session,
) -> None:
    # The other side of the same rule: KeyManager CUSTOMER is a key someone chose, and encryption
    # cannot change after creation (botocore ECR model: no operation updates it).
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    aws.client("ecr").create_repository(
        repositoryName="acme/secure",
        encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key},
    )
    result = plan(cfg(repositories={"acme/secure": {"encryption": "KMS"}}), clients(aws))
    assert any(
        "acme/secure: kms_key cannot change after creation" in p for p in result.plan.problems
    )


def test_template_create_sends_no_empty_members_and_only_a_removal_sends_an_empty_role(
    aws: boto3.session.Session,
) -> None:
    # Source: the Terraform AWS provider's aws_ecr_repository_creation_template (create sends only
    # the members that are set; update sends customRoleArn, "" included, only when it changed;
    # internal/service/ecr/repository_creation_template.go), run against real accounts daily.
    bare = cfg(templates={"quay": {"lifecycle": {"keep_last": 5}}})
    c = clients(aws)
    sent = record_requests(c)
    apply(bare, c, env={})
    (create,) = [p for op, p in sent if op == "CreateRepositoryCreationTemplate"]
    assert empty_members(create) == [] and "customRoleArn" not in create
    # the description is never empty: it carries ecrcache's marker (reconcile/ownership.py)
    assert create["description"] == "[managed-by=ecrcache]" and "resourceTags" not in create

    def update_after(template: dict[str, Any]) -> dict[str, Any]:
        c = clients(aws)
        sent = record_requests(c)
        want = cfg(templates={"quay": {"lifecycle": {"keep_last": 5}, **template}})
        apply(want, c, env={})
        assert plan(want, clients(aws)).plan.empty
        (update,) = [p for op, p in sent if op == "UpdateRepositoryCreationTemplate"]
        return update

    assert update_after({"role_arn": ROLE})["customRoleArn"] == ROLE
    described = update_after({"role_arn": ROLE, "description": "cache"})
    assert "customRoleArn" not in described
    assert described["description"] == "cache [managed-by=ecrcache]"
    removed = update_after({"description": "cache"})
    assert removed["customRoleArn"] == ""  # the one place an empty role ARN goes
    (t,) = aws.client("ecr").describe_repository_creation_templates(prefixes=["quay"])[
        "repositoryCreationTemplates"
    ]
    assert not t.get("customRoleArn") and t["description"] == "cache [managed-by=ecrcache]"


def test_repository_create_sends_no_empty_members(aws: boto3.session.Session) -> None:
    # Source: botocore ECR model, CreateRepositoryRequest (KmsKey min 1; exclusion filters min 1).
    c = clients(aws)
    sent = record_requests(c)
    apply(cfg(repositories={"acme/api": {"encryption": "KMS"}}), c, env={})
    (create,) = [p for op, p in sent if op == "CreateRepository"]
    assert empty_members(create) == [] and empty_members(create["encryptionConfiguration"]) == []


@pytest.mark.parametrize(
    ("operation", "params", "member"),
    [
        (
            "create_repository",
            {"encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": ""}},
            "kmsKey",
        ),
        (
            "create_repository",
            {
                "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
                "imageTagMutabilityExclusionFilters": [],
            },
            "imageTagMutabilityExclusionFilters",
        ),
        (
            "put_image_tag_mutability",
            {
                "imageTagMutability": "MUTABLE_WITH_EXCLUSION",
                "imageTagMutabilityExclusionFilters": [],
            },
            "imageTagMutabilityExclusionFilters",
        ),
        (
            "put_image_tag_mutability",
            {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"},
            "imageTagMutabilityExclusionFilters",
        ),
        (
            "create_repository",
            {"encryptionConfiguration": {"encryptionType": "AES256", "kmsKey": "k"}},
            "kmsKey",
        ),
    ],
)
def test_sandbox_refuses_what_ecr_refuses_even_without_client_validation(
    aws: boto3.session.Session, operation: str, params: dict[str, Any], member: str
) -> None:
    # Source: botocore ECR model (KmsKey min 1; ImageTagMutabilityExclusionFilters min 1, and only
    # with a *_WITH_EXCLUSION mutability): the service enforces it for clients that do not
    # validate (AWS CLI with validation off, other SDKs, raw HTTP); moto leaves it to botocore.
    ecr = aws.client("ecr", config=BotoConfig(parameter_validation=False))
    ecr.create_repository(repositoryName="acme/x")
    name = "acme/y" if operation == "create_repository" else "acme/x"
    with pytest.raises(ClientError, match="InvalidParameterException") as err:
        getattr(ecr, operation)(repositoryName=name, **params)
    assert member in str(err.value)


@pytest.mark.parametrize("where", ["repositories", "templates"])
def test_exclusion_filters_are_cleared_and_replaced(aws: boto3.session.Session, where: str) -> None:
    # Source: botocore ECR model (ImageTagMutabilityExclusionFilters min 1: no empty list can clear
    # them; UpdateRepositoryCreationTemplate keeps omitted members, as the Terraform AWS provider's
    # update relies on), TestAccECRRepositoryCreationTemplate_mutabilityWithExclusion.
    name = "acme/api" if where == "repositories" else "quay"
    base = {"lifecycle": {"keep_last": 5}} if where == "templates" else {}

    def want(mutability: str, exclusions: list[str]) -> Any:
        settings = {"tag_mutability": mutability, "tag_mutability_exclusions": exclusions}
        return cfg(**{where: {name: {**base, **settings}}})

    def live() -> tuple[str, list[str]]:
        ecr = aws.client("ecr")
        if where == "repositories":
            obj = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        else:
            obj = ecr.describe_repository_creation_templates(prefixes=[name])[
                "repositoryCreationTemplates"
            ][0]
        filters = obj.get("imageTagMutabilityExclusionFilters") or []
        return obj["imageTagMutability"], [f["filter"] for f in filters]

    for mutability, exclusions in [
        ("IMMUTABLE_WITH_EXCLUSION", ["latest", "dev-*"]),
        ("IMMUTABLE_WITH_EXCLUSION", ["main"]),
        ("IMMUTABLE", []),
        ("MUTABLE_WITH_EXCLUSION", ["release-*"]),
        ("MUTABLE", []),
    ]:
        apply(want(mutability, exclusions), clients(aws), env={})
        assert live() == (mutability, sorted(exclusions))
        assert plan(want(mutability, exclusions), clients(aws)).plan.empty


def test_sandbox_template_update_keeps_omitted_members(aws: boto3.session.Session) -> None:
    # Source: the Terraform AWS provider's template update sends only what changed (so ECR keeps
    # what a request omits); a plain mutability is the only way to drop filters (model min 1).
    ecr = aws.client("ecr")
    filters = [{"filterType": "WILDCARD", "filter": "latest"}]
    ecr.create_repository_creation_template(
        prefix="quay",
        appliedFor=["PULL_THROUGH_CACHE"],
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=filters,
        customRoleArn=ROLE,
    )
    ecr.update_repository_creation_template(prefix="quay", description="d")
    t = ecr.update_repository_creation_template(
        prefix="quay", imageTagMutability="IMMUTABLE_WITH_EXCLUSION"
    )["repositoryCreationTemplate"]
    assert t["imageTagMutabilityExclusionFilters"] == filters and t["customRoleArn"] == ROLE
    t = ecr.update_repository_creation_template(prefix="quay", imageTagMutability="IMMUTABLE")[
        "repositoryCreationTemplate"
    ]
    assert not t.get("imageTagMutabilityExclusionFilters") and t["description"] == "d"


TAGGED_POLICY = {
    "rules": [
        {
            "rulePriority": 2,
            "description": "keep 5 release images",
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": ["v", "release", "rc"],
                "countType": "imageCountMoreThan",
                "countNumber": 5,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 1,
            "description": "keep 3 main images",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["main-*", "*-stable"],
                "countType": "imageCountMoreThan",
                "countNumber": 3,
            },
            "action": {"type": "expire"},
        },
    ]
}


def test_lifecycle_read_back_with_reordered_tag_lists_is_equal(aws: boto3.session.Session) -> None:
    # Source: the Terraform AWS provider compares lifecycle policies with tagPrefixList and
    # tagPatternList sorted and rules by priority (equivalentLifecyclePolicyJSON;
    # TestAccECRLifecyclePolicy_ignoreEquivalent applies ["first","second","third"], then plans
    # ["third","first","second"] and expects no change, against real accounts).
    want = cfg(repositories={"acme/api": {"lifecycle": {"policy": json.dumps(TAGGED_POLICY)}}})
    apply(want, clients(aws))
    reordered = json.loads(json.dumps(TAGGED_POLICY))
    reordered["rules"].reverse()
    for rule in reordered["rules"]:
        for key in ("tagPrefixList", "tagPatternList"):
            if key in rule["selection"]:
                rule["selection"][key].reverse()
    aws.client("ecr").put_lifecycle_policy(
        repositoryName="acme/api", lifecyclePolicyText=json.dumps(reordered, indent=2)
    )
    assert plan(want, clients(aws)).plan.empty
    assert lifecycle.normalise(reordered) == lifecycle.normalise(TAGGED_POLICY)
    changed = json.loads(json.dumps(TAGGED_POLICY))
    changed["rules"][0]["selection"]["tagPrefixList"] = ["v", "release"]
    assert lifecycle.normalise(changed) != lifecycle.normalise(TAGGED_POLICY)


def test_sandbox_returns_lifecycle_policies_as_ecr_serialises_them(
    aws: boto3.session.Session,
) -> None:
    # Source: awscli/examples/ecr/put-lifecycle-policy.rst (an indented file in, compact JSON in
    # ECR's key order out); the Terraform provider's docs: "The AWS ECR API seems to reorder rules
    # based on rulePriority" (hashicorp/terraform-provider-aws#22639).
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="acme/api")
    sent = json.dumps(TAGGED_POLICY, indent=4, sort_keys=True)
    out = ecr.put_lifecycle_policy(repositoryName="acme/api", lifecyclePolicyText=sent)
    text = ecr.get_lifecycle_policy(repositoryName="acme/api")["lifecyclePolicyText"]
    assert out["lifecyclePolicyText"] == text != sent
    assert " " not in text.replace("keep 5 release images", "").replace("keep 3 main images", "")
    doc = json.loads(text)
    assert [r["rulePriority"] for r in doc["rules"]] == [1, 2]
    assert list(doc["rules"][0]) == ["rulePriority", "description", "selection", "action"]
    assert next(iter(doc["rules"][0]["selection"])) == "tagStatus"


def _botocore_table() -> list[tuple[str, str, str]]:
    """(region, partition, DNS suffix) for every region botocore's endpoints.json lists: a second
    botocore data file, resolved by botocore's own Session.get_partition_for_region."""
    session = botocore.session.Session()
    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    out = []
    for p in endpoints["partitions"]:
        for region in p["regions"]:
            out.append((region, session.get_partition_for_region(region), p["dnsSuffix"]))
    return out


BOTOCORE_TABLE = _botocore_table()


def test_every_partition_botocore_knows_is_covered() -> None:
    # Source: botocore/data/partitions.json and endpoints.json (the same partitions, two files).
    assert {pid for _, pid, _ in BOTOCORE_TABLE} == {p.id for p in partitions()}
    assert {"aws", "aws-cn", "aws-us-gov", "aws-eusc", "aws-iso", "aws-iso-b"} <= {
        p.id for p in partitions()
    }


@pytest.mark.parametrize(("region", "pid", "suffix"), BOTOCORE_TABLE)
def test_region_maps_to_botocores_partition_and_dns_suffix(
    region: str, pid: str, suffix: str
) -> None:
    # Source: botocore's own partition resolution over its endpoints.json.
    assert (partition(region), dns_suffix(region)) == (pid, suffix)


@pytest.mark.parametrize(
    ("region", "pid", "host"),
    [
        ("af-south-1", "aws", f"{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com"),
        ("us-gov-west-1", "aws-us-gov", f"{ACCOUNT}.dkr.ecr.us-gov-west-1.amazonaws.com"),
        ("cn-north-1", "aws-cn", f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn"),
        ("eusc-de-east-1", "aws-eusc", f"{ACCOUNT}.dkr.ecr.eusc-de-east-1.amazonaws.eu"),
        ("us-iso-east-1", "aws-iso", f"{ACCOUNT}.dkr.ecr.us-iso-east-1.c2s.ic.gov"),
        # Not yet listed regions fall to their partition's pattern, as botocore resolves them.
        ("eusc-de-west-9", "aws-eusc", f"{ACCOUNT}.dkr.ecr.eusc-de-west-9.amazonaws.eu"),
        ("us-isob-west-7", "aws-iso-b", f"{ACCOUNT}.dkr.ecr.us-isob-west-7.sc2s.sgov.gov"),
    ],
)
def test_known_regions_by_hand(region: str, pid: str, host: str) -> None:
    # Source: ECR-FACTS §7 (China .com.cn, GovCloud .com, EU sovereign aws-eusc .eu) and
    # botocore/data/partitions.json (regionRegex, dnsSuffix).
    assert partition(region) == pid
    assert registry_host(ACCOUNT, region) == host


def test_archived_images_and_the_managed_key_survive_the_state_file(aws_env: Path) -> None:
    # The sandbox keeps state between invocations (sandbox/statefile.py pickles moto's backends).
    from ecrcache.sandbox.runtime import open_sandbox

    with open_sandbox(region=REGION, state_path=aws_env) as session:
        ecr = session.client("ecr")
        ecr.create_repository(
            repositoryName="acme/old", encryptionConfiguration={"encryptionType": "KMS"}
        )
        ecr.put_image(repositoryName="acme/old", imageManifest=MANIFEST, imageTag="v1")
        ecr.update_image_storage_class(
            repositoryName="acme/old", imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
        )
    with open_sandbox(region=REGION, state_path=aws_env) as session:
        ecr = session.client("ecr")
        assert ecr.list_images(repositoryName="acme/old")["imageIds"] == []
        (detail,) = ecr.describe_images(repositoryName="acme/old", filter={"imageStatus": "ANY"})[
            "imageDetails"
        ]
        assert detail["imageStatus"] == "ARCHIVED"
        (repo,) = ecr.describe_repositories()["repositories"]
        key = repo["encryptionConfiguration"]["kmsKey"]
        meta = session.client("kms").describe_key(KeyId=key)["KeyMetadata"]
        assert meta["KeyManager"] == "AWS"


def test_server_mode_serves_storage_classes_and_lifecycle_form(aws: boto3.session.Session) -> None:
    # moto's ThreadedMotoServer (same process): the patches are class-level, so HTTP sees them.
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        ecr = boto3.client("ecr", region_name=REGION, endpoint_url=f"http://{host}:{port}")
        ecr.create_repository(repositoryName="acme/old")
        ecr.put_image(repositoryName="acme/old", imageManifest=MANIFEST, imageTag="v1")
        out = ecr.update_image_storage_class(
            repositoryName="acme/old", imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
        )
        assert out["imageStatus"] == "ARCHIVED"
        assert ecr.list_images(repositoryName="acme/old")["imageIds"] == []
        ecr.put_lifecycle_policy(
            repositoryName="acme/old", lifecyclePolicyText=json.dumps(TAGGED_POLICY, indent=2)
        )
        text = ecr.get_lifecycle_policy(repositoryName="acme/old")["lifecyclePolicyText"]
        assert [r["rulePriority"] for r in json.loads(text)["rules"]] == [1, 2]
    finally:
        server.stop()


@pytest.mark.parametrize(
    "host",
    [
        "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
        "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn",
        "111122223333.dkr.ecr.eusc-de-east-1.amazonaws.eu",
        "111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
        "111122223333.dkr.ecr.us-iso-east-1.c2s.ic.gov",
    ],
)
def test_ecr_registry_hosts_of_every_partition_are_recognised(host: str) -> None:
    # Source: botocore/data/partitions.json dnsSuffix (the registry host is
    # <account>.dkr.ecr.<region>.<dnsSuffix>); the sandbox accepts them as ECR does.
    from ecrcache.config.upstreams import kind_for_host
    from ecrcache.doctor.files import is_ecr
    from ecrcache.sandbox.constraints import upstream_for_url

    assert kind_for_host(host) == "ecr" and upstream_for_url(host) == "ecr" and is_ecr(host)
    assert kind_for_host(host + ".example.com") is None


@pytest.mark.parametrize("kms_key", [None, ""])
def test_pull_through_a_kms_template_without_a_key_uses_the_aws_managed_key(
    aws: boto3.session.Session, kms_key: str | None
) -> None:
    # Source: botocore ECR model, EncryptionConfigurationForRepositoryCreationTemplate (KMS with
    # the default AWS-managed key, or your own; kmsKey pattern "^$|arn:..." allows ""), and the
    # repository ECR creates then carries that key's ARN (as CreateRepository's does).
    from ecrcache.sandbox.pulls import simulate_pull

    ecr = aws.client("ecr")
    encryption = {"encryptionType": "KMS"} | ({} if kms_key is None else {"kmsKey": kms_key})
    ecr.create_repository_creation_template(
        prefix="quay", appliedFor=["PULL_THROUGH_CACHE"], encryptionConfiguration=encryption
    )
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io")
    simulate_pull(account_id=ACCOUNT, region=REGION, repository="quay/org/app")
    (repo,) = ecr.describe_repositories(repositoryNames=["quay/org/app"])["repositories"]
    key = repo["encryptionConfiguration"]["kmsKey"]
    assert aws.client("kms").describe_key(KeyId=key)["KeyMetadata"]["KeyManager"] == "AWS"


# ================================================================================================
# 9. repeated calls after a lost response
# Real-AWS answers to a repeated call (a retry after a lost response) that moto 5.2 lacks; the
# sandbox gives them (src/ecrcache/sandbox/secret_deletion.py, iam_policy_deletion.py). One test
# per behaviour, each naming its source.
# ================================================================================================


DOC = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}],
    }
)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def test_delete_secret_of_a_secret_already_scheduled_for_deletion(
    aws: boto3.session.Session,
) -> None:
    # Source: botocore's model, secretsmanager 2017-10-17: DeleteSecret declares
    # InvalidRequestException, whose first listed cause is "The secret is scheduled for
    # deletion"; the message is the one AWS gives every operation on a secret in its recovery
    # window (external-secrets/kubernetes-external-secrets issue 114; Terraform AWS provider,
    # secretsmanager/secret_policy.go matches it).
    sm = aws.client("secretsmanager")
    sm.create_secret(Name="ecr-pullthroughcache/x", SecretString="v")
    sm.delete_secret(SecretId="ecr-pullthroughcache/x", RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as exc:
        sm.delete_secret(SecretId="ecr-pullthroughcache/x", RecoveryWindowInDays=7)
    assert _error(exc) == (
        "InvalidRequestException",
        "You can't perform this operation on the secret because it was marked for deletion.",
    )
    # ForceDeleteWithoutRecovery still deletes it at once, as on AWS
    sm.delete_secret(SecretId="ecr-pullthroughcache/x", ForceDeleteWithoutRecovery=True)


def test_delete_policy_refuses_a_policy_with_other_versions(aws: boto3.session.Session) -> None:
    # Source: IAM API reference, DeletePolicy ("you must delete all the policy's versions"),
    # DeleteConflict with the message the AWS CLI prints; the Terraform AWS provider deletes
    # the non-default versions first (iam/policy.go, resourcePolicyDelete).
    iam = aws.client("iam")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=DOC)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=DOC, SetAsDefault=True)
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert _error(exc) == (
        "DeleteConflict",
        "This policy has more than one version. Before you delete a policy, you must delete the "
        "policy's versions. The default version is deleted with the policy.",
    )
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as gone:
        iam.delete_policy(PolicyArn=arn)
    assert _error(gone)[0] == "NoSuchEntity"  # a repeat of a delete that went through


def test_delete_policy_refuses_a_policy_still_attached(aws: boto3.session.Session) -> None:
    # Source: IAM API reference, DeletePolicy ("you must first detach the policy from all users,
    # groups, and roles"), DeleteConflict "Cannot delete a policy attached to entities."
    iam = aws.client("iam")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=DOC)["Policy"]["Arn"]
    iam.create_user(UserName="ci")
    iam.attach_user_policy(UserName="ci", PolicyArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert _error(exc) == ("DeleteConflict", "Cannot delete a policy attached to entities.")
    iam.detach_user_policy(UserName="ci", PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
