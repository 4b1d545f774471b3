"""Read the live account into the same resource types as the desired state. Reads only."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from ecrcache.aws import Clients, aws_errors, error_code
from ecrcache.config.rules import SECRET_PREFIX
from ecrcache.config.upstreams import partition
from ecrcache.policy.canonical import canonical_statement_text, canonical_text
from ecrcache.policy.lifecycle import normalise as normalise_lifecycle
from ecrcache.reconcile.backfill import BackfillScope
from ecrcache.reconcile.resources import (
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    IamPolicy,
    RegistryPolicy,
    Repository,
    RepositorySettings,
    Rule,
    Scanning,
    ScanRule,
    Secret,
    SecretValue,
    State,
    Template,
    secret_name_from_arn,
)

OUR_SID_PREFIX = "ecrcache-"

log = logging.getLogger(__name__)


def _secret(s: dict[str, Any]) -> Secret:
    """A Secret from a DescribeSecret response or a ListSecrets entry (the same keys)."""
    return Secret(
        name=s["Name"],
        tags=tuple(sorted((t["Key"], t["Value"]) for t in s.get("Tags", []) or ())),
        pending_deletion="DeletedDate" in s and s["DeletedDate"] is not None,
        arn=s["ARN"],
        kms_key_id=s.get("KmsKeyId"),
    )


def read_secret(clients: Clients, secret_id: str) -> Secret | None:
    """One secret by name or ARN through DescribeSecret, which reflects every change at once
    (unlike ListSecrets, see ``list_secrets``); None if there is no such secret. A secret
    scheduled for deletion is still described (with its ``DeletedDate``)."""
    try:
        resp = clients.secretsmanager.describe_secret(SecretId=secret_id)
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        with aws_errors(f"read secret {secret_id}"):
            raise
    return _secret(resp)


def read_named_secrets(clients: Clients, names: frozenset[str]) -> tuple[Secret, ...]:
    """The secrets ``names`` names (those that exist), read one by one with DescribeSecret."""
    found = (read_secret(clients, name) for name in sorted(names))
    return tuple(s for s in found if s is not None and s.name in names)


# Secrets Manager's API reference, ListSecrets: "All Secrets Manager operations are eventually
# consistent. ListSecrets might not reflect changes from the last five minutes. You can get more
# recent information for a specific secret by calling DescribeSecret."
LISTING_LAG_NOTE = (
    "Secrets Manager's ListSecrets may not reflect changes from the last five minutes: a secret "
    "created, tagged or deleted since may be missing from (or still in) this list"
)


def list_secrets(clients: Clients, *, managed_only: bool = False) -> tuple[Secret, ...]:
    """Secrets under ``ecr-pullthroughcache/`` (the only ones ECR can use) as ListSecrets sees
    them: only for discovering secrets nobody named, since the listing lags (LISTING_LAG_NOTE).
    ``managed_only`` filters on ecrcache's managed-by tag server-side (the filters are prefix
    matches on any tag key and any tag value, so the tag is checked exactly here too)."""
    filters = [{"Key": "name", "Values": [SECRET_PREFIX]}]
    if managed_only:
        filters += [
            {"Key": "tag-key", "Values": [MANAGED_BY_KEY]},
            {"Key": "tag-value", "Values": [MANAGED_BY_VALUE]},
        ]
    out: list[Secret] = []
    with aws_errors("list Secrets Manager secrets"):
        pages = clients.secretsmanager.get_paginator("list_secrets").paginate(
            Filters=filters, IncludePlannedDeletion=True
        )
        for page in pages:
            for entry in page.get("SecretList", []):
                if not entry["Name"].startswith(SECRET_PREFIX):
                    continue  # the name filter is a prefix match on words; be exact
                s = _secret(entry)
                if not managed_only or s.managed:
                    out.append(s)
    return tuple(sorted(out, key=lambda s: s.name))


def read_secret_digest(clients: Clients, secret: Secret) -> SecretValue | None:
    """The digest of a secret's current value (the value itself is dropped at once)."""
    if secret.pending_deletion:
        return None  # GetSecretValue fails on a secret scheduled for deletion
    try:
        resp = clients.secretsmanager.get_secret_value(SecretId=secret.arn or secret.name)
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None  # a secret with no value yet
        with aws_errors(f"read secret {secret.name}"):
            raise
    text = resp.get("SecretString")
    return SecretValue.digest_of(text) if text is not None else None


