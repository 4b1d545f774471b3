"""Desired state → a CloudFormation template, for rolling the cache out with StackSets.

The template is the config's desired state (``reconcile.desired``), resource by resource, with
the properties apply sends (``cfn_mapping`` is the table; the tests prove the agreement against
the sandbox). It is account-neutral: every ARN of the deploying account is written with
``${AWS::AccountId}`` (``Fn::Sub``), so one template serves every account of a StackSet. Secret
values are never in it: a managed secret's token (and a username read from a source) is a
``NoEcho`` parameter; a secret the config only references is a parameter holding its ARN.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from ecrcache.config.rules import CredentialsConfig
from ecrcache.config.schema import Config
from ecrcache.reconcile.desired import desired_state, secret_json
from ecrcache.reconcile.desired_hub import local_view
from ecrcache.reconcile.resources import MANAGED_TAGS, Repository, Rule, Template

# desired_state writes this where the account ID goes; Fn::Sub fills it in per stack instance.
ACCOUNT = "${AWS::AccountId}"
# The descriptions apply gives what it creates (handlers/secrets.py, handlers/iam.py).
SECRET_DESCRIPTION = "Upstream registry credentials for an ECR pull-through cache rule"
CI_POLICY_DESCRIPTION = "ecrcache: least privilege for CI/CD on the ECR pull-through cache"
SECRET_ARN_PATTERN = r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$"
# Plain words secret_json's JSON escaping keeps as they are, replaced by parameter references.
_USER_MARK, _TOKEN_MARK = "ECRCACHEUSERMARK", "ECRCACHETOKENMARK"
# Resources that hold data: a deleted stack (or a replaced resource) leaves them in place, as
# apply never deletes without --prune.
_RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def cloudformation_template(config: Config, *, region: str) -> dict[str, Any]:
    """The template (a dict in CloudFormation's JSON form) for ``config`` in ``region``."""
    state = desired_state(config, {}, account_id=ACCOUNT, region=region)
    ids = _LogicalIds()
    params: dict[str, Any] = {}
    resources: dict[str, Any] = {}
    secret_refs: dict[str, Any] = {}
    for cred in _credentials(local_view(config)):  # a spoke's secrets are the hub's
        secret_refs[cred.secret] = _secret(cred, ids, params, resources)
    for rule in state.rules.values():
        resources[ids.of("Rule", rule.prefix)] = _resource(
            "AWS::ECR::PullThroughCacheRule", _rule(rule, secret_refs)
        )
    for t in state.templates.values():
        resources[ids.of("Template", t.prefix)] = _resource(
            "AWS::ECR::RepositoryCreationTemplate", _template(t)
        )
    for r in state.repositories.values():
        resources[ids.of("Repository", r.name)] = {
            **_resource("AWS::ECR::Repository", _repository(r)),
            **_RETAIN,
        }
    for s in state.scanning.values():
        rules = [
            {
                "ScanFrequency": r.frequency,
                "RepositoryFilters": [{"Filter": f, "FilterType": "WILDCARD"} for f in r.filters],
            }
            for r in s.rules
        ]
        resources["RegistryScanningConfiguration"] = _resource(
            "AWS::ECR::RegistryScanningConfiguration", {"ScanType": s.scan_type, "Rules": rules}
        )
    for p in state.registry_policy.values():
        doc = {"Version": "2012-10-17", "Statement": [json.loads(s) for s in p.statements]}
        resources["RegistryPolicy"] = _resource("AWS::ECR::RegistryPolicy", {"PolicyText": doc})
    for i in state.iam_policies.values():
        resources[ids.of("CiPolicy", i.name)] = _resource(
            "AWS::IAM::ManagedPolicy",
            {
                "ManagedPolicyName": i.name,
                "Description": CI_POLICY_DESCRIPTION,
                "PolicyDocument": json.loads(i.document),
            },
        )
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"ecrcache: the ECR pull-through cache of one account, in {region}",
    }
    if params:
        template["Parameters"] = params
    template["Resources"] = _sub(resources)
    return template


def to_yaml(template: dict[str, Any]) -> str:
    """The template as YAML, in CloudFormation's long form (``Fn::Sub:``, ``Ref:``)."""
    return yaml.safe_dump(template, sort_keys=False, width=100, allow_unicode=True)


def _credentials(config: Config) -> list[CredentialsConfig]:
    seen: dict[str, CredentialsConfig] = {}
    for rule in config.rule_list:
        if rule.credentials is not None:
            seen.setdefault(rule.credentials.secret, rule.credentials)
    return list(seen.values())


