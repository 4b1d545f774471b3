"""Live secrets and the pull-through cache rules that reference them. Reads only.

Secrets by name (DescribeSecret, consistent) or by the lagging ListSecrets listing, a secret's
value only as a digest, and every rule with its credential ARN mapped back to a secret name.
"""

from __future__ import annotations

from typing import Any

from ecrcache.aws import Clients, aws_errors, error_code
from ecrcache.config.rules import SECRET_PREFIX
from ecrcache.reconcile.resources import (
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    Rule,
    Secret,
    SecretValue,
    secret_name_from_arn,
)


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