def read_rules(clients: Clients, arn_to_name: dict[str, str]) -> tuple[Rule, ...]:
    """Every pull-through cache rule in the registry, normalised."""
    out: list[Rule] = []
    with aws_errors("list pull-through cache rules"):
        pages = clients.ecr.get_paginator("describe_pull_through_cache_rules").paginate()
        for page in pages:
            for r in page.get("pullThroughCacheRules", []):
                arn = r.get("credentialArn")
                out.append(
                    Rule(
                        prefix=r["ecrRepositoryPrefix"].rstrip("/") or "ROOT",
                        upstream=r.get("upstreamRegistry", ""),
                        url=r["upstreamRegistryUrl"],
                        upstream_prefix=r.get("upstreamRepositoryPrefix") or "ROOT",
                        credential=(arn_to_name.get(arn) or secret_name_from_arn(arn))
                        if arn
                        else None,
                        role_arn=r.get("customRoleArn") or None,
                        credential_arn=arn or None,
                    )
                )
    return tuple(sorted(out, key=lambda r: r.prefix))


@dataclass(frozen=True)
class LiveScope:
    """What to read beyond rules (each read costs calls: read only what is managed).

    ``secret_names`` are read by name (DescribeSecret); with ``discover_secrets``, the managed-by
    secrets nobody names are found by ListSecrets, and with ``confirm_discovered`` (a prune may
    delete them) each is described again before it counts, since the listing lags.
    """

    secret_names: frozenset[str] = frozenset()
    discover_secrets: bool = True
    confirm_discovered: bool = False
    digest_secrets: frozenset[str] = frozenset()
    template_prefixes: bool = True
    app_repositories: frozenset[str] = frozenset()
    cache_prefixes: frozenset[str] = frozenset()
    backfill: BackfillScope = field(default_factory=BackfillScope)
    scanning: bool = False
    registry_policy: bool = False
    iam_policies: frozenset[str] = frozenset()


def read_live(clients: Clients, scope: LiveScope = LiveScope()) -> State:
    """The live state: the secrets the config names (and ecrcache's others, see LiveScope), all
    rules and templates, and what ``scope`` says the config manages. Secret values are read (as
    digests) only where named."""
    secrets = read_live_secrets(clients, scope)
    with_values = tuple(
        Secret(
            name=s.name,
            value=read_secret_digest(clients, s) if s.name in scope.digest_secrets else None,
            tags=s.tags,
            pending_deletion=s.pending_deletion,
            arn=s.arn,
            kms_key_id=s.kms_key_id,
        )
        for s in secrets
    )
    arn_to_name = {s.arn: s.name for s in secrets if s.arn}
    rules = read_rules(clients, arn_to_name)
    templates = read_templates(clients) if scope.template_prefixes else ()
    repos = read_repositories(clients)
    names = tuple(sorted(repos))
    # Backfill's candidates have their tags read too: one ecrcache tagged as its own (an
    # application repository since removed from the config) is left alone, never backfilled.
    candidates = scope.backfill.reached(names)
    app = read_app_repositories(clients, repos, scope, also=frozenset(candidates))
    theirs = {r.name for r in app}
    return State.of(
        secrets=with_values,
        rules=rules,
        templates=templates,
        repositories=app,
        repository_settings=read_backfill_settings(
            clients, repos, {n: t for n, t in candidates.items() if n not in theirs}
        ),
        scanning=read_scanning(clients) if scope.scanning else None,
        registry_policy=read_registry_policy(clients) if scope.registry_policy else None,
        iam_policies=read_iam_policies(clients, scope.iam_policies),
        all_repositories=names,
    )


def read_live_secrets(clients: Clients, scope: LiveScope) -> tuple[Secret, ...]:
    """The named secrets, read consistently, then (``scope.discover_secrets``) ecrcache's
    managed-by secrets that nobody names, from the lagging listing."""
    found = {s.name: s for s in read_named_secrets(clients, scope.secret_names)}
    if scope.discover_secrets:
        for listed in list_secrets(clients, managed_only=True):
            if listed.name in scope.secret_names:
                continue  # read by name already (and absent if DescribeSecret says so)
            if not scope.confirm_discovered:
                found[listed.name] = listed  # only reported (as not in the config)
                continue
            confirmed = read_secret(clients, listed.arn or listed.name)
            if confirmed is not None and confirmed.managed:
                found[confirmed.name] = confirmed  # else deleted or untagged since the listing
    return tuple(sorted(found.values(), key=lambda s: s.name))


