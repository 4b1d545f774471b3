"""Pull-through cache rules and repository creation templates for moto's ECR backend.

The functions named like ECR operations take the ``ECRBackend`` as ``self``: ``install()`` binds
them as methods, as a moto pull request would define them on the class. State lives in attributes
of the backend object, so moto's per-account/per-region separation and its ``reset()`` (which
clears ``__dict__``) apply to it unchanged.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime
from typing import Any

from moto.core.common_models import BaseModel
from moto.core.exceptions import InvalidToken
from moto.core.utils import utcnow
from moto.ecr.models import ECRBackend
from moto.secretsmanager.models import FakeSecret, secretsmanager_backends
from moto.utilities.paginator import paginate

from ecrcache.sandbox import constraints as c
from ecrcache.sandbox.exceptions import (
    InvalidParameterException,
    LimitExceededException,
    PullThroughCacheRuleAlreadyExistsException,
    PullThroughCacheRuleNotFoundException,
    SecretNotFoundException,
    UnsupportedUpstreamRegistryException,
)

PAGINATION_MODEL = {
    "_page_rules": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": c.DEFAULT_PAGE_SIZE,
        "unique_attribute": "ecr_repository_prefix",
    },
    "_page_templates": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": c.DEFAULT_PAGE_SIZE,
        "unique_attribute": "prefix",
    },
}

# Test hook (see ecr_extension.inject_secret_not_found): how many of the next Create/Update
# calls that name a secret fail as if Secrets Manager had not yet propagated it to ECR.
_injected_lock = threading.Lock()
_injected_secret_not_found = 0


def set_injected_secret_not_found(count: int) -> None:
    global _injected_secret_not_found
    with _injected_lock:
        _injected_secret_not_found = max(0, count)


def _consume_injected_secret_not_found() -> bool:
    global _injected_secret_not_found
    with _injected_lock:
        if _injected_secret_not_found > 0:
            _injected_secret_not_found -= 1
            return True
    return False


class PullThroughCacheRule(BaseModel):
    """One rule; attribute names are the model's members in snake_case (moto serialises them)."""

    def __init__(
        self,
        *,
        registry_id: str,
        ecr_repository_prefix: str,
        upstream_registry_url: str,
        upstream_registry: str,
        credential_arn: str | None,
        custom_role_arn: str | None,
        upstream_repository_prefix: str | None,
    ) -> None:
        self.registry_id = registry_id
        self.ecr_repository_prefix = ecr_repository_prefix
        self.upstream_registry_url = upstream_registry_url
        self.upstream_registry = upstream_registry
        self.credential_arn = credential_arn
        self.custom_role_arn = custom_role_arn
        self.upstream_repository_prefix = upstream_repository_prefix
        self.created_at: datetime = utcnow()
        # Describe returns updatedAt; a rule never updated reports its creation time.
        self.updated_at: datetime = self.created_at


def rules_of(backend: ECRBackend) -> dict[str, PullThroughCacheRule]:
    """The backend's rules keyed by prefix without a trailing '/' (created on first use)."""
    rules: dict[str, PullThroughCacheRule] = backend.__dict__.setdefault(
        "pull_through_cache_rules", {}
    )
    return rules


def check(field: c.Field, value: str | None) -> None:
    """Raise InvalidParameterException when a present value breaks its model constraints."""
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidParameterException(
            f"Invalid parameter at '{field.name}' failed to satisfy constraint: "
            "'Member must be a string'"
        )
    message = c.violation(field, value)
    if message:
        raise InvalidParameterException(message)


def check_max_results(max_results: int | None) -> None:
    if max_results is not None and not c.MAX_RESULTS_MIN <= max_results <= c.MAX_RESULTS_MAX:
        raise InvalidParameterException(
            "Invalid parameter at 'maxResults' failed to satisfy constraint: "
            f"'Member must have value between {c.MAX_RESULTS_MIN} and {c.MAX_RESULTS_MAX}'"
        )


def invalid_next_token() -> InvalidParameterException:
    return InvalidParameterException(
        "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'"
    )


def _get_rule(backend: ECRBackend, prefix: str, registry_id: str | None) -> PullThroughCacheRule:
    registry = registry_id or backend.account_id
    rule = rules_of(backend).get(prefix.rstrip("/"))
    if rule is None or rule.registry_id != registry:
        raise PullThroughCacheRuleNotFoundException(prefix, registry)
    return rule


_SECRET_ARN = re.compile(r"^arn:[^:]+:secretsmanager:(?P<region>[^:]+):(?P<account>[0-9]{12}):")


def find_secret(backend: ECRBackend, credential_arn: str) -> FakeSecret | None:
    """The secret ``credential_arn`` names, resolved as Secrets Manager resolves an ARN.

    A full ARN (with the random 6-character suffix) or a partial ARN (the name only) both match.
    The secret must be in the rule's account and region (user guide); one pending deletion
    cannot be read, so it counts as missing.
    """
    match = _SECRET_ARN.match(credential_arn)
    if not match or (match["region"], match["account"]) != (
        backend.region_name,
        backend.account_id,
    ):
        return None
    store = secretsmanager_backends[backend.account_id][backend.region_name].secrets
    secret = store.get(credential_arn)
    if not isinstance(secret, FakeSecret) or secret.is_deleted():
        return None
    return secret


