"""``export cloudformation`` against apply: the template passes cfn-lint, and declares, resource
by resource, exactly the properties apply sends for the same config (apply's requests are
captured against moto with ecrcache's extension, then mapped through export/cfn_mapping's table).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from cfnlint.api import ManualArgs, lint
from reconcile_support import ACCOUNT, ENV, REGION, TOKEN, apply, clients, example_roles, make_roles

from ecrcache import aws
from ecrcache.config.loading import load_config, parse_config
from ecrcache.config.schema import Config
from ecrcache.export.cfn_mapping import MAPPING, NOT_IN_CLOUDFORMATION, cfn_properties
from ecrcache.export.cloudformation import cloudformation_template, to_yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
TEMPLATE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecr-template"
UPSTREAM_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecr-ptc-upstream"
PULLER = f"arn:aws:iam::{ACCOUNT}:role/eks-node"
EXISTING = "ecr-pullthroughcache/existing"
USERNAME = "robot$acme+ci"  # a username read from a source, with characters JSON keeps as-is
REPO_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "read",
            "Effect": "Allow",
            "Principal": {"AWS": PULLER},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        }
    ],
}
Call = tuple[str, str, dict[str, Any]]


def every_kind(kms_key: str) -> Config:
    """A config with every kind and every optional member apply can send."""
    return parse_config(
        {
            "region": REGION,
            "rules": {
                "hub": {
                    "upstream": "docker-hub",
                    "credentials": {
                        "secret": "ecr-pullthroughcache/hub",
                        "username": "acme-ci",
                        "token": {"env": "TOK"},
                    },
                },
                "ghcr": {
                    "upstream": "github-container-registry",
                    "credentials": {
                        "secret": "ecr-pullthroughcache/ghcr",
                        "username": {"env": "GH_USER"},
                        "token": {"env": "TOK"},
                    },
                },
                "gitlab": {
                    "upstream": "gitlab-container-registry",
                    "credentials": {"secret": EXISTING},  # referenced, not managed
                },
                "quay": {"upstream": "quay"},
                "mirror": {
                    "upstream": "ecr",
                    "url": "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
                    "role_arn": UPSTREAM_ROLE,
                    "upstream_prefix": "base",
                },
            },
            "templates": {
                "ROOT": {"lifecycle": {"keep_last": 30, "expire_untagged_after_days": 7}},
                "hub": {
                    "description": "Docker Hub cache",
                    "applied_for": ["PULL_THROUGH_CACHE", "CREATE_ON_PUSH"],
                    "encryption": "KMS",
                    "kms_key": kms_key,
                    "tag_mutability": "IMMUTABLE_WITH_EXCLUSION",
                    "tag_mutability_exclusions": ["latest", "dev-*"],
                    "tags": {"team": "platform", "cost-centre": "42"},
                    "repository_policy": json.dumps(REPO_POLICY),
                    "role_arn": TEMPLATE_ROLE,
                    "lifecycle": {"expire_untagged_after_days": 3},
                },
            },
            "repositories": {
                "acme/api": {
                    "tag_mutability": "IMMUTABLE",
                    "scan_on_push": True,
                    "tags": {"team": "platform"},
                    "lifecycle": {"keep_last": 10},
                },
                "acme/web": {
                    "encryption": "KMS",
                    "kms_key": kms_key,
                    "tag_mutability": "MUTABLE_WITH_EXCLUSION",
                    "tag_mutability_exclusions": ["release-*"],
                },
                "acme/plain": {},
            },
            "scanning": {
                "type": "ENHANCED",
                "rules": [
                    {"frequency": "CONTINUOUS_SCAN", "filters": ["acme/*"]},
                    {"frequency": "SCAN_ON_PUSH", "filters": ["*"]},
                ],
            },
            "pullers": {"principals": [PULLER]},
            "ci_policy": {"name": "ecrcache-ci"},
        }
    )


@pytest.fixture
def account(aws: boto3.session.Session) -> Iterator[tuple[boto3.session.Session, str, str]]:
    """The sandbox account with what the config names but does not make: roles, a KMS key and
    the secret it only references. Yields (session, the KMS key ARN, that secret's ARN)."""
    make_roles(aws, [TEMPLATE_ROLE, UPSTREAM_ROLE, PULLER])
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    existing = aws.client("secretsmanager").create_secret(
        Name=EXISTING, SecretString='{"username":"u","accessToken":"t"}'
    )["ARN"]
    yield aws, key, existing


def capture_apply(
    session: boto3.session.Session, cfg: Config, env: dict[str, str] | None = None
) -> list[Call]:
    """Apply ``cfg`` to the account; every mutating request apply sent, with its parameters."""
    calls: list[Call] = []

    def observe(_: Any, service: str, operation: str, params: dict[str, Any]) -> None:
        if not operation.startswith(aws.READ_PREFIXES):
            calls.append((service, operation, copy.deepcopy(params)))

    aws.CALL_OBSERVERS.append(observe)
    try:
        apply(cfg, clients(session), env or {**ENV, "GH_USER": USERNAME})
    finally:
        aws.CALL_OBSERVERS.remove(observe)
    return calls


def resolve(value: Any, names: dict[str, str], resources: dict[str, Any]) -> Any:
    """CloudFormation's Ref and Fn::Sub, as a stack would evaluate them: parameters and pseudo
    parameters from ``names``, a secret resource's Ref is its ARN (from ``names`` by its Name)."""
    if isinstance(value, dict) and list(value) == ["Ref"]:
        ref = value["Ref"]
        if ref in resources:
            assert resources[ref]["Type"] == "AWS::SecretsManager::Secret"
            return names[resources[ref]["Properties"]["Name"]]
        return names[ref]
    if isinstance(value, dict) and list(value) == ["Fn::Sub"]:

        def one(m: re.Match[str]) -> str:
            return "${" + m[1][1:] + "}" if m[1].startswith("!") else names[m[1]]

        return re.sub(r"\$\{([^}]+)\}", one, value["Fn::Sub"])
    if isinstance(value, dict):
        return {k: resolve(v, names, resources) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, names, resources) for v in value]
    return value


