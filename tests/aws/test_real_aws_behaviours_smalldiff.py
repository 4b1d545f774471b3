"""The smaller real-AWS differences (issue "Trust", item 6): one test per behaviour real ECR has and
moto 5.2 lacks, each naming its source; the sandbox behaves so (src/ecrcache/sandbox/), and
ecrcache handles it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from reconcile_support import ACCOUNT, REGION, apply, clients, config, plan

from ecrcache import lifecycle
from ecrcache.aws import Clients
from ecrcache.partitions import partitions
from ecrcache.plan import Action
from ecrcache.sandbox import image_status
from ecrcache.upstreams import dns_suffix, partition, registry_host

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


# --- a. images of every storage status ------------------------------------------------------


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


# --- b. KMS with no key: the AWS-managed key ---------------------------------------------------

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

    from ecrcache.config import parse_config
    from ecrcache.importer import import_config, to_toml

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


# --- c. no empty members on create; customRoleArn="" only to remove a role ----------------------


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
    assert "description" not in create and "resourceTags" not in create

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
    assert "customRoleArn" not in described and described["description"] == "cache"
    removed = update_after({"description": "cache"})
    assert removed["customRoleArn"] == ""  # the one place an empty role ARN goes
    (t,) = aws.client("ecr").describe_repository_creation_templates(prefixes=["quay"])[
        "repositoryCreationTemplates"
    ]
    assert not t.get("customRoleArn") and t["description"] == "cache"


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


# --- d. exclusion filters cleared explicitly ---------------------------------------------------


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


# --- e. lifecycle tag lists sorted in the canonical form ---------------------------------------

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


# --- f. partitions from botocore's own data ----------------------------------------------------


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


# --- the sandbox's new state survives its state file and crosses HTTP -------------------------


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
    from ecrcache.doctor.files import is_ecr
    from ecrcache.sandbox.constraints import upstream_for_url
    from ecrcache.upstreams import kind_for_host

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