def _secret(
    cred: CredentialsConfig, ids: _LogicalIds, params: dict[str, Any], resources: dict[str, Any]
) -> Any:
    """Declare one secret (parameters and, when ecrcache manages it, the resource); return what
    a rule's CredentialArn holds: a Ref to the secret resource (Ref of an
    AWS::SecretsManager::Secret is its ARN: the schema's primaryIdentifier, /properties/Id) or
    to the ARN parameter."""
    logical = ids.of("Secret", cred.secret)
    if not cred.managed:
        name = ids.unique(f"{logical}Arn")  # parameters share the resources' namespace
        params[name] = {
            "Type": "String",
            "AllowedPattern": SECRET_ARN_PATTERN,
            "Description": f"The ARN of the existing secret {cred.secret} (in this account)",
        }
        return {"Ref": name}
    token = ids.unique(f"{logical}Token")
    params[token] = _no_echo(f"The upstream access token of the secret {cred.secret}")
    if isinstance(cred.username, str):
        user_text, user_ref = cred.username, None
    else:
        user_text, user_ref = _USER_MARK, ids.unique(f"{logical}Username")
        params[user_ref] = _no_echo(f"The upstream username of the secret {cred.secret}")
    # secret_json is the body apply writes (JSON-escaped)
    body = _escape(secret_json(user_text, _TOKEN_MARK)).replace(_TOKEN_MARK, "${" + token + "}")
    if user_ref is not None:
        body = body.replace(_USER_MARK, "${" + user_ref + "}")
    resources[logical] = {
        **_resource(
            "AWS::SecretsManager::Secret",
            {
                "Name": cred.secret,
                "Description": SECRET_DESCRIPTION,
                "SecretString": {"Fn::Sub": body},
                "Tags": _tags(MANAGED_TAGS),
            },
        ),
        **_RETAIN,
    }
    return {"Ref": logical}


def _no_echo(description: str) -> dict[str, Any]:
    return {"Type": "String", "NoEcho": True, "MinLength": 1, "Description": description}


def _rule(rule: Rule, secret_refs: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {
        "EcrRepositoryPrefix": rule.prefix,
        "UpstreamRegistryUrl": rule.url,
        "UpstreamRegistry": rule.upstream,
    }
    if rule.credential is not None:
        props["CredentialArn"] = secret_refs[rule.credential]
    if rule.role_arn is not None:
        props["CustomRoleArn"] = rule.role_arn
    if rule.upstream_prefix != "ROOT":  # apply sends it only when not the default
        props["UpstreamRepositoryPrefix"] = rule.upstream_prefix
    return props


def _encryption(encryption: str, kms_key: str | None) -> dict[str, Any]:
    enc: dict[str, Any] = {"EncryptionType": encryption}
    if kms_key:
        enc["KmsKey"] = kms_key
    return enc


def _mutability_filters(patterns: tuple[str, ...]) -> list[dict[str, str]]:
    return [
        {
            "ImageTagMutabilityExclusionFilterType": "WILDCARD",
            "ImageTagMutabilityExclusionFilterValue": p,
        }
        for p in patterns
    ]


def _tags(tags: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def _template(t: Template) -> dict[str, Any]:
    """As handlers/templates.py's create sends it: only the members the template sets."""
    props: dict[str, Any] = {
        "Prefix": t.prefix,
        "EncryptionConfiguration": _encryption(t.encryption, t.kms_key),
        "AppliedFor": list(t.applied_for),
        "ImageTagMutability": t.tag_mutability,
    }
    optional = {
        "ImageTagMutabilityExclusionFilters": _mutability_filters(t.tag_mutability_exclusions),
        "Description": t.description,
        "ResourceTags": _tags(t.resource_tags),
        "RepositoryPolicy": t.repository_policy,
        "LifecyclePolicy": t.lifecycle_policy,
        "CustomRoleArn": t.role_arn,
    }
    props.update({k: v for k, v in optional.items() if v})
    return props


def _repository(r: Repository) -> dict[str, Any]:
    """As handlers/repositories.py's create (and its lifecycle put) send it."""
    props: dict[str, Any] = {
        "RepositoryName": r.name,
        "ImageTagMutability": r.tag_mutability,
        "ImageScanningConfiguration": {"ScanOnPush": r.scan_on_push},
        "EncryptionConfiguration": _encryption(r.encryption, r.kms_key),
    }
    if r.tags:
        props["Tags"] = _tags(r.tags)
    if r.tag_mutability_exclusions:
        props["ImageTagMutabilityExclusionFilters"] = _mutability_filters(
            r.tag_mutability_exclusions
        )
    if r.lifecycle_policy:
        props["LifecyclePolicy"] = {"LifecyclePolicyText": r.lifecycle_policy}
    return props


def _resource(kind: str, props: dict[str, Any]) -> dict[str, Any]:
    return {"Type": kind, "Properties": props}


def _escape(text: str) -> str:
    """Text for inside ``Fn::Sub``: a literal ``${`` is written ``${!``."""
    return text.replace("${", "${!")


def _sub(value: Any) -> Any:
    """Wrap each string that names the deploying account in ``Fn::Sub`` (others stay literal).
    Intrinsic functions already in place (a dict with one ``Fn::``/``Ref`` key) are kept."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("Ref", "Fn::Sub"):
            return value
        return {k: _sub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub(v) for v in value]
    if isinstance(value, str) and ACCOUNT in value:
        return {"Fn::Sub": _escape(value).replace(_escape(ACCOUNT), ACCOUNT)}
    return value


class _LogicalIds:
    """CloudFormation logical IDs (alphanumeric, unique) from resource names, deterministic."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def of(self, kind: str, name: str) -> str:
        """``kind`` and ``name`` in CamelCase, e.g. ("Rule", "docker-hub") → RuleDockerHub."""
        return self.unique(
            kind + "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", name))
        )

    def unique(self, base: str) -> str:
        """``base``, or ``base`` with a number when taken (the limit is 255 characters)."""
        base = base[:200]
        out, n = base, 2
        while out in self._used:
            out, n = f"{base}{n}", n + 1
        self._used.add(out)
        return out
