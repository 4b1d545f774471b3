"""Real-AWS behaviours of secrets and IAM principals that moto lacks, one test each, each naming
its source. The sandbox has them (sandbox/secrets_consistency.py, principal_validation.py)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from reconcile_support import ACCOUNT, REGION, apply, clients, config, cred, plan

from ecrcache.config import parse_config
from ecrcache.errors import ApplyError
from ecrcache.iam_propagation import IAM_PROPAGATION_DELAYS
from ecrcache.plan import Action
from ecrcache.sandbox import principal_validation, secrets_consistency
from ecrcache.state import list_secrets

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
    assert [(f.before, f.after) for f in rule.fields] == [(old, "(known after apply)")]
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
    # satisfy constraint: 'Principal not found'". Another account's principals cannot be checked
    # from this one, and account IDs and root ARNs always resolve.
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
        "arn:aws:iam::111122223333:role/elsewhere",
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
    """Wall time plus whatever apply's injected back-off slept."""

    def __init__(self) -> None:
        import time

        self.start, self.slept = time.time(), 0.0

    def now(self) -> float:
        return self.start + self.slept

    def sleep(self, seconds: float) -> None:
        self.slept += seconds


def test_apply_retries_while_iam_propagates_a_new_puller_role(aws: boto3.session.Session) -> None:
    # Terraform's aws_ecr_repository_policy retries on this error "due to IAM eventual
    # consistency" for two minutes (resource_aws_ecr_repository_policy.go; repository_policy.go,
    # internal/service/ecr/consts.go propagationTimeout): a role created moments ago reaches ECR
    # a few seconds later (terraform-provider-aws#39064: "Running it a second time succeeds").
    from ecrcache.apply import ApplyContext, run

    clock = _Clock()
    principal_validation.set_propagation(10, clock=clock.now)
    aws.client("iam").create_role(RoleName="eks-node", AssumeRolePolicyDocument="{}")
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