def _require_secret(backend: ECRBackend, credential_arn: str) -> None:
    if _consume_injected_secret_not_found() or find_secret(backend, credential_arn) is None:
        raise SecretNotFoundException(credential_arn)


def _resolve_upstream(upstream_registry: str | None, url: str) -> str:
    if upstream_registry is None:
        inferred = c.upstream_for_url(url)
        if inferred is None:
            raise UnsupportedUpstreamRegistryException(
                f"The specified upstream registry '{url}' is not supported"
            )
        return inferred
    check(c.UPSTREAM_REGISTRY, upstream_registry)
    if not re.fullmatch(c.UPSTREAM_URLS[upstream_registry], url):
        # Unverified: ECR rejects a URL that does not belong to the named upstream, but the
        # exact code is not documented; this one is the closest in the model's error list.
        raise UnsupportedUpstreamRegistryException(
            f"The upstream registry URL '{url}' is not valid for upstream registry "
            f"'{upstream_registry}'"
        )
    return upstream_registry


def create_pull_through_cache_rule(
    self: ECRBackend,
    ecr_repository_prefix: str,
    upstream_registry_url: str,
    registry_id: str | None = None,
    upstream_registry: str | None = None,
    credential_arn: str | None = None,
    custom_role_arn: str | None = None,
    upstream_repository_prefix: str | None = None,
) -> PullThroughCacheRule:
    check(c.ECR_REPOSITORY_PREFIX, ecr_repository_prefix)
    check(c.REGISTRY_ID, registry_id)
    check(c.UPSTREAM_REPOSITORY_PREFIX, upstream_repository_prefix)
    check(c.CREDENTIAL_ARN, credential_arn)
    check(c.CUSTOM_ROLE_ARN, custom_role_arn)
    if upstream_repository_prefix is not None and ecr_repository_prefix == c.ROOT:
        # User guide (ECR to ECR wildcards): only "when the Amazon ECR repository prefix has a
        # non-ROOT value". The error code is our inference.
        raise InvalidParameterException(
            "Invalid parameter at 'upstreamRepositoryPrefix' failed to satisfy constraint: "
            "'upstreamRepositoryPrefix can only be set when ecrRepositoryPrefix is not ROOT'"
        )
    kind = _resolve_upstream(upstream_registry, upstream_registry_url)
    if kind in c.SECRET_UPSTREAMS and not credential_arn:
        # ECR's answer, quoted in aws-controllers-k8s/community#2589 (Docker Hub, 2025-08):
        # "UnsupportedUpstreamRegistryException: The specified upstream registry requires
        # authentication. Specify a valid Secrets Manager ARN". Certain for docker-hub; assumed
        # the same for the other secret-authenticated upstreams (same user-guide list).
        raise UnsupportedUpstreamRegistryException(
            "The specified upstream registry requires authentication. "
            "Specify a valid Secrets Manager ARN"
        )
    registry = registry_id or self.account_id
    rules = rules_of(self)
    key = ecr_repository_prefix.rstrip("/")
    existing = rules.get(key)
    if existing is not None and existing.registry_id == registry:
        raise PullThroughCacheRuleAlreadyExistsException(ecr_repository_prefix, registry)
    if sum(1 for r in rules.values() if r.registry_id == registry) >= c.MAX_RULES_PER_REGISTRY:
        raise LimitExceededException(
            f"The maximum number of pull through cache rules ({c.MAX_RULES_PER_REGISTRY}) "
            f"for the registry with id '{registry}' has been reached"
        )
    if credential_arn:
        _require_secret(self, credential_arn)
    rule = PullThroughCacheRule(
        registry_id=registry,
        ecr_repository_prefix=ecr_repository_prefix,
        upstream_registry_url=upstream_registry_url,
        upstream_registry=kind,
        credential_arn=credential_arn,
        custom_role_arn=custom_role_arn,
        upstream_repository_prefix=upstream_repository_prefix,
    )
    rules[key] = rule
    return rule


