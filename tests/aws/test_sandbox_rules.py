"""Pull-through cache rules in the moto extension: constraints, errors, update, pagination."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ecrcache.sandbox import ecr_extension

ACCOUNT = "123456789012"
REGION = "af-south-1"
PUBLIC = {"ecrRepositoryPrefix": "ecr-public", "upstreamRegistryUrl": "public.ecr.aws"}
GOOD_SECRET = json.dumps({"username": "someone", "accessToken": "dckr_pat_x"})


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _secret(aws: boto3.session.Session, name: str = "docker-hub", value: str = GOOD_SECRET) -> str:
    sm = aws.client("secretsmanager")
    return str(sm.create_secret(Name=f"ecr-pullthroughcache/{name}", SecretString=value)["ARN"])


def _arn(name: str = "docker-hub", region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:secretsmanager:{region}:{account}:secret:ecr-pullthroughcache/{name}"


@pytest.mark.parametrize(
    "prefix",
    ["ROOT", "ecr-public", "k8s", "quay.io", "a/b", "ecr-public/", "a__b", "a--b", "x" * 30],
)
def test_valid_prefixes_are_accepted_and_described(aws: boto3.session.Session, prefix: str) -> None:
    ecr = aws.client("ecr")
    out = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix=prefix, upstreamRegistryUrl="public.ecr.aws"
    )
    assert out["ecrRepositoryPrefix"] == prefix
    assert out["upstreamRegistry"] == "ecr-public"
    assert out["registryId"] == ACCOUNT
    rules = ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=[prefix])
    assert [r["ecrRepositoryPrefix"] for r in rules["pullThroughCacheRules"]] == [prefix]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"ecrRepositoryPrefix": "Docker"}, "InvalidParameterException"),
        ({"ecrRepositoryPrefix": "a___b"}, "InvalidParameterException"),
        ({"ecrRepositoryPrefix": "a-"}, "InvalidParameterException"),
        ({"ecrRepositoryPrefix": "ROOT/"}, "InvalidParameterException"),
        ({"ecrRepositoryPrefix": "x" * 31}, "InvalidParameterException"),
        ({"upstreamRegistry": "gcr"}, "InvalidParameterException"),
        ({"registryId": "12345"}, "InvalidParameterException"),
        ({"customRoleArn": "r" * 2049}, "InvalidParameterException"),
        ({"upstreamRepositoryPrefix": "Up"}, "InvalidParameterException"),
        (
            {"ecrRepositoryPrefix": "ROOT", "upstreamRepositoryPrefix": "upstream"},
            "InvalidParameterException",
        ),
        ({"upstreamRegistryUrl": "gcr.io"}, "UnsupportedUpstreamRegistryException"),
        (
            {"upstreamRegistry": "quay", "upstreamRegistryUrl": "public.ecr.aws"},
            "UnsupportedUpstreamRegistryException",
        ),
        (
            {"credentialArn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/ecr-pullthroughcache/x"},
            "InvalidParameterException",
        ),
        (
            {"credentialArn": _arn("x").replace("ecr-pullthroughcache/x", "dockerhub-credentials")},
            "InvalidParameterException",
        ),
        ({"credentialArn": _arn("x" * 600)}, "InvalidParameterException"),
    ],
)
def test_invalid_create_requests(
    aws: boto3.session.Session, overrides: dict[str, str], code: str
) -> None:
    with pytest.raises(ClientError) as exc:
        aws.client("ecr").create_pull_through_cache_rule(**{**PUBLIC, **overrides})
    assert _code(exc) == code
    assert aws.client("ecr").describe_pull_through_cache_rules()["pullThroughCacheRules"] == []


@pytest.mark.parametrize(
    ("upstream", "url"),
    [
        ("docker-hub", "registry-1.docker.io"),
        ("github-container-registry", "ghcr.io"),
        ("gitlab-container-registry", "registry.gitlab.com"),
        ("azure-container-registry", "myregistry.azurecr.io"),
        ("chainguard", "cgr.dev"),
    ],
)
def test_secret_upstreams_need_a_credential_then_accept_one(
    aws: boto3.session.Session, upstream: str, url: str
) -> None:
    ecr = aws.client("ecr")
    request: dict[str, Any] = {
        "ecrRepositoryPrefix": "up",
        "upstreamRegistryUrl": url,
        "upstreamRegistry": upstream,
    }
    with pytest.raises(ClientError) as exc:
        ecr.create_pull_through_cache_rule(**request)
    assert _code(exc) == "UnsupportedUpstreamRegistryException"
    assert "requires authentication" in str(exc.value)
    arn = _secret(aws, upstream)
    out = ecr.create_pull_through_cache_rule(**request, credentialArn=arn)
    assert out["credentialArn"] == arn and out["upstreamRegistry"] == upstream


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("public.ecr.aws", "ecr-public"),
        ("quay.io", "quay"),
        ("registry.k8s.io", "k8s"),
        ("111122223333.dkr.ecr.eu-west-1.amazonaws.com", "ecr"),
    ],
)
def test_upstream_registry_is_inferred_from_the_url(
    aws: boto3.session.Session, url: str, expected: str
) -> None:
    ecr = aws.client("ecr")
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="up", upstreamRegistryUrl=url)
    rule = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]
    assert rule["upstreamRegistry"] == expected
    assert rule["createdAt"] == rule["updatedAt"]


def test_ecr_upstream_with_role_and_upstream_prefix_round_trips(aws: boto3.session.Session) -> None:
    ecr = aws.client("ecr")
    role = f"arn:aws:iam::{ACCOUNT}:role/ptc"
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="mirror",
        upstreamRegistryUrl="111122223333.dkr.ecr.eu-west-1.amazonaws.com",
        upstreamRegistry="ecr",
        customRoleArn=role,
        upstreamRepositoryPrefix="team-a",
    )
    rule = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]
    assert rule["customRoleArn"] == role
    assert rule["upstreamRepositoryPrefix"] == "team-a"
    assert "credentialArn" not in rule


def test_duplicate_prefix_is_rejected_even_with_a_trailing_slash(
    aws: boto3.session.Session,
) -> None:
    ecr = aws.client("ecr")
    ecr.create_pull_through_cache_rule(**PUBLIC)
    for prefix in ("ecr-public", "ecr-public/"):
        with pytest.raises(ClientError) as exc:
            ecr.create_pull_through_cache_rule(**{**PUBLIC, "ecrRepositoryPrefix": prefix})
        assert _code(exc) == "PullThroughCacheRuleAlreadyExistsException"


def test_fifty_rules_per_registry_then_limit_exceeded(aws: boto3.session.Session) -> None:
    ecr = aws.client("ecr")
    for i in range(50):
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix=f"p{i:02d}", upstreamRegistryUrl="quay.io"
        )
    with pytest.raises(ClientError) as exc:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="p50", upstreamRegistryUrl="quay.io")
    assert _code(exc) == "LimitExceededException"
    ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="p00")
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="p50", upstreamRegistryUrl="quay.io")


def test_rules_are_per_region_and_per_account(aws: boto3.session.Session) -> None:
    aws.client("ecr").create_pull_through_cache_rule(**PUBLIC)
    other = aws.client("ecr", region_name="eu-west-1")
    assert other.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []
    with pytest.raises(ClientError) as exc:
        aws.client("ecr").describe_pull_through_cache_rules(
            registryId="111122223333", ecrRepositoryPrefixes=["ecr-public"]
        )
    assert _code(exc) == "PullThroughCacheRuleNotFoundException"


@pytest.mark.parametrize(
    "credential",
    [
        "full",  # the ARN Secrets Manager returned, with its random suffix
        "partial",  # the ARN without the suffix: Secrets Manager resolves it by name
    ],
)
def test_secret_is_resolved_as_secrets_manager_does(
    aws: boto3.session.Session, credential: str
) -> None:
    full = _secret(aws)
    arn = full if credential == "full" else _arn()
    out = aws.client("ecr").create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub",
        upstreamRegistryUrl="registry-1.docker.io",
        credentialArn=arn,
    )
    assert out["credentialArn"] == arn


@pytest.mark.parametrize(
    "arn",
    [
        _arn("missing"),
        _arn("docker-hub") + "-AbCdEf",  # right name, wrong suffix
        _arn("docker-hub", region="eu-west-1"),  # the secret exists, in another region
        _arn("docker-hub", account="111122223333"),
    ],
)
def test_missing_secret_is_secret_not_found(aws: boto3.session.Session, arn: str) -> None:
    _secret(aws)
    with pytest.raises(ClientError) as exc:
        aws.client("ecr").create_pull_through_cache_rule(
            ecrRepositoryPrefix="docker-hub",
            upstreamRegistryUrl="registry-1.docker.io",
            credentialArn=arn,
        )
    assert _code(exc) == "SecretNotFoundException"


def test_deleted_secret_is_secret_not_found(aws: boto3.session.Session) -> None:
    arn = _secret(aws)
    aws.client("secretsmanager").delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as exc:
        aws.client("ecr").create_pull_through_cache_rule(
            ecrRepositoryPrefix="docker-hub",
            upstreamRegistryUrl="registry-1.docker.io",
            credentialArn=arn,
        )
    assert _code(exc) == "SecretNotFoundException"


def test_injected_secret_not_found_fails_the_next_n_calls_then_succeeds(
    aws: boto3.session.Session,
) -> None:
    arn = _secret(aws)
    ecr = aws.client("ecr")
    request = {
        "ecrRepositoryPrefix": "docker-hub",
        "upstreamRegistryUrl": "registry-1.docker.io",
        "credentialArn": arn,
    }
    ecr_extension.inject_secret_not_found(2)
    try:
        for _ in range(2):
            with pytest.raises(ClientError) as exc:
                ecr.create_pull_through_cache_rule(**request)
            assert _code(exc) == "SecretNotFoundException"
        assert ecr.create_pull_through_cache_rule(**request)["credentialArn"] == arn
        ecr_extension.inject_secret_not_found(1)
        with pytest.raises(ClientError) as exc:
            ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub", credentialArn=arn)
        assert _code(exc) == "SecretNotFoundException"
        ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub", credentialArn=arn)
    finally:
        ecr_extension.inject_secret_not_found(0)


def test_update_needs_a_credential_or_role(aws: boto3.session.Session) -> None:
    ecr = aws.client("ecr")
    ecr.create_pull_through_cache_rule(**PUBLIC)
    with pytest.raises(ClientError) as exc:
        ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public")
    assert _code(exc) == "InvalidParameterException"
    assert exc.value.response["Error"]["Message"] == (
        "Invalid input: Please set either credential arn or role arn to update the credentials"
    )


def test_update_changes_only_the_arns_and_sets_updated_at(aws: boto3.session.Session) -> None:
    first, second = _secret(aws, "one"), _secret(aws, "two")
    ecr = aws.client("ecr")
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub",
        upstreamRegistryUrl="registry-1.docker.io",
        credentialArn=first,
    )
    before = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]
    out = ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub", credentialArn=second)
    assert out["credentialArn"] == second
    after = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]
    assert after["credentialArn"] == second
    assert after["updatedAt"] >= before["updatedAt"]
    assert after["createdAt"] == before["createdAt"]
    unchanged = ("upstreamRegistryUrl", "upstreamRegistry", "ecrRepositoryPrefix")
    assert all(after[k] == before[k] for k in unchanged)
    role = f"arn:aws:iam::{ACCOUNT}:role/r"
    ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub", customRoleArn=role)
    last = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]
    assert (last["credentialArn"], last["customRoleArn"]) == (second, role)


@pytest.mark.parametrize("operation", ["update", "delete", "validate", "describe"])
def test_missing_rule_is_not_found(aws: boto3.session.Session, operation: str) -> None:
    ecr = aws.client("ecr")
    ecr.create_pull_through_cache_rule(**PUBLIC)
    calls = {
        "update": lambda: ecr.update_pull_through_cache_rule(
            ecrRepositoryPrefix="nope", customRoleArn="arn:aws:iam::123456789012:role/r"
        ),
        "delete": lambda: ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="nope"),
        "validate": lambda: ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="nope"),
        "describe": lambda: ecr.describe_pull_through_cache_rules(
            ecrRepositoryPrefixes=["ecr-public", "nope"]
        ),
    }
    with pytest.raises(ClientError) as exc:
        calls[operation]()
    assert _code(exc) == "PullThroughCacheRuleNotFoundException"


def test_delete_returns_the_rule_and_removes_it(aws: boto3.session.Session) -> None:
    ecr = aws.client("ecr")
    ecr.create_pull_through_cache_rule(**PUBLIC)
    out = ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public")
    assert out["upstreamRegistryUrl"] == "public.ecr.aws"
    assert "upstreamRegistry" not in out  # not a member of DeletePullThroughCacheRuleResponse
    assert ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []


def test_pagination_default_page_and_paginator(aws: boto3.session.Session) -> None:
    ecr = aws.client("ecr")
    names = [f"p{i:02d}" for i in range(7)]
    for name in names:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=name, upstreamRegistryUrl="quay.io")
    whole = ecr.describe_pull_through_cache_rules()
    assert "nextToken" not in whole and len(whole["pullThroughCacheRules"]) == 7
    first = ecr.describe_pull_through_cache_rules(maxResults=3)
    assert [r["ecrRepositoryPrefix"] for r in first["pullThroughCacheRules"]] == names[:3]
    second = ecr.describe_pull_through_cache_rules(maxResults=3, nextToken=first["nextToken"])
    assert [r["ecrRepositoryPrefix"] for r in second["pullThroughCacheRules"]] == names[3:6]
    pages = ecr.get_paginator("describe_pull_through_cache_rules").paginate(
        PaginationConfig={"PageSize": 2}
    )
    seen = [r["ecrRepositoryPrefix"] for p in pages for r in p["pullThroughCacheRules"]]
    assert seen == names


@pytest.mark.parametrize("kwargs", [{"maxResults": 1001}, {"nextToken": "not-a-token"}])
def test_bad_pagination_input_is_invalid_parameter(
    aws: boto3.session.Session, kwargs: dict[str, Any]
) -> None:
    ecr = aws.client("ecr")
    ecr.create_pull_through_cache_rule(**PUBLIC)
    with pytest.raises(ClientError) as exc:
        ecr.describe_pull_through_cache_rules(**kwargs)
    assert _code(exc) == "InvalidParameterException"


@pytest.mark.parametrize(
    ("value", "valid", "failure"),
    [
        (GOOD_SECRET, True, None),
        ("not json", False, "not valid JSON"),
        (json.dumps(["username", "accessToken"]), False, "not valid JSON"),
        (json.dumps({"username": "u"}), False, "accessToken"),
        (json.dumps({"accessToken": "t"}), False, "username"),
    ],
)
def test_validate_reports_the_secret_without_raising(
    aws: boto3.session.Session, value: str, valid: bool, failure: str | None
) -> None:
    arn = _secret(aws, value=value)
    ecr = aws.client("ecr")
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub",
        upstreamRegistryUrl="registry-1.docker.io",
        credentialArn=arn,
    )
    out = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub")
    assert out["isValid"] is valid
    assert out["credentialArn"] == arn
    if failure is None:
        assert "failure" not in out
    else:
        assert failure in out["failure"]


def test_validate_after_the_secret_is_deleted(aws: boto3.session.Session) -> None:
    arn = _secret(aws)
    ecr = aws.client("ecr")
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub",
        upstreamRegistryUrl="registry-1.docker.io",
        credentialArn=arn,
    )
    aws.client("secretsmanager").delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    out = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub")
    assert out["isValid"] is False and "could not be found" in out["failure"]


def test_install_is_idempotent(aws: boto3.session.Session) -> None:
    ecr_extension.install()
    ecr_extension.install()
    assert aws.client("ecr").create_pull_through_cache_rule(**PUBLIC)["ecrRepositoryPrefix"]


def test_moto_reset_clears_rules(aws: boto3.session.Session) -> None:
    from moto.core.base_backend import BackendDict

    ecr = aws.client("ecr")
    ecr.create_pull_through_cache_rule(**PUBLIC)
    BackendDict.reset()
    assert ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []


def test_server_mode(aws: boto3.session.Session) -> None:
    """The operations also work over HTTP through moto's ThreadedMotoServer (same process)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        ecr = boto3.client("ecr", region_name=REGION, endpoint_url=f"http://{host}:{port}")
        ecr.create_pull_through_cache_rule(**PUBLIC)
        rules = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
        assert [r["ecrRepositoryPrefix"] for r in rules] == ["ecr-public"]
        with pytest.raises(ClientError) as exc:
            ecr.create_pull_through_cache_rule(**PUBLIC)
        assert _code(exc) == "PullThroughCacheRuleAlreadyExistsException"
    finally:
        server.stop()
