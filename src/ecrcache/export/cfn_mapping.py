"""Which request parameter ``apply`` sends becomes which CloudFormation property: one table.

Property names are those of the CloudFormation resource schemas (the registry schemas cfn-lint
ships: cfnlint/data/schemas/resources, looked up through providers/us_east_1.py's ``types``):
AWS::ECR::PullThroughCacheRule, AWS::ECR::RepositoryCreationTemplate, AWS::ECR::Repository
(with its LifecyclePolicy.LifecyclePolicyText), AWS::ECR::RegistryScanningConfiguration,
AWS::ECR::RegistryPolicy, AWS::IAM::ManagedPolicy, AWS::SecretsManager::Secret. The API names
are botocore's service models (data/ecr, secretsmanager, iam service-2.json). The same names are
in the CloudFormation Template Reference, e.g.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecr-pullthroughcacherule.html
(and aws-resource-ecr-repositorycreationtemplate, -ecr-repository, -ecr-registrypolicy,
-ecr-registryscanningconfiguration, -iam-managedpolicy, -secretsmanager-secret).

``cloudformation.py`` builds the template from the desired state; the tests capture what apply
really sends against the sandbox and map it through ``cfn_properties`` to prove both agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Key renames inside nested values: ECR's filter objects are spelt differently in each schema.
_ENCRYPTION = {"encryptionType": "EncryptionType", "kmsKey": "KmsKey"}
_MUTABILITY_FILTER = {
    "filterType": "ImageTagMutabilityExclusionFilterType",
    "filter": "ImageTagMutabilityExclusionFilterValue",
}
_SCAN_RULE = {
    "scanFrequency": "ScanFrequency",
    "repositoryFilters": "RepositoryFilters",
    "filterType": "FilterType",
    "filter": "Filter",
}


@dataclass(frozen=True)
class OperationMapping:
    """One API operation apply sends, and the CloudFormation resource it amounts to.

    ``identity``: the request parameter naming the resource (None: a registry singleton);
    ``fields``: request parameter → property path (dots for nesting); ``keys``: renames of keys
    inside nested values; ``json_text``: parameters sent as JSON text that the template holds as
    an object (compared parsed).
    """

    resource_type: str
    identity: str | None
    fields: dict[str, str]
    keys: dict[str, str] = field(default_factory=dict)
    json_text: frozenset[str] = frozenset()


MAPPING: dict[tuple[str, str], OperationMapping] = {
    ("secretsmanager", "CreateSecret"): OperationMapping(
        "AWS::SecretsManager::Secret",
        "Name",
        {
            "Name": "Name",
            "SecretString": "SecretString",
            "Description": "Description",
            "Tags": "Tags",
        },
    ),
    ("ecr", "CreatePullThroughCacheRule"): OperationMapping(
        "AWS::ECR::PullThroughCacheRule",
        "ecrRepositoryPrefix",
        {
            "ecrRepositoryPrefix": "EcrRepositoryPrefix",
            "upstreamRegistryUrl": "UpstreamRegistryUrl",
            "upstreamRegistry": "UpstreamRegistry",
            "credentialArn": "CredentialArn",
            "customRoleArn": "CustomRoleArn",
            "upstreamRepositoryPrefix": "UpstreamRepositoryPrefix",
        },
    ),
    ("ecr", "CreateRepositoryCreationTemplate"): OperationMapping(
        "AWS::ECR::RepositoryCreationTemplate",
        "prefix",
        {
            "prefix": "Prefix",
            "description": "Description",
            "encryptionConfiguration": "EncryptionConfiguration",
            "resourceTags": "ResourceTags",
            "imageTagMutability": "ImageTagMutability",
            "imageTagMutabilityExclusionFilters": "ImageTagMutabilityExclusionFilters",
            "repositoryPolicy": "RepositoryPolicy",
            "lifecyclePolicy": "LifecyclePolicy",
            "appliedFor": "AppliedFor",
            "customRoleArn": "CustomRoleArn",
        },
        keys={**_ENCRYPTION, **_MUTABILITY_FILTER},
    ),
    ("ecr", "CreateRepository"): OperationMapping(
        "AWS::ECR::Repository",
        "repositoryName",
        {
            "repositoryName": "RepositoryName",
            "tags": "Tags",
            "imageTagMutability": "ImageTagMutability",
            "imageTagMutabilityExclusionFilters": "ImageTagMutabilityExclusionFilters",
            "imageScanningConfiguration": "ImageScanningConfiguration",
            "encryptionConfiguration": "EncryptionConfiguration",
        },
        keys={**_ENCRYPTION, **_MUTABILITY_FILTER, "scanOnPush": "ScanOnPush"},
    ),
    ("ecr", "PutLifecyclePolicy"): OperationMapping(
        "AWS::ECR::Repository",
        "repositoryName",
        {
            "repositoryName": "RepositoryName",
            "lifecyclePolicyText": "LifecyclePolicy.LifecyclePolicyText",
        },
    ),
    ("ecr", "PutRegistryScanningConfiguration"): OperationMapping(
        "AWS::ECR::RegistryScanningConfiguration",
        None,
        {"scanType": "ScanType", "rules": "Rules"},
        keys=_SCAN_RULE,
    ),
    ("ecr", "PutRegistryPolicy"): OperationMapping(
        "AWS::ECR::RegistryPolicy",
        None,
        {"policyText": "PolicyText"},
        json_text=frozenset({"policyText"}),
    ),
    ("iam", "CreatePolicy"): OperationMapping(
        "AWS::IAM::ManagedPolicy",
        "PolicyName",
        {
            "PolicyName": "ManagedPolicyName",
            "PolicyDocument": "PolicyDocument",
            "Description": "Description",
        },
        json_text=frozenset({"PolicyDocument"}),
    ),
}

# Request parameters apply sends that no CloudFormation property holds (said in the README).
NOT_IN_CLOUDFORMATION: dict[tuple[str, str, str], str] = {
    # AWS::IAM::ManagedPolicy has no Tags property (its schema lists none), so the CI policy
    # made by a stack carries no managed-by tag: CloudFormation's own stack tags mark it instead.
    ("iam", "CreatePolicy", "Tags"): "AWS::IAM::ManagedPolicy has no Tags property",
}


def cfn_properties(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation properties one captured request amounts to (see ``MAPPING``).

    Raises KeyError for an operation or parameter the table does not map and
    ``NOT_IN_CLOUDFORMATION`` does not list, so nothing apply sends goes unaccounted for.
    """
    m = MAPPING[(service, operation)]
    props: dict[str, Any] = {}
    for name, value in params.items():
        if (service, operation, name) in NOT_IN_CLOUDFORMATION:
            continue
        path = m.fields[name].split(".")
        v = json.loads(value) if name in m.json_text else _rename(value, m.keys)
        target = props
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = v
    return props


def _rename(value: Any, keys: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {keys.get(k, k): _rename(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, keys) for v in value]
    return value