def describe_pull_through_cache_rules(
    self: ECRBackend,
    registry_id: str | None = None,
    ecr_repository_prefixes: list[str] | None = None,
    next_token: str | None = None,
    max_results: int | None = None,
) -> tuple[list[PullThroughCacheRule], str | None]:
    """Rules in creation order; a filter naming a missing prefix raises NotFound (model)."""
    check(c.REGISTRY_ID, registry_id)
    check_max_results(max_results)
    if ecr_repository_prefixes is not None and len(ecr_repository_prefixes) > c.PREFIX_FILTER_MAX:
        raise InvalidParameterException(
            "Invalid parameter at 'ecrRepositoryPrefixes' failed to satisfy constraint: "
            f"'Member must have length less than or equal to {c.PREFIX_FILTER_MAX}'"
        )
    registry = registry_id or self.account_id
    if ecr_repository_prefixes:
        for prefix in ecr_repository_prefixes:
            check(c.ECR_REPOSITORY_PREFIX, prefix)
            _get_rule(self, prefix, registry)
        wanted = {p.rstrip("/") for p in ecr_repository_prefixes}
    else:
        wanted = None
    selected = [
        r
        for key, r in rules_of(self).items()
        if r.registry_id == registry and (wanted is None or key in wanted)
    ]
    try:
        # Items go positionally: the paginator checksums keyword arguments only, and a token must
        # survive rules being created between pages.
        page, token = _page_rules(
            selected,
            filters=sorted(wanted or ()),
            next_token=next_token,
            max_results=max_results,
        )
    except InvalidToken as exc:
        raise invalid_next_token() from exc
    return page, token


@paginate(pagination_model=PAGINATION_MODEL)
def _page_rules(rules: list[PullThroughCacheRule], filters: list[str]) -> list[Any]:
    # ``filters`` is unused here but part of the paginator's token checksum, so a token is only
    # accepted for the same filter it was issued for.
    return rules


@paginate(pagination_model=PAGINATION_MODEL)
def _page_templates(templates: list[Any], filters: list[str]) -> list[Any]:
    return templates


def update_pull_through_cache_rule(
    self: ECRBackend,
    ecr_repository_prefix: str,
    registry_id: str | None = None,
    credential_arn: str | None = None,
    custom_role_arn: str | None = None,
) -> PullThroughCacheRule:
    """Only the credential and role ARNs can change; updatedAt is set."""
    check(c.ECR_REPOSITORY_PREFIX, ecr_repository_prefix)
    check(c.REGISTRY_ID, registry_id)
    check(c.CREDENTIAL_ARN, credential_arn)
    check(c.CUSTOM_ROLE_ARN, custom_role_arn)
    if not credential_arn and not custom_role_arn:
        # Quoted in pulumi/pulumi-aws#5714.
        raise InvalidParameterException(
            "Invalid input: Please set either credential arn or role arn to update the credentials"
        )
    rule = _get_rule(self, ecr_repository_prefix, registry_id)
    if credential_arn:
        _require_secret(self, credential_arn)
        rule.credential_arn = credential_arn
    if custom_role_arn:
        rule.custom_role_arn = custom_role_arn
    rule.updated_at = utcnow()
    return rule


def delete_pull_through_cache_rule(
    self: ECRBackend, ecr_repository_prefix: str, registry_id: str | None = None
) -> PullThroughCacheRule:
    """Deletes the rule only: repositories it created stay, as in ECR."""
    check(c.ECR_REPOSITORY_PREFIX, ecr_repository_prefix)
    check(c.REGISTRY_ID, registry_id)
    rule = _get_rule(self, ecr_repository_prefix, registry_id)
    del rules_of(self)[rule.ecr_repository_prefix.rstrip("/")]
    return rule


def _secret_failure(backend: ECRBackend, credential_arn: str) -> str | None:
    secret = find_secret(backend, credential_arn)
    if secret is None:
        return f"The secret '{credential_arn}' could not be found in Secrets Manager"
    sm = secretsmanager_backends[backend.account_id][backend.region_name]
    value = sm.get_secret_value(secret_id=secret.arn, version_id="", version_stage="")
    try:
        doc = json.loads(value.get("SecretString") or "")
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return (
            "The secret value is not valid JSON: it must be a JSON object with the keys "
            "'username' and 'accessToken'"
        )
    missing = [k for k in ("username", "accessToken") if not doc.get(k)]
    if missing:
        return "The secret value is missing the key(s): " + ", ".join(missing)
    return None


def validate_pull_through_cache_rule(
    self: ECRBackend, ecr_repository_prefix: str, registry_id: str | None = None
) -> dict[str, Any]:
    """isValid/failure for the rule's secret; never an exception for a bad secret (model).

    The sandbox cannot reach the upstream, so a well-formed secret counts as valid, and a rule
    without a secret (public upstream, or ECR with a role) is valid.
    """
    check(c.ECR_REPOSITORY_PREFIX, ecr_repository_prefix)
    check(c.REGISTRY_ID, registry_id)
    rule = _get_rule(self, ecr_repository_prefix, registry_id)
    failure = _secret_failure(self, rule.credential_arn) if rule.credential_arn else None
    result: dict[str, Any] = {
        "ecrRepositoryPrefix": rule.ecr_repository_prefix,
        "registryId": rule.registry_id,
        "upstreamRegistryUrl": rule.upstream_registry_url,
        "credentialArn": rule.credential_arn,
        "customRoleArn": rule.custom_role_arn,
        "upstreamRepositoryPrefix": rule.upstream_repository_prefix,
        "isValid": failure is None,
    }
    if failure is not None:
        result["failure"] = failure
    return {k: v for k, v in result.items() if v is not None}