def read_templates(clients: Clients) -> tuple[Template, ...]:
    out = []
    part = partition(clients.region)
    with aws_errors("list repository creation templates"):
        pages = clients.ecr.get_paginator("describe_repository_creation_templates").paginate()
        for page in pages:
            for t in page.get("repositoryCreationTemplates", []):
                enc = t.get("encryptionConfiguration") or {}
                lifecycle = t.get("lifecyclePolicy") or None
                policy = t.get("repositoryPolicy") or None
                out.append(
                    Template(
                        prefix=t["prefix"],
                        applied_for=tuple(sorted(t.get("appliedFor", []))),
                        description=t.get("description") or None,
                        encryption=enc.get("encryptionType", "AES256"),
                        kms_key=enc.get("kmsKey") or None,
                        tag_mutability=t.get("imageTagMutability", "MUTABLE"),
                        tag_mutability_exclusions=_exclusions(t),
                        resource_tags=tuple(
                            sorted((x["Key"], x["Value"]) for x in t.get("resourceTags", []))
                        ),
                        lifecycle_policy=normalise_lifecycle(lifecycle) if lifecycle else None,
                        repository_policy=(
                            canonical_text(policy, partition=part) if policy else None
                        ),
                        role_arn=t.get("customRoleArn") or None,
                    )
                )
    return tuple(sorted(out, key=lambda t: t.prefix))


def _exclusions(obj: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(f["filter"] for f in obj.get("imageTagMutabilityExclusionFilters") or []))


def read_repositories(clients: Clients) -> dict[str, dict[str, Any]]:
    """Every repository in the registry, by name (DescribeRepositories pages)."""
    out: dict[str, dict[str, Any]] = {}
    with aws_errors("list repositories"):
        for page in clients.ecr.get_paginator("describe_repositories").paginate():
            for r in page.get("repositories", []):
                out[r["repositoryName"]] = r
    return out


def _under(name: str, prefixes: frozenset[str]) -> bool:
    return "ROOT" in prefixes or any(name.startswith(p + "/") for p in prefixes)


def read_lifecycle(clients: Clients, name: str) -> str | None:
    try:
        text = clients.ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    except Exception as exc:
        if error_code(exc) == "LifecyclePolicyNotFoundException":
            return None
        with aws_errors(f"read the lifecycle policy of {name}"):
            raise
    return normalise_lifecycle(text)


def read_app_repositories(
    clients: Clients,
    repos: dict[str, dict[str, Any]],
    scope: LiveScope,
    *,
    also: frozenset[str] = frozenset(),
) -> tuple[Repository, ...]:
    """The config's application repositories, and any other repository ecrcache tagged as its
    own (so prune can find them). Cache repositories are skipped (they are never app repos),
    except those in ``also``, whose tags are read all the same."""
    out = []
    for name, r in sorted(repos.items()):
        if (
            name not in scope.app_repositories
            and name not in also
            and _under(name, scope.cache_prefixes)
        ):
            continue
        with aws_errors(f"read the tags of {name}"):
            tags = tuple(
                sorted(
                    (t["Key"], t["Value"])
                    for t in clients.ecr.list_tags_for_resource(resourceArn=r["repositoryArn"]).get(
                        "tags", []
                    )
                )
            )
        repo = Repository(
            name=name,
            tag_mutability=r.get("imageTagMutability", "MUTABLE"),
            tag_mutability_exclusions=_exclusions(r),
            scan_on_push=bool(r.get("imageScanningConfiguration", {}).get("scanOnPush")),
            encryption=(r.get("encryptionConfiguration") or {}).get("encryptionType", "AES256"),
            kms_key=(r.get("encryptionConfiguration") or {}).get("kmsKey") or None,
            tags=tags,
        )
        if name not in scope.app_repositories and not repo.managed:
            continue
        if repo.kms_key and _aws_managed_key(clients, repo.kms_key):
            # "KMS, no key named": ECR chose the AWS-managed key (and import writes no key)
            repo = replace(repo, kms_key=None)
        count = 0 if name in scope.app_repositories else _image_count(clients, name)
        out.append(replace(repo, lifecycle_policy=read_lifecycle(clients, name), image_count=count))
    return tuple(out)


# ListImages returns only ACTIVE images unless the filter asks (botocore ECR model,
# ListImagesFilter.imageStatus): archived and restoring images are in the repository too, and
# DeleteRepository without force refuses them.
EVERY_IMAGE = {"tagStatus": "ANY", "imageStatus": "ANY"}


