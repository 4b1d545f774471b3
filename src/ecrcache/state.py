"""Read the live account into the same resource types as the desired state. Reads only."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ecrcache.aws import Clients, aws_errors, error_code
from ecrcache.config import SECRET_PREFIX
from ecrcache.resources import Rule, Secret, SecretValue, State, secret_name_from_arn

log = logging.getLogger(__name__)


def read_secrets(clients: Clients) -> tuple[Secret, ...]:
    """Every secret under ``ecr-pullthroughcache/`` (the only ones ECR can use), values unread."""
    out: list[Secret] = []
    with aws_errors("list Secrets Manager secrets"):
        pages = clients.secretsmanager.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": [SECRET_PREFIX]}],
            IncludePlannedDeletion=True,
        )
        for page in pages:
            for s in page.get("SecretList", []):
                name = s["Name"]
                if not name.startswith(SECRET_PREFIX):
                    continue  # the name filter is a prefix match on words; be exact
                tags = tuple(sorted((t["Key"], t["Value"]) for t in s.get("Tags", []) or ()))
                out.append(
                    Secret(
                        name=name,
                        tags=tags,
                        pending_deletion="DeletedDate" in s,
                        arn=s["ARN"],
                        kms_key_id=s.get("KmsKeyId"),
                    )
                )
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
                    )
                )
    return tuple(sorted(out, key=lambda r: r.prefix))


def read_live(clients: Clients, *, digest_secrets: Iterable[str] = ()) -> State:
    """The live state: all cache-usable secrets, and all rules.

    Values are read (as digests) only for the secrets named in ``digest_secrets``: the ones whose
    desired value is known, so the plan can tell whether they changed.
    """
    secrets = read_secrets(clients)
    wanted = set(digest_secrets)
    with_values = tuple(
        Secret(
            name=s.name,
            value=read_secret_digest(clients, s) if s.name in wanted else None,
            tags=s.tags,
            pending_deletion=s.pending_deletion,
            arn=s.arn,
            kms_key_id=s.kms_key_id,
        )
        for s in secrets
    )
    arn_to_name = {s.arn: s.name for s in secrets if s.arn}
    rules = read_rules(clients, arn_to_name)
    return State.of(secrets=with_values, rules=rules)