def _identity(resource_type: str, props: dict[str, Any]) -> str | None:
    for (_, _), m in MAPPING.items():
        if m.resource_type == resource_type and m.identity is not None:
            return str(props[m.fields[m.identity]])
    return None


def sent_as_cloudformation(calls: list[Call]) -> dict[tuple[str, str | None], dict[str, Any]]:
    """apply's requests as CloudFormation resources: (type, name) → properties."""
    out: dict[tuple[str, str | None], dict[str, Any]] = {}
    for service, operation, params in calls:
        assert (service, operation) in MAPPING, f"{service}.{operation} has no CloudFormation form"
        m = MAPPING[(service, operation)]
        props = cfn_properties(service, operation, params)
        out.setdefault((m.resource_type, _identity(m.resource_type, props)), {}).update(props)
    return out


def declared(template: dict[str, Any], names: dict[str, str]) -> dict[Any, dict[str, Any]]:
    resources = template["Resources"]
    out = {}
    for r in resources.values():
        props = resolve(r["Properties"], names, resources)
        out[(r["Type"], _identity(r["Type"], props))] = props
    return out


def lint_errors(template: dict[str, Any]) -> list[str]:
    matches = lint(to_yaml(template), config=ManualArgs(regions=[REGION]))
    return [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches]