def _aws_managed_key(clients: Clients, key_arn: str) -> bool:
    """Is ``key_arn`` an AWS-managed KMS key? A repository created with KMS and no key reads back
    with the ARN of the AWS-managed key for ECR (aws/ecr), not with no key (botocore ECR model,
    EncryptionConfiguration; the Terraform AWS provider's TestAccECRRepository_Encryption_kms).
    KMS DescribeKey tells: ``KeyMetadata.KeyManager`` is ``AWS`` for an AWS-managed key. Without
    the permission (or the key) the ARN stays, and the plan shows the difference as not planned."""
    try:
        meta = clients.kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    except Exception as exc:
        code = error_code(exc)
        if code is None:
            raise
        log.debug("kms:DescribeKey %s: %s (kept as a customer key)", key_arn, code)
        return False
    return meta.get("KeyManager") == "AWS"


def _image_count(clients: Clients, name: str) -> int:
    with aws_errors(f"list the images of {name}"):
        pages = clients.ecr.get_paginator("list_images").paginate(
            repositoryName=name, filter=EVERY_IMAGE
        )
        return sum(len(page.get("imageIds", [])) for page in pages)


def read_backfill_settings(
    clients: Clients, repos: dict[str, dict[str, Any]], reached: dict[str, str]
) -> tuple[RepositorySettings, ...]:
    """Lifecycle policy and tag mutability of the repositories backfill reaches (name ->
    template; see backfill.py), and of no other."""
    out = []
    for name, template in sorted(reached.items()):
        r = repos[name]
        out.append(
            RepositorySettings(
                name=name,
                lifecycle_policy=read_lifecycle(clients, name),
                tag_mutability=r.get("imageTagMutability", "MUTABLE"),
                tag_mutability_exclusions=_exclusions(r),
                template=template,
            )
        )
    return tuple(out)


def read_scanning(clients: Clients) -> Scanning:
    with aws_errors("read the registry scanning configuration"):
        cfg = clients.ecr.get_registry_scanning_configuration().get("scanningConfiguration", {})
    rules = tuple(
        sorted(
            (
                ScanRule(
                    r["scanFrequency"],
                    tuple(sorted(f["filter"] for f in r.get("repositoryFilters", []))),
                )
                for r in cfg.get("rules", [])
            ),
            key=lambda r: r.frequency,
        )
    )
    return Scanning(scan_type=cfg.get("scanType", "BASIC"), rules=rules)


def read_registry_policy(clients: Clients) -> RegistryPolicy | None:
    try:
        text = clients.ecr.get_registry_policy()["policyText"]
    except Exception as exc:
        if error_code(exc) == "RegistryPolicyNotFoundException":
            return None
        with aws_errors("read the registry permissions policy"):
            raise
    statements = json.loads(text).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    # Ours are compared in canonical form; everybody else's are kept exactly as read (key order
    # too), since apply writes them back and must not change what ecrcache does not own.
    part = partition(clients.region)
    ours = sorted(canonical_statement_text(st, partition=part) for st in statements if is_ours(st))
    others = tuple(json.dumps(st) for st in statements if not is_ours(st))
    return RegistryPolicy(statements=tuple(ours), others=others)


def is_ours(statement: dict[str, Any]) -> bool:
    return str(statement.get("Sid", "")).startswith(OUR_SID_PREFIX)


def read_iam_policies(clients: Clients, names: frozenset[str]) -> tuple[IamPolicy, ...]:
    """The named customer-managed policies, with their default version's document."""
    if not names:
        return ()
    out = []
    account = clients.account_id
    with aws_errors("read the CI IAM policy"):
        for name in sorted(names):
            arn = f"arn:{partition(clients.region)}:iam::{account}:policy/{name}"
            try:
                pol = clients.iam.get_policy(PolicyArn=arn)["Policy"]
            except Exception as exc:
                if error_code(exc) == "NoSuchEntity":
                    continue
                raise
            version = pol["DefaultVersionId"]
            doc = clients.iam.get_policy_version(PolicyArn=arn, VersionId=version)
            # IAM returns the document URL-encoded; botocore decodes it into a dict
            # (handlers.json_decode_policies), so only a str is still encoded.
            raw = doc["PolicyVersion"]["Document"]
            text = unquote(raw) if isinstance(raw, str) else json.dumps(raw)
            versions = clients.iam.list_policy_versions(PolicyArn=arn)["Versions"]
            others = tuple(
                v["VersionId"]
                for v in sorted(versions, key=lambda v: v["CreateDate"])
                if not v["IsDefaultVersion"]
            )
            out.append(
                IamPolicy(
                    name=name,
                    document=canonical_text(text, partition=partition(clients.region)),
                    tags=tuple(sorted((t["Key"], t["Value"]) for t in pol.get("Tags", []))),
                    arn=arn,
                    default_version=version,
                    versions=others,
                )
            )
    return tuple(out)