def matched(
    session: boto3.session.Session,
    cfg: Config,
    env: dict[str, str],
    parameters: dict[str, str],
    *,
    account: str = ACCOUNT,
) -> dict[tuple[str, str | None], dict[str, Any]]:
    """Apply ``cfg`` (``session``: in ``account``); assert the template declares the same
    resources with the same properties (both ways: none missing, none extra). ``parameters``:
    the stack's parameter values by suffix. Returns the resources, as apply sent them."""
    calls = capture_apply(session, cfg, env)
    template = cloudformation_template(cfg, region=REGION)
    sm = session.client("secretsmanager")
    managed = [  # the secrets the stack makes: their Ref is their ARN
        r["Properties"]["Name"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SecretsManager::Secret"
    ]
    names = {
        "AWS::AccountId": account,
        **{n: sm.describe_secret(SecretId=n)["ARN"] for n in managed},
        **{
            p: value
            for p in template.get("Parameters", {})
            for suffix, value in parameters.items()
            if p.endswith(suffix)
        },
    }
    assert set(template.get("Parameters", {})) <= set(names)
    want = sent_as_cloudformation(calls)
    have = declared(template, names)
    assert sorted(have, key=str) == sorted(want, key=str)  # the same resources
    for resource in want:
        assert have[resource] == want[resource], resource  # the same properties, both ways
    return want


def test_the_example_template_declares_what_apply_sends(aws: boto3.session.Session) -> None:
    example_roles(aws)
    env = {"DOCKERHUB_TOKEN": TOKEN, "GHCR_TOKEN": TOKEN}
    want = matched(aws, load_config(EXAMPLE), env, {"Token": TOKEN})
    assert len(want) == 13


def test_the_template_declares_what_apply_sends(
    account: tuple[boto3.session.Session, str, str],
) -> None:
    session, key, existing = account
    want = matched(
        session,
        every_kind(key),
        {**ENV, "GH_USER": USERNAME},
        {"Token": TOKEN, "GhcrUsername": USERNAME, "ExistingArn": existing},
    )
    # every kind took part: 2 managed secrets, 5 rules, 2 templates, 3 repositories, 3 singles
    kinds = [t for t, _ in want]
    assert {t: kinds.count(t) for t in set(kinds)} == {
        "AWS::SecretsManager::Secret": 2,
        "AWS::ECR::PullThroughCacheRule": 5,
        "AWS::ECR::RepositoryCreationTemplate": 2,
        "AWS::ECR::Repository": 3,
        "AWS::ECR::RegistryScanningConfiguration": 1,
        "AWS::ECR::RegistryPolicy": 1,
        "AWS::IAM::ManagedPolicy": 1,
    }


def test_what_has_no_cloudformation_property_is_listed(
    account: tuple[boto3.session.Session, str, str],
) -> None:
    """Exactly the parameters NOT_IN_CLOUDFORMATION lists are sent and left out of the template,
    and the CloudFormation schema indeed has no property for them."""
    session, key, _ = account
    calls = capture_apply(session, every_kind(key))
    unmapped = {
        (s, o, p) for s, o, params in calls for p in params if p not in MAPPING[(s, o)].fields
    }
    assert unmapped == set(NOT_IN_CLOUDFORMATION)
    policy = _schema("AWS::IAM::ManagedPolicy")
    assert "Tags" not in policy["properties"]
    sent = next(params for s, o, params in calls if (s, o) == ("iam", "CreatePolicy"))
    assert sent["Tags"] == [{"Key": "managed-by", "Value": "ecrcache"}]


def _schema(resource_type: str) -> dict[str, Any]:
    from importlib import import_module

    import cfnlint

    types = import_module("cfnlint.data.schemas.providers.us_east_1").types
    path = Path(cfnlint.__file__).parent / "data/schemas/resources" / f"{types[resource_type]}.json"
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


@pytest.mark.parametrize(("key", "m"), list(MAPPING.items()), ids=lambda v: str(v))
def test_each_mapped_property_is_in_the_resource_schema(key: Any, m: Any) -> None:
    """The table's property names are the CloudFormation schema's (cfn-lint's copy of the
    CloudFormation registry schemas), nested ones through their definitions."""
    schema = _schema(m.resource_type)
    for path in m.fields.values():
        node = schema
        for part in path.split("."):
            props = node.get("properties", {})
            assert part in props, f"{m.resource_type} has no {path}"
            node = props[part]
            if "$ref" in node:
                node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]


def test_the_example_template_passes_cfn_lint() -> None:
    template = cloudformation_template(load_config(EXAMPLE), region=REGION)
    assert lint_errors(template) == []
    assert len(template["Resources"]) == 13


def test_the_every_kind_template_passes_cfn_lint() -> None:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert lint_errors(cloudformation_template(every_kind(key), region=REGION)) == []


def test_cfn_lint_sees_a_wrong_property() -> None:
    """The lint really checks: a misspelt property is an error."""
    template = cloudformation_template(load_config(EXAMPLE), region=REGION)
    template["Resources"]["RuleQuay"]["Properties"]["UpstreamRegistryURL"] = "quay.io"
    assert any(e.startswith("E3002") for e in lint_errors(template))


def test_no_secret_and_no_account_in_the_template() -> None:
    """Tokens are NoEcho parameters, never values; the deploying account is ${AWS::AccountId}
    (the config names 123456789012 only as a puller's account)."""
    cfg = every_kind(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k")
    template = cloudformation_template(cfg, region=REGION)
    text = to_yaml(template)
    assert TOKEN not in text and "accessToken" in text
    tokens = {k: v for k, v in template["Parameters"].items() if k.endswith(("Token", "Username"))}
    assert len(tokens) == 3 and all(p["NoEcho"] is True for p in tokens.values())
    arn = template["Parameters"]["SecretEcrPullthroughcacheExistingArn"]
    assert "NoEcho" not in arn and arn["Type"] == "String"
    policy = yaml.safe_load(text)["Resources"]["CiPolicyEcrcacheCi"]["Properties"]
    assert "${AWS::AccountId}" in json.dumps(policy["PolicyDocument"])
